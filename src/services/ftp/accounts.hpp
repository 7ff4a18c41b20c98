// FTP accounts (docs/ftp.md): real users (own password and root, every
// permission), guests (a restricted root and a chosen permission set) and
// anonymous (any password, read-only, optionally an upload-only incoming
// folder). Passwords are stored only as argon2id hashes (libsodium's
// crypto_pwhash_str), which `sockit ftp passwd` prints.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::ftp {

enum Permission : std::uint32_t {
  kList = 1,
  kRead = 2,
  kWrite = 4,   // STOR and STOU: a new file, or a whole new content for one
  kAppend = 8,  // APPE, and STOR after REST
  kDelete = 16,
  kRename = 32,
  kMkdir = 64,  // MKD (RMD needs kDelete)
};
inline constexpr std::uint32_t kAllPermissions =
    kList | kRead | kWrite | kAppend | kDelete | kRename | kMkdir;

// "list" -> kList ...; nothing for an unknown name.
std::optional<Permission> parse_permission(std::string_view name);
const char* permission_name(Permission permission);

enum class AccountKind { real, guest, anonymous };
const char* kind_name(AccountKind kind);

struct Account {
  std::string name;  // the login name ("anonymous" for anonymous)
  AccountKind kind = AccountKind::real;
  std::string password_hash;  // argon2id; empty for anonymous
  std::string root;           // real directory the account sees as "/"
  std::uint32_t permissions = 0;
  std::string incoming;  // anonymous only: virtual path of the upload-only folder ("" = none)
};

class AccountBook {
 public:
  // Anonymous read-only on `root`, and nobody else.
  static AccountBook anonymous_only(const std::string& root);
  // Reads a TOML accounts file; `default_root` is the root of an account
  // that names none. Throws std::invalid_argument "FILE:LINE: what".
  static AccountBook load(const std::string& path, const std::string& default_root);
  static AccountBook parse(std::string_view toml_text, std::string_view source,
                           const std::string& default_root);

  // The account `user` logs into with `password`, if any. Slow on purpose
  // for real and guest accounts (argon2id); the same cost is paid for an
  // unknown name so timing does not tell which names exist.
  std::optional<Account> authenticate(std::string_view user, std::string_view password) const;
  bool anonymous_enabled() const { return anonymous_.has_value(); }
  const std::map<std::string, Account, std::less<>>& users() const { return users_; }

 private:
  static AccountBook read(std::string_view toml_text, std::string_view source,
                          const std::string& default_root);
  std::optional<Account> anonymous_;
  std::map<std::string, Account, std::less<>> users_;
};

// An argon2id hash of `password` (interactive limits). Throws on failure.
std::string hash_password(std::string_view password);
bool is_anonymous_name(std::string_view user);

}  // namespace sockit::ftp
