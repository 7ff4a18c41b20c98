// The exec service's pure pieces: tokens, the failure throttle, known
// hosts, RUN to command, config checks, fingerprints.
#include "net/tls.hpp"
#include "services/exec/command_line.hpp"
#include "services/exec/exec_config.hpp"
#include "services/known_hosts.hpp"
#include "services/exec/token.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace {

using namespace sockit::exec;
using sockit::services::check_known_host;
using sockit::services::HostCheck;
using ExecRun = sockit::codec::exec::Run;
using sockit::codec::exec::RunForm;

std::filesystem::path temp_dir(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("sockit-unit-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(TokenVerifier, MatchesOnlyTheSameBytes) {
  TokenVerifier verifier("correct horse battery staple");
  EXPECT_TRUE(verifier.matches("correct horse battery staple"));
  EXPECT_FALSE(verifier.matches("correct horse battery stapl"));
  EXPECT_FALSE(verifier.matches("correct horse battery staple "));
  EXPECT_FALSE(verifier.matches(""));
}

TEST(LoadToken, FileWinsAndTrailingNewlineIsDropped) {
  auto dir = temp_dir("token");
  std::ofstream(dir / "t") << "secret-secret-secret\r\n";
  ::setenv("SOCKIT_TOKEN", "from-environment-xx", 1);
  EXPECT_EQ(load_token((dir / "t").string()), "secret-secret-secret");
  EXPECT_EQ(load_token(""), "from-environment-xx");
  ::unsetenv("SOCKIT_TOKEN");
  EXPECT_EQ(load_token(""), std::nullopt);
  std::ofstream(dir / "empty") << "\n";
  EXPECT_THROW(load_token((dir / "empty").string()), std::invalid_argument);
  EXPECT_THROW(load_token((dir / "missing").string()), std::invalid_argument);
}

TEST(AuthThrottle, LocksOutAfterMaxFailuresAndForgetsAfterTheWindow) {
  AuthThrottle throttle(3, std::chrono::minutes(10));
  auto t0 = AuthThrottle::Clock::now();
  EXPECT_FALSE(throttle.locked_out("10.0.0.1", t0));
  EXPECT_EQ(throttle.record_failure("10.0.0.1", t0), 1u);
  EXPECT_EQ(throttle.record_failure("10.0.0.1", t0), 2u);
  EXPECT_FALSE(throttle.locked_out("10.0.0.1", t0));
  EXPECT_EQ(throttle.record_failure("10.0.0.1", t0), 3u);
  EXPECT_TRUE(throttle.locked_out("10.0.0.1", t0 + std::chrono::minutes(9)));
  EXPECT_FALSE(throttle.locked_out("10.0.0.2", t0));  // per address
  EXPECT_FALSE(throttle.locked_out("10.0.0.1", t0 + std::chrono::minutes(11)));
}

TEST(AuthThrottle, SuccessClearsTheCount) {
  AuthThrottle throttle(2, std::chrono::minutes(10));
  throttle.record_failure("ip");
  throttle.record_success("ip");
  EXPECT_EQ(throttle.record_failure("ip"), 1u);
  EXPECT_FALSE(throttle.locked_out("ip"));
}

TEST(KnownHosts, RecordsThenAcceptsThenRefusesAChange) {
  auto file = (temp_dir("known") / "sub" / "known_hosts").string();
  EXPECT_EQ(check_known_host(file, "h:1", "AA:BB").check, HostCheck::recorded);
  EXPECT_EQ(check_known_host(file, "h:1", "AA:BB").check, HostCheck::known);
  EXPECT_EQ(check_known_host(file, "h:2", "CC").check, HostCheck::recorded);
  auto changed = check_known_host(file, "h:1", "DD:EE");
  EXPECT_EQ(changed.check, HostCheck::changed);
  EXPECT_EQ(changed.recorded_fingerprint, "AA:BB");
}

ExecConfig config_with(bool shell, std::vector<std::string> allow = {}) {
  ExecConfig config;
  config.shell = shell;
  config.allow = std::move(allow);
  return config;
}

TEST(PrepareCommand, ShellJoinsArgumentsAsSshDoes) {
  auto result = prepare_command(ExecRun{RunForm::argv, {"echo", "a b", "c"}}, config_with(true), "/bin");
  auto& command = std::get<PreparedCommand>(result);
  EXPECT_EQ(command.program, "/bin/sh");
  EXPECT_EQ(command.args, (std::vector<std::string>{"-c", "echo a b c"}));
}

TEST(PrepareCommand, NoShellFindsTheProgramOnPathAndKeepsArgumentsAsTheyAre) {
  auto result =
      prepare_command(ExecRun{RunForm::argv, {"sh", "$HOME", "a b"}}, config_with(false), "/nowhere:/bin");
  auto& command = std::get<PreparedCommand>(result);
  EXPECT_EQ(command.program, "/bin/sh");
  EXPECT_EQ(command.args, (std::vector<std::string>{"$HOME", "a b"}));
  auto line =
      prepare_command(ExecRun{RunForm::command_line, {"  sh  -c   true "}}, config_with(false), "/bin");
  EXPECT_EQ(std::get<PreparedCommand>(line).args, (std::vector<std::string>{"-c", "true"}));
}

TEST(PrepareCommand, RefusesWhatIsNotAllowedOrNotFound) {
  auto refused =
      prepare_command(ExecRun{RunForm::argv, {"rm", "-rf", "/"}}, config_with(false, {"echo"}), "/bin");
  EXPECT_EQ(std::get<Refusal>(refused).exit_code, 126);
  auto by_path = prepare_command(ExecRun{RunForm::argv, {"/bin/echo"}}, config_with(false, {"echo"}), "/bin");
  EXPECT_EQ(std::get<Refusal>(by_path).exit_code, 126);  // a listed name is not any path
  auto missing = prepare_command(ExecRun{RunForm::argv, {"no-such-program-x"}}, config_with(false), "/bin");
  EXPECT_EQ(std::get<Refusal>(missing).exit_code, 127);
  auto empty = prepare_command(ExecRun{RunForm::command_line, {"   "}}, config_with(false), "/bin");
  EXPECT_EQ(std::get<Refusal>(empty).exit_code, 127);
}

ExecConfig valid_config() {
  ExecConfig config;
  config.listen = {"127.0.0.1:0"};
  config.token = "0123456789abcdef";
  return config;
}

TEST(ExecConfigValidate, AcceptsLoopbackWithAToken) {
  EXPECT_NO_THROW(validate(valid_config()));
  auto unix_socket = valid_config();
  unix_socket.listen = {"unix:/tmp/x.sock"};
  EXPECT_NO_THROW(validate(unix_socket));
}

TEST(ExecConfigValidate, RefusesWhatACarefulAdminWouldNotRun) {
  auto open_address = valid_config();
  open_address.listen = {"0.0.0.0:7022"};
  EXPECT_THROW(validate(open_address), std::invalid_argument);
  open_address.tls_self_signed = true;
  EXPECT_NO_THROW(validate(open_address));

  auto short_token = valid_config();
  short_token.token = "short";
  EXPECT_THROW(validate(short_token), std::invalid_argument);

  auto allow_with_shell = valid_config();
  allow_with_shell.allow = {"ls"};
  EXPECT_THROW(validate(allow_with_shell), std::invalid_argument);

  auto udp = valid_config();
  udp.listen = {"udp://127.0.0.1:1"};
  EXPECT_THROW(validate(udp), std::invalid_argument);

  auto half_tls = valid_config();
  half_tls.tls_cert = "c.pem";
  EXPECT_THROW(validate(half_tls), std::invalid_argument);
}

TEST(Fingerprint, NormalizesWhatUsersType) {
  std::string hex(64, 'a');
  auto normal = sockit::net::normalize_fingerprint(hex);
  ASSERT_TRUE(normal);
  EXPECT_EQ(normal->size(), 95u);  // 32 pairs and 31 colons
  EXPECT_EQ(normal->substr(0, 6), "AA:AA:");
  EXPECT_EQ(sockit::net::normalize_fingerprint("SHA256:" + *normal), normal);
  EXPECT_FALSE(sockit::net::normalize_fingerprint(hex.substr(2)));
  EXPECT_FALSE(sockit::net::normalize_fingerprint(hex.substr(1) + "g"));
}

TEST(SelfSigned, MadeOnceThenKept) {
  auto dir = temp_dir("tls").string();
  auto first = sockit::net::ensure_self_signed(dir);
  EXPECT_TRUE(first.created);
  auto second = sockit::net::ensure_self_signed(dir);
  EXPECT_FALSE(second.created);
  EXPECT_EQ(first.fingerprint, second.fingerprint);
  EXPECT_EQ(std::filesystem::status(first.key_file).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);
  EXPECT_NO_THROW(sockit::net::make_server_tls(first.cert_file, first.key_file));
}

}  // namespace
