#include "services/serve/serve_config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

using sockit::serve::parse_serve_config;

namespace {
std::string error_of(std::string_view text) {
  try {
    parse_serve_config(text, "test.toml");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

TEST(ServeConfig, DefaultRunsEchoOnLoopbackTcpAndUdp) {
  auto config = parse_serve_config(sockit::serve::default_serve_config(), "built-in");
  ASSERT_EQ(config.echo.size(), 1u);
  EXPECT_EQ(config.echo[0].name, "main");
  EXPECT_EQ(config.echo[0].tcp, std::vector<std::string>{"127.0.0.1:7007"});
  EXPECT_EQ(config.echo[0].udp, std::vector<std::string>{"127.0.0.1:7007"});
  EXPECT_EQ(config.supervisor.shutdown_grace, std::chrono::seconds(5));
}

TEST(ServeConfig, SeveralInstancesWithTheirOwnSettings) {
  auto config = parse_serve_config(R"(
[echo.plain]
tcp = ["127.0.0.1:0"]
[echo.greeter]
unix = ["/tmp/g.sock"]
reply = "Hi {msg}"
idle_timeout = 7
max_per_ip = 3
)",
                                   "t");
  ASSERT_EQ(config.echo.size(), 2u);
  const auto& greeter = config.echo[0].name == "greeter" ? config.echo[0] : config.echo[1];
  EXPECT_EQ(greeter.mode, sockit::echo::Mode::reply);
  EXPECT_EQ(greeter.reply_template, "Hi {msg}");
  EXPECT_EQ(greeter.idle_timeout, std::chrono::seconds(7));
  EXPECT_EQ(greeter.max_per_ip, 3u);
}

TEST(ServeConfig, ErrorsNameFileLineAndKey) {
  auto typo = error_of("[echo.main]\ntcp = [\"127.0.0.1:0\"]\nmdoe = \"upper\"\n");
  EXPECT_NE(typo.find("test.toml:3: echo.main.mdoe: unknown key"), std::string::npos) << typo;
  auto type = error_of("[echo.main]\ntcp = \"127.0.0.1:0\"\n");
  EXPECT_NE(type.find("echo.main.tcp"), std::string::npos) << type;
  auto range = error_of("[echo.main]\ntcp = [\"h:0\"]\nidle_timeout = 0\n");
  EXPECT_NE(range.find("idle_timeout: must be between"), std::string::npos) << range;
  auto syntax = error_of("[echo.main\n");
  EXPECT_NE(syntax.find("test.toml:1"), std::string::npos) << syntax;
  auto port = error_of("[echo.main]\ntcp = [\"h:99999\"]\n");
  EXPECT_NE(port.find("test.toml:2: echo.main.tcp: bad port '99999'"), std::string::npos) << port;
  auto wrong = error_of("[echo.main]\nudp = [\"tcp://h:1\"]\n");
  EXPECT_NE(wrong.find("echo.main.udp: 'tcp://h:1' is not a udp address"), std::string::npos) << wrong;
  EXPECT_NE(error_of("").find("no service"), std::string::npos);
  EXPECT_NE(error_of("[echo.m]\ntcp=[\"h:1\"]\nmode=\"upper\"\nreply=\"x\"\n").find("not both"),
            std::string::npos);
}

TEST(ServeConfig, ErrorsAreOneLine) {
  for (auto text : {"[echo.main\n", "[echo.main]\nmdoe=1\n", "x = 1\n"})
    EXPECT_EQ(error_of(text).find('\n'), std::string::npos) << error_of(text);
}

TEST(ServeConfig, DefaultHasExecThatWaitsForAToken) {
  auto config = parse_serve_config(sockit::serve::default_serve_config(), "built-in");
  ASSERT_EQ(config.exec.size(), 1u);
  EXPECT_EQ(config.exec[0].listen, std::vector<std::string>{"127.0.0.1:7022"});
  EXPECT_TRUE(config.exec[0].skip_without_token);
  ::unsetenv("SOCKIT_TOKEN");
  config.exec[0].token_file = "/nonexistent/sockit/exec.token";
  sockit::serve::resolve_exec_tokens(config);
  EXPECT_TRUE(config.exec.empty());  // skipped, not an error
}

TEST(ServeConfig, ExecSectionKeysAndTheirErrors) {
  auto config = parse_serve_config(R"(
[exec.admin]
listen = ["unix:/tmp/admin.sock"]
shell = false
allow = ["uptime", "df"]
timeout = 30
max_output = 1000000
if_no_token = "fail"
)",
                                   "t");
  ASSERT_EQ(config.exec.size(), 1u);
  EXPECT_FALSE(config.exec[0].shell);
  EXPECT_EQ(config.exec[0].allow, (std::vector<std::string>{"uptime", "df"}));
  EXPECT_EQ(config.exec[0].timeout, std::chrono::seconds(30));
  EXPECT_EQ(config.exec[0].max_output, 1000000u);
  ::unsetenv("SOCKIT_TOKEN");
  EXPECT_THROW(sockit::serve::resolve_exec_tokens(config), std::invalid_argument);  // fail: no token
  ::setenv("SOCKIT_TOKEN", "0123456789abcdef0123", 1);
  sockit::serve::resolve_exec_tokens(config);
  EXPECT_EQ(config.exec[0].token, "0123456789abcdef0123");
  EXPECT_EQ(::getenv("SOCKIT_TOKEN"), nullptr);  // commands never see it

  EXPECT_EQ(error_of("[exec.x]\nshel = true\n"), "test.toml:2: exec.x.shel: unknown key");
  EXPECT_EQ(error_of("[exec.x]\nshell = 1\n"), "test.toml:2: exec.x.shell: expected true or false");
  EXPECT_EQ(error_of("[exec.x]\nif_no_token = \"maybe\"\n"),
            "test.toml:2: exec.x.if_no_token: expected \"fail\" or \"skip\"");
}

TEST(ServeConfig, DropFolderIsOffByDefaultAndReadWhenConfigured) {
  EXPECT_TRUE(parse_serve_config(sockit::serve::default_serve_config(), "built-in").recv.empty());
  auto config = parse_serve_config("[recv.in]\ndir = \"/srv/in\"\nstall_timeout = 5\ntls_self_signed = true\n", "t");
  ASSERT_EQ(config.recv.size(), 1u);
  EXPECT_EQ(config.recv[0].name, "in");
  EXPECT_EQ(config.recv[0].dir, "/srv/in");
  EXPECT_EQ(config.recv[0].listen, std::vector<std::string>{"127.0.0.1:7023"});
  EXPECT_EQ(config.recv[0].stall_timeout, std::chrono::seconds(5));
  EXPECT_TRUE(config.recv[0].tls_self_signed);
  EXPECT_FALSE(config.recv[0].overwrite);
}

TEST(ServeConfig, DropFolderNeedsADirAndTcp) {
  EXPECT_NE(error_of("[recv.in]\nlisten = [\"127.0.0.1:7023\"]\n").find("recv.in.dir"), std::string::npos);
  EXPECT_NE(error_of("[recv.in]\ndir = \"x\"\nlisten = [\"udp://127.0.0.1:7023\"]\n").find("TCP"),
            std::string::npos);
  EXPECT_NE(error_of("[recv.in]\ndir = \"x\"\nmax_per_ip = 0\n").find("max_per_ip"), std::string::npos);
  EXPECT_NE(error_of("[recv.in]\ndir = \"x\"\nsize = 1\n").find("size"), std::string::npos);
}
