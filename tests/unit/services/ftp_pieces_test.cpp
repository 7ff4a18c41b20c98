#include "services/ftp/accounts.hpp"
#include "services/ftp/ftp_config.hpp"
#include "services/ftp/xferlog.hpp"
#include "services/serve/serve_config.hpp"

#include <gtest/gtest.h>

using namespace sockit;

namespace {
std::string error_of(std::string_view toml) {
  try {
    ftp::AccountBook::parse(toml, "accounts.toml", "/srv");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

TEST(FtpAccounts, KindsPermissionsAndRoots) {
  auto hash = ftp::hash_password("pw");
  auto book = ftp::AccountBook::parse("[anonymous]\nincoming = \"up/\"\n[user.a]\npassword = \"" + hash +
                                          "\"\n[user.g]\nkind = \"guest\"\npassword = \"" + hash +
                                          "\"\nroot = \"/g\"\npermissions = [\"list\", \"write\"]\n",
                                      "t", "/srv");
  EXPECT_TRUE(book.anonymous_enabled());
  auto a = book.authenticate("a", "pw");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->root, "/srv");
  EXPECT_EQ(a->permissions, ftp::kAllPermissions);
  auto g = book.authenticate("g", "pw");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->kind, ftp::AccountKind::guest);
  EXPECT_EQ(g->permissions, ftp::kList | ftp::kWrite);
  EXPECT_FALSE(book.authenticate("g", "wrong"));
  EXPECT_FALSE(book.authenticate("nobody", "pw"));
  auto anonymous = book.authenticate("ftp", "anything");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->incoming, "/up");
  EXPECT_EQ(anonymous->permissions, ftp::kList | ftp::kRead);
}

TEST(FtpAccounts, MistakesAreOneLineErrors) {
  EXPECT_EQ(error_of("[user.a]\npassword = \"plain\"\n"),
            "accounts.toml:2: user.a.password: expected an argon2id hash (make one with: sockit ftp passwd)");
  EXPECT_NE(
      error_of("[user.a]\npassword = \"$argon2id$x\"\npermissions = [\"fly\"]\n").find("use list, read"),
      std::string::npos);
  EXPECT_NE(error_of("[anonymous]\nincoming = \"../x\"\n").find("anonymous.incoming"), std::string::npos);
  EXPECT_NE(error_of("[users.a]\n").find("unknown key"), std::string::npos);
  EXPECT_NE(error_of("").find("no account"), std::string::npos);
}

TEST(FtpConfig, PortRange) {
  ftp::FtpConfig config;
  ftp::parse_port_range("50000-50010", config);
  EXPECT_EQ(config.passive_min, 50000);
  EXPECT_EQ(config.passive_max, 50010);
  EXPECT_THROW(ftp::parse_port_range("10-20", config), std::invalid_argument);
  EXPECT_THROW(ftp::parse_port_range("60000-50000", config), std::invalid_argument);
  EXPECT_THROW(ftp::parse_port_range("50000", config), std::invalid_argument);
}

TEST(FtpConfig, ServeSection) {
  auto config = serve::parse_serve_config(R"(
[ftp.pub]
listen = ["127.0.0.1:0"]
root = "/srv/pub"
create_root = true
passive_ports = "50000-50100"
idle_timeout = 30
)",
                                          "t");
  ASSERT_EQ(config.ftp.size(), 1u);
  EXPECT_EQ(config.ftp[0].name, "pub");
  EXPECT_EQ(config.ftp[0].root, "/srv/pub");
  EXPECT_TRUE(config.ftp[0].create_root);
  EXPECT_EQ(config.ftp[0].passive_min, 50000);
  EXPECT_EQ(config.ftp[0].idle_timeout, std::chrono::seconds(30));
  EXPECT_THROW(serve::parse_serve_config("[ftp.x]\nlisten = [\"127.0.0.1:0\"]\n", "t"),
               std::invalid_argument);
  EXPECT_THROW(serve::parse_serve_config("[ftp.x]\nroot = \"/r\"\nmystery = 1\n", "t"),
               std::invalid_argument);
  auto builtin = serve::parse_serve_config(serve::default_serve_config(), "built-in");
  ASSERT_EQ(builtin.ftp.size(), 1u);  // ./share, anonymous read-only, loopback only
  EXPECT_EQ(builtin.ftp[0].listen, std::vector<std::string>{"127.0.0.1:2121"});
  EXPECT_EQ(builtin.ftp[0].root, "./share");
  EXPECT_TRUE(builtin.ftp[0].create_root);
  EXPECT_TRUE(builtin.ftp[0].accounts_file.empty());
}

TEST(FtpConfig, TlsKeys) {
  auto config = serve::parse_serve_config(R"(
[ftp.secure]
root = "/srv/pub"
tls_cert = "/etc/ftp.pem"
tls_key = "/etc/ftp.key"
require_tls = true
plain_anonymous = true
tls_timeout = 3
)",
                                          "t");
  ASSERT_EQ(config.ftp.size(), 1u);
  const auto& ftp = config.ftp[0];
  EXPECT_TRUE(ftp.tls());
  EXPECT_EQ(ftp.tls_cert, "/etc/ftp.pem");
  EXPECT_EQ(ftp.tls_key, "/etc/ftp.key");
  EXPECT_TRUE(ftp.require_tls);
  EXPECT_TRUE(ftp.plain_anonymous);
  EXPECT_EQ(ftp.tls_timeout, std::chrono::seconds(3));
  EXPECT_TRUE(
      serve::parse_serve_config("[ftp.s]\nroot = \"/r\"\ntls_self_signed = true\n", "t").ftp[0].tls());
  EXPECT_FALSE(serve::parse_serve_config("[ftp.s]\nroot = \"/r\"\n", "t").ftp[0].tls());
  auto error_of_section = [](const char* toml) -> std::string {
    try {
      serve::parse_serve_config(toml, "t");
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_NE(error_of_section("[ftp.s]\nroot = \"/r\"\nrequire_tls = true\n")
                .find("t: ftp.s: --require-tls needs TLS"),
            std::string::npos);
  EXPECT_NE(error_of_section("[ftp.s]\nroot = \"/r\"\ntls_cert = \"c\"\n").find("go together"),
            std::string::npos);
  EXPECT_NE(
      error_of_section("[ftp.s]\nroot = \"/r\"\ntls_self_signed = true\ntls_cert = \"c\"\ntls_key = \"k\"\n")
          .find("not both"),
      std::string::npos);
  EXPECT_NE(error_of_section("[ftp.s]\nroot = \"/r\"\ntls_self_signed = true\nplain_anonymous = true\n")
                .find("--plain-anonymous"),
            std::string::npos);
  EXPECT_NE(error_of_section("[ftp.s]\nroot = \"/r\"\ntls_timeout = 0\n").find("ftp.s.tls_timeout"),
            std::string::npos);
}

TEST(FtpXferlog, Format) {
  ftp::TransferRecord r;
  r.finished = 0;
  r.seconds = 2.6;
  r.remote_host = "127.0.0.1";
  r.bytes = 1024;
  r.path = "/a b.txt";
  r.user = "alice";
  auto line = ftp::format_xferlog(r);
  EXPECT_NE(line.find(" 3 127.0.0.1 1024 /a_b.txt b _ o r alice ftp 0 * c"), std::string::npos) << line;
}
