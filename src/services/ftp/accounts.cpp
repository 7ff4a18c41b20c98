#include "services/ftp/accounts.hpp"

#include "services/toml_config.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace sockit::ftp {

namespace {

constexpr std::pair<const char*, Permission> kNames[] = {
    {"list", kList},     {"read", kRead},     {"write", kWrite}, {"append", kAppend},
    {"delete", kDelete}, {"rename", kRename}, {"mkdir", kMkdir},
};

void init_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (::sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  });
}

// A hash no password matches, checked when the user name is unknown so the
// answer costs as much as for a real account.
const std::string& decoy_hash() {
  static const std::string hash = hash_password("sockit decoy: no account has this password");
  return hash;
}

bool verify(const std::string& hash, std::string_view password) {
  return ::crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

[[noreturn]] void fail(std::string_view source, const toml::node* node, const std::string& what) {
  std::string where(source);
  if (node) where += ":" + std::to_string(node->source().begin.line);
  throw std::invalid_argument(where + ": " + what);
}

std::string string_of(std::string_view source, const toml::table& table, std::string_view key,
                      const std::string& prefix) {
  const auto* node = table.get(key);
  if (!node) return {};
  if (!node->is_string()) fail(source, node, prefix + std::string(key) + ": expected a string");
  return *node->value<std::string>();
}

void check_keys(std::string_view source, const toml::table& table, const std::string& prefix,
                std::initializer_list<std::string_view> known) {
  for (const auto& [key, node] : table) {
    bool ok = false;
    for (auto k : known) ok = ok || key.str() == k;
    if (!ok) fail(source, &node, prefix + std::string(key.str()) + ": unknown key");
  }
}

Account read_user(std::string_view source, const std::string& name, const toml::table& table,
                  const std::string& default_root) {
  std::string prefix = "user." + name + ".";
  check_keys(source, table, prefix, {"password", "root", "kind", "permissions"});
  Account account;
  account.name = name;
  if (is_anonymous_name(name)) fail(source, &table, prefix + ": anonymous is configured in [anonymous]");
  account.password_hash = string_of(source, table, "password", prefix);
  if (!account.password_hash.starts_with("$argon2id$"))
    fail(source, table.get("password") ? table.get("password") : &table,
         prefix + "password: expected an argon2id hash (make one with: sockit ftp passwd)");
  account.root = string_of(source, table, "root", prefix);
  if (account.root.empty()) account.root = default_root;
  if (account.root.empty()) fail(source, &table, prefix + "root: required (no --root to fall back on)");
  std::string kind = string_of(source, table, "kind", prefix);
  if (kind.empty() || kind == "real") {
    account.kind = AccountKind::real;
    account.permissions = kAllPermissions;
  } else if (kind == "guest") {
    account.kind = AccountKind::guest;
    account.permissions = kList | kRead;
  } else {
    fail(source, table.get("kind"), prefix + "kind: expected \"real\" or \"guest\"");
  }
  if (const auto* node = table.get("permissions")) {
    const auto* array = node->as_array();
    if (!array) fail(source, node, prefix + "permissions: expected an array such as [\"list\", \"read\"]");
    account.permissions = 0;
    for (const auto& item : *array) {
      auto permission = item.is_string() ? parse_permission(*item.value<std::string>()) : std::nullopt;
      if (!permission)
        fail(source, &item, prefix + "permissions: use list, read, write, append, delete, rename or mkdir");
      account.permissions |= *permission;
    }
  }
  return account;
}

}  // namespace

std::optional<Permission> parse_permission(std::string_view name) {
  for (auto [text, permission] : kNames)
    if (name == text) return permission;
  return std::nullopt;
}

const char* permission_name(Permission permission) {
  for (auto [text, p] : kNames)
    if (p == permission) return text;
  return "?";
}

const char* kind_name(AccountKind kind) {
  switch (kind) {
    case AccountKind::real:
      return "real";
    case AccountKind::guest:
      return "guest";
    case AccountKind::anonymous:
      return "anonymous";
  }
  return "?";
}

bool is_anonymous_name(std::string_view user) {
  return user == "anonymous" || user == "ftp";
}

std::string hash_password(std::string_view password) {
  init_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (::crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("out of memory while hashing the password");
  return out;
}

AccountBook AccountBook::anonymous_only(const std::string& root) {
  AccountBook book;
  Account anonymous;
  anonymous.name = "anonymous";
  anonymous.kind = AccountKind::anonymous;
  anonymous.root = root;
  anonymous.permissions = kList | kRead;
  book.anonymous_ = anonymous;
  return book;
}

AccountBook AccountBook::parse(std::string_view toml_text, std::string_view source,
                               const std::string& default_root) {
  return services::with_one_line_errors([&] { return read(toml_text, source, default_root); });
}

AccountBook AccountBook::read(std::string_view toml_text, std::string_view source,
                              const std::string& default_root) {
  init_sodium();
  auto root = services::parse_toml(toml_text, source);
  check_keys(source, root, "", {"anonymous", "user"});
  AccountBook book;
  if (const auto* node = root.get("anonymous")) {
    const auto* table = node->as_table();
    if (!table) fail(source, node, "anonymous: expected a table [anonymous]");
    check_keys(source, *table, "anonymous.", {"enabled", "root", "incoming"});
    bool enabled = true;
    if (const auto* e = table->get("enabled")) {
      if (!e->is_boolean()) fail(source, e, "anonymous.enabled: expected true or false");
      enabled = *e->value<bool>();
    }
    if (enabled) {
      Account anonymous;
      anonymous.name = "anonymous";
      anonymous.kind = AccountKind::anonymous;
      anonymous.root = string_of(source, *table, "root", "anonymous.");
      if (anonymous.root.empty()) anonymous.root = default_root;
      if (anonymous.root.empty()) fail(source, node, "anonymous.root: required (no --root to fall back on)");
      anonymous.permissions = kList | kRead;
      auto incoming = string_of(source, *table, "incoming", "anonymous.");
      if (!incoming.empty()) {
        while (incoming.ends_with('/')) incoming.pop_back();
        if (incoming.find("..") != std::string::npos || incoming.empty())
          fail(source, table->get("incoming"),
               "anonymous.incoming: a folder inside the root, e.g. \"incoming\"");
        anonymous.incoming = incoming.starts_with('/') ? incoming : "/" + incoming;
      }
      book.anonymous_ = anonymous;
    }
  }
  if (const auto* node = root.get("user")) {
    const auto* users = node->as_table();
    if (!users) fail(source, node, "user: expected tables [user.NAME]");
    for (const auto& [name, entry] : *users) {
      if (!entry.is_table()) fail(source, &entry, "user." + std::string(name.str()) + ": expected a table");
      book.users_.emplace(std::string(name.str()),
                          read_user(source, std::string(name.str()), *entry.as_table(), default_root));
    }
  }
  if (!book.anonymous_ && book.users_.empty())
    throw std::invalid_argument(std::string(source) + ": no account: add [user.NAME] tables or [anonymous]");
  return book;
}

AccountBook AccountBook::load(const std::string& path, const std::string& default_root) {
  return parse(services::read_config_file(path, "the accounts file"), path, default_root);
}

std::optional<Account> AccountBook::authenticate(std::string_view user, std::string_view password) const {
  if (is_anonymous_name(user)) return anonymous_;
  auto found = users_.find(user);
  if (found == users_.end()) {
    verify(decoy_hash(), password);
    return std::nullopt;
  }
  if (!verify(found->second.password_hash, password)) return std::nullopt;
  return found->second;
}

}  // namespace sockit::ftp
