// Names and directories: PWD CWD CDUP MKD RMD DELE RNFR RNTO SIZE MDTM MLST
// STAT, and the permission checks every command shares.
#include "codec/ftp/listing.hpp"
#include "codec/ftp/path.hpp"
#include "codec/ftp/reply.hpp"
#include "services/ftp/session.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

namespace sockit::ftp {
namespace asio = boost::asio;
using asio::awaitable;

std::optional<std::string> Session::path_or_reply(const std::string& arg) {
  if (arg.empty()) {
    say(501, "Give a file or directory name.");
    return std::nullopt;
  }
  auto path = codec::ftp::resolve_path(cwd_, arg);
  if (!path) say(553, "File name not allowed (too long or holds a NUL byte).");
  return path;
}

std::optional<std::string> Session::denied(Permission permission, const char* action) const {
  if (account_ && (account_->permissions & permission)) return std::nullopt;
  const char* kind = account_ ? kind_name(account_->kind) : "this";
  return std::string("Permission denied: ") + kind + " accounts may not " + action + ".";
}

bool Session::in_incoming(const std::string& path) const {
  return account_ && !account_->incoming.empty() && codec::ftp::is_within(path, account_->incoming) &&
         path != account_->incoming;
}

bool Session::is_incoming_directory(int directory_fd) const {
  struct stat st {};
  return incoming_id_ && ::fstat(directory_fd, &st) == 0 && st.st_dev == incoming_id_->first &&
         st.st_ino == incoming_id_->second;
}

std::string Session::perm_facts(const codec::ftp::FileFacts& facts) const {
  auto p = account_ ? account_->permissions : 0u;
  std::string perm;
  if (facts.kind == codec::ftp::FileFacts::Kind::directory) {
    perm += 'e';
    if (p & kList) perm += 'l';
    if (p & kWrite) perm += 'c';
    if (p & kMkdir) perm += 'm';
    if (p & kDelete) perm += 'd';
    if (p & kRename) perm += 'f';
  } else {
    if (p & kRead) perm += 'r';
    if (p & kAppend) perm += 'a';
    if (p & kWrite) perm += 'w';
    if (p & kDelete) perm += 'd';
    if (p & kRename) perm += 'f';
  }
  return perm;
}

awaitable<void> Session::cmd_pwd(std::string) {
  say(257, "\"" + codec::ftp::quote_path(cwd_) + "\" is the current directory.");
  co_return;
}

awaitable<void> Session::cmd_cwd(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  std::error_code ec;
  auto dir = jail_->open_directory(*path, ec);
  if (!dir) co_return say(550, "Failed to change directory: " + describe_error(ec) + ".");
  cwd_ = *path;
  say(250, "Directory successfully changed.");
}

awaitable<void> Session::cmd_cdup(std::string) {
  std::string up = "..";
  co_await cmd_cwd(std::move(up));
}

awaitable<void> Session::cmd_mkd(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (auto why = denied(kMkdir, "create directories")) co_return say(550, *why);
  auto ec = jail_->make_directory(*path);
  if (ec) co_return say(550, "Create directory failed: " + describe_error(ec) + ".");
  spdlog::info("{} event=mkdir path=\"{}\"", log_prefix(), codec::ftp::one_line(*path));
  say(257, "\"" + codec::ftp::quote_path(*path) + "\" created.");
}

awaitable<void> Session::cmd_rmd(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (auto why = denied(kDelete, "remove directories")) co_return say(550, *why);
  if (*path == "/") co_return say(550, "Remove directory failed: that is your root.");
  auto ec = jail_->remove_directory(*path);
  if (ec) co_return say(550, "Remove directory failed: " + describe_error(ec) + ".");
  spdlog::info("{} event=rmdir path=\"{}\"", log_prefix(), codec::ftp::one_line(*path));
  say(250, "Remove directory operation successful.");
}

awaitable<void> Session::cmd_dele(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (auto why = denied(kDelete, "delete files")) co_return say(550, *why);
  auto ec = jail_->remove_file(*path);
  if (ec) co_return say(550, "Delete operation failed: " + describe_error(ec) + ".");
  spdlog::info("{} event=delete path=\"{}\"", log_prefix(), codec::ftp::one_line(*path));
  say(250, "Delete operation successful.");
}

awaitable<void> Session::cmd_rnfr(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (auto why = denied(kRename, "rename")) co_return say(550, *why);
  std::error_code ec;
  jail_->stat_entry(*path, ec);
  if (ec) co_return say(550, "RNFR failed: " + describe_error(ec) + ".");
  rename_from_ = *path;
  say(350, "Ready for RNTO.");
}

awaitable<void> Session::cmd_rnto(std::string arg) {
  if (!rename_from_) co_return say(503, "RNFR required first.");
  auto from = std::move(*rename_from_);
  rename_from_.reset();
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (auto why = denied(kRename, "rename")) co_return say(550, *why);
  std::error_code ec;
  jail_->stat_entry(*path, ec);
  // Renaming onto an existing name removes that file: it takes delete too.
  if (!ec) {
    if (auto why = denied(kDelete, "replace existing files")) co_return say(550, *why);
  }
  ec = jail_->rename(from, *path);
  if (ec) co_return say(550, "Rename failed: " + describe_error(ec) + ".");
  spdlog::info("{} event=rename from=\"{}\" to=\"{}\"", log_prefix(), codec::ftp::one_line(from),
               codec::ftp::one_line(*path));
  say(250, "Rename successful.");
}

awaitable<void> Session::cmd_size(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (in_incoming(*path)) co_return say(550, "Permission denied: the incoming folder is upload-only.");
  std::error_code ec;
  auto st = jail_->stat_target(*path, ec);
  if (ec) co_return say(550, "Could not get file size: " + describe_error(ec) + ".");
  if (!S_ISREG(st.st_mode)) co_return say(550, "Could not get file size: not a plain file.");
  say(213, std::to_string(st.st_size));
}

awaitable<void> Session::cmd_mdtm(std::string arg) {
  auto path = path_or_reply(arg);
  if (!path) co_return;
  if (in_incoming(*path)) co_return say(550, "Permission denied: the incoming folder is upload-only.");
  std::error_code ec;
  auto st = jail_->stat_target(*path, ec);
  if (ec) co_return say(550, "Could not get modification time: " + describe_error(ec) + ".");
  say(213, codec::ftp::format_time(st.st_mtim.tv_sec));
}

awaitable<void> Session::cmd_mlst(std::string arg) {
  auto path = codec::ftp::resolve_path(cwd_, arg);
  if (!path) co_return say(553, "File name not allowed.");
  if (auto why = denied(kList, "list")) co_return say(550, *why);
  if (in_incoming(*path)) co_return say(550, "Permission denied: the incoming folder is upload-only.");
  std::error_code ec;
  auto st = jail_->stat_target(*path, ec);
  if (ec) co_return say(550, "MLST failed: " + describe_error(ec) + ".");
  auto facts = Jail::facts_of(*path, st);
  std::vector<std::string> body{codec::ftp::format_facts(facts, perm_facts(facts))};
  say_raw(codec::ftp::format_multiline(250, "Listing " + *path, body, "End"));
}

awaitable<void> Session::cmd_stat(std::string arg) {
  if (arg.empty()) {
    std::vector<std::string> body{
        "Connected to " + peer_,
        "Logged in as " +
            (account_ ? *user_ + " (" + kind_name(account_->kind) + ")" : std::string("nobody")),
        std::string("TYPE: ") + (binary_ ? "BINARY" : "ASCII") + ", MODE: S, STRU: F",
        std::string("Data connection: ") +
            (data_.ready() ? (data_.passive() ? "passive" : "active") : "none"),
        tls_status()};
    co_return say_raw(codec::ftp::format_multiline(211, "sockit FTP server status:", body, "End of status"));
  }
  if (!account_) co_return say(530, "Please log in with USER and PASS.");
  // STAT PATH: the LIST lines, over the control connection (RFC 959).
  while (arg.starts_with('-')) {
    auto space = arg.find(' ');
    arg = space == std::string::npos ? std::string() : arg.substr(space + 1);
  }
  auto path = codec::ftp::resolve_path(cwd_, arg);
  if (!path) co_return say(553, "File name not allowed.");
  if (auto why = denied(kList, "list")) co_return say(550, *why);
  std::error_code ec;
  auto dir = jail_->open_directory(*path, ec);
  std::vector<std::string> lines;
  auto now = static_cast<std::int64_t>(std::time(nullptr));
  if (dir) {
    if (is_incoming_directory(dir.get()))
      co_return say(550, "Permission denied: the incoming folder is upload-only.");
    for (const auto& facts : Jail::list(dir.get(), ec))
      lines.push_back(codec::ftp::format_list_line(facts, now));
  } else {
    ec.clear();
    auto st = jail_->stat_entry(*path, ec);
    if (ec) co_return say(550, "STAT failed: " + describe_error(ec) + ".");
    lines.push_back(
        codec::ftp::format_list_line(Jail::facts_of(std::string(codec::ftp::leaf_name(*path)), st), now));
  }
  say_raw(codec::ftp::format_multiline(213, "Status follows:", lines, "End of status"));
}

}  // namespace sockit::ftp
