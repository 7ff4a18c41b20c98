// The receiving directory's confinement and the digest, on a real file system.
#include "services/transfer/destination.hpp"
#include "services/transfer/digest.hpp"
#include "services/transfer/source_tree.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace sockit::transfer;
using sockit::codec::transfer::DigestKind;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("sockit-transfer-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_all(int fd, std::string_view bytes) {
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
}

}  // namespace

TEST(Destination, WritesToAPartThenRenames) {
  auto top = fresh_dir("commit");
  Destination dest((top / "in").string(), false);  // created
  std::error_code ec;
  Fd part = dest.open_part("a/b/f.txt", 0, ec);
  ASSERT_FALSE(ec) << ec.message();
  write_all(part.get(), "hello");
  EXPECT_TRUE(fs::exists(top / "in/a/b/.f.txt.sockit-part"));
  EXPECT_FALSE(fs::exists(top / "in/a/b/f.txt"));
  ASSERT_FALSE(dest.commit("a/b/f.txt", part.get(), 0640, 1'600'000'000, 5));
  EXPECT_EQ(read_all(top / "in/a/b/f.txt"), "hello");
  EXPECT_FALSE(fs::exists(top / "in/a/b/.f.txt.sockit-part"));
  EXPECT_EQ(fs::status(top / "in/a/b/f.txt").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
}

TEST(Destination, NeverReplacesWithoutOverwrite) {
  auto top = fresh_dir("noreplace");
  std::ofstream(top / "f") << "mine";
  Destination dest(top.string(), false);
  std::error_code ec;
  Found found = dest.find("f", ec);
  EXPECT_EQ(found.kind, Found::Kind::final_file);
  EXPECT_EQ(found.size, 4u);
  Fd part = dest.open_part("f", 0, ec);
  write_all(part.get(), "theirs");
  EXPECT_EQ(dest.commit("f", part.get(), 0644, 0, 0).value(), EEXIST);
  EXPECT_EQ(read_all(top / "f"), "mine");

  Destination replacing(top.string(), true);
  EXPECT_NE(replacing.find("f", ec).kind, Found::Kind::final_file);  // overwrite: the final file does not count
  EXPECT_FALSE(replacing.commit("f", part.get(), 0644, 0, 0));
  EXPECT_EQ(read_all(top / "f"), "theirs");
}

TEST(Destination, AResumablePartIsFoundAndCutToTheOffset) {
  auto top = fresh_dir("part");
  Destination dest(top.string(), false);
  std::error_code ec;
  {
    Fd part = dest.open_part("f", 0, ec);
    write_all(part.get(), "0123456789");
  }
  Found found = dest.find("f", ec);
  EXPECT_EQ(found.kind, Found::Kind::part);
  EXPECT_EQ(found.size, 10u);
  Fd part = dest.open_part("f", 4, ec);
  EXPECT_EQ(fs::file_size(top / ".f.sockit-part"), 4u);
}

TEST(Destination, ASymlinkInsideCannotLeadOutside) {
  auto top = fresh_dir("symlink");
  auto outside = fresh_dir("outside");
  fs::create_directories(top / "in");
  fs::create_directory_symlink(outside, top / "in/link");
  Destination dest((top / "in").string(), false);
  std::error_code ec;
  dest.find("link/x", ec);
  EXPECT_TRUE(ec);
  ec.clear();
  dest.open_part("link/deeper/x", 0, ec);
  EXPECT_TRUE(ec);
  EXPECT_TRUE(dest.make_directory("link/sub"));
  EXPECT_TRUE(fs::is_empty(outside));  // nothing made there, not even a directory
}

TEST(Destination, AnInsideSymlinkToInsideIsFollowed) {
  auto top = fresh_dir("inside-link");
  fs::create_directories(top / "real");
  fs::create_directory_symlink("real", top / "alias");
  Destination dest(top.string(), false);
  std::error_code ec;
  Fd part = dest.open_part("alias/f", 0, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(fs::exists(top / "real/.f.sockit-part"));
}

TEST(Digest, MatchesAcrossPiecesAndPrefixes) {
  for (auto kind : {DigestKind::xxh3_128, DigestKind::sha256}) {
    Digest whole(kind), pieces(kind);
    std::string data(100000, 'x');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    whole.update(data);
    pieces.update(std::string_view(data).substr(0, 333));
    pieces.update(std::string_view(data).substr(333));
    EXPECT_EQ(whole.value(), pieces.value());
    EXPECT_EQ(whole.value().size(), kind == DigestKind::sha256 ? 32u : 16u);

    auto file = fresh_dir("digest") / "f";
    std::ofstream(file, std::ios::binary) << data;
    Fd fd(::open(file.c_str(), O_RDONLY));
    Digest prefix(kind);
    ASSERT_FALSE(digest_file_prefix(fd.get(), 333, prefix));
    prefix.update(std::string_view(data).substr(333));
    EXPECT_EQ(prefix.value(), whole.value());
    Digest too_long(kind);
    EXPECT_TRUE(digest_file_prefix(fd.get(), data.size() + 1, too_long));  // the file is shorter
  }
}

TEST(Digest, KnownValue) {
  Digest sha(DigestKind::sha256);
  sha.update(std::string_view("abc"));
  EXPECT_EQ(to_hex(sha.value()), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(SourceTree, NamesEntriesAsTheReceiverWill) {
  auto top = fresh_dir("sources");
  fs::create_directories(top / "photos/2024");
  std::ofstream(top / "photos/2024/a.jpg") << "aaa";
  std::ofstream(top / "photos/b.jpg") << "bb";
  std::ofstream(top / "note.txt") << "n";
  fs::create_symlink("/etc/passwd", top / "photos/link");
  auto list = collect_sources({(top / "photos/").string(), (top / "note.txt").string()});
  std::vector<std::string> names;
  for (const auto& e : list.entries) names.push_back(e.entry.path);
  EXPECT_EQ(names, (std::vector<std::string>{"photos", "photos/2024", "photos/2024/a.jpg", "photos/b.jpg",
                                             "note.txt"}));
  EXPECT_EQ(list.files, 3u);
  EXPECT_EQ(list.bytes, 6u);
  ASSERT_EQ(list.skipped.size(), 1u);  // the symlink
  EXPECT_NE(list.skipped[0].find("symbolic link"), std::string::npos);
  EXPECT_THROW(collect_sources({(top / "missing").string()}), std::invalid_argument);
}

TEST(Destination, OnePartFileHasOneWriter) {
  auto top = fresh_dir("lock");
  Destination first(top.string(), false), second(top.string(), false);
  std::error_code ec;
  Fd held = first.open_part("f", 0, ec);
  ASSERT_FALSE(ec);
  Fd refused = second.open_part("f", 0, ec);
  EXPECT_EQ(ec, std::errc::device_or_resource_busy);
  held = Fd();  // released with the descriptor
  ec.clear();
  Fd now = second.open_part("f", 0, ec);
  EXPECT_FALSE(ec);
}
