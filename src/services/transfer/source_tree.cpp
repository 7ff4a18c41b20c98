#include "services/transfer/source_tree.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace sockit::transfer {

namespace fs = std::filesystem;
using codec::transfer::EntryKind;

namespace {

// The name PATH is sent under: its last component ("a/b/" -> "b", "." -> the
// current directory's name).
std::string top_name(const std::string& path) {
  fs::path p = fs::path(path).lexically_normal();
  if (p.has_filename()) {
    auto name = p.filename().string();
    if (name != "." && name != "..") return name;
  }
  if (!p.has_filename() && p.has_parent_path() && p.parent_path().has_filename()) {
    auto name = p.parent_path().filename().string();
    if (name != "." && name != "..") return name;
  }
  return fs::weakly_canonical(fs::absolute(p)).filename().string();
}

class Collector {
 public:
  explicit Collector(SourceList& list) : list_(list) {}

  void add(const std::string& local, const std::string& name, bool top) {
    struct stat st {};
    if (::lstat(local.c_str(), &st) != 0) {
      if (top) throw std::invalid_argument(local + ": " + std::strerror(errno));
      list_.skipped.push_back(local + ": " + std::strerror(errno));
      return;
    }
    if (auto problem = codec::transfer::path_problem(name); !problem.empty()) {
      list_.skipped.push_back(local + ": the name " + problem);
      return;
    }
    if (S_ISLNK(st.st_mode) && !top) {
      list_.skipped.push_back(local + ": a symbolic link (not followed)");
      return;
    }
    // A PATH given on the command line may be a symlink: the user meant its target.
    if (S_ISLNK(st.st_mode) && ::stat(local.c_str(), &st) != 0)
      throw std::invalid_argument(local + ": " + std::strerror(errno));
    if (S_ISREG(st.st_mode)) {
      push(local, name, EntryKind::file, st);
      ++list_.files;
      list_.bytes += static_cast<std::uint64_t>(st.st_size);
    } else if (S_ISDIR(st.st_mode)) {
      push(local, name, EntryKind::directory, st);
      walk(local, name);
    } else {
      list_.skipped.push_back(local + ": not a regular file or directory");
    }
  }

 private:
  void push(const std::string& local, const std::string& name, EntryKind kind, const struct stat& st) {
    SourceEntry e;
    e.entry.id = static_cast<std::uint32_t>(list_.entries.size());
    e.entry.kind = kind;
    e.entry.mode = st.st_mode & 0777;
    e.entry.size = kind == EntryKind::file ? static_cast<std::uint64_t>(st.st_size) : 0;
    e.entry.mtime_sec = st.st_mtim.tv_sec;
    e.entry.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
    e.entry.path = name;
    e.local_path = local;
    list_.entries.push_back(std::move(e));
  }

  void walk(const std::string& local, const std::string& name) {
    std::error_code ec;
    fs::directory_iterator it(local, ec);
    if (ec) {
      list_.skipped.push_back(local + ": " + ec.message());
      return;
    }
    // Sorted, so a transfer (and a resumed one) always goes in the same order.
    std::vector<std::string> children;
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      children.push_back(it->path().filename().string());
    }
    std::sort(children.begin(), children.end());
    for (const auto& child : children) add(local + "/" + child, name + "/" + child, false);
  }

  SourceList& list_;
};

}  // namespace

SourceList collect_sources(const std::vector<std::string>& paths) {
  SourceList list;
  Collector collector(list);
  for (const auto& path : paths) collector.add(path, top_name(path), true);
  return list;
}

}  // namespace sockit::transfer
