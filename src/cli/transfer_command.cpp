// `sockit send` and `sockit recv`: direct file transfer (docs/transfer.md).
#include "cli/commands.hpp"
#include "cli/progress_bar.hpp"
#include "net/connector.hpp"
#include "services/transfer/destination.hpp"
#include "services/transfer/source_tree.hpp"
#include "services/transfer/transfer_peer.hpp"

#include <fmt/format.h>

namespace sockit::cli {

namespace {

// Exit statuses scripts can rely on (docs/transfer.md).
constexpr int kSomeFilesFailed = 1;
constexpr int kTransferFailed = 255;

struct CommonOptions {
  transfer::PeerOptions peer;
  double connect_timeout_s = 10;
  double stall_timeout_s = 60;
  bool once = false;
  bool quiet = false;
};

void add_common_options(CLI::App* cmd, CommonOptions& o) {
  cmd->add_option("--listen", o.peer.listen,
                  "Listen on ADDR for the other side to connect (port 7023 if none)");
  cmd->add_flag("--keep-listening", o.peer.keep_listening, "With --listen: serve one transfer after another");
  cmd->add_flag("--once", o.once, "With --listen: end after one transfer (the default)");
  cmd->add_flag("--tls", o.peer.tls,
                "Encrypt: the listening side shows its certificate fingerprint; the connecting side pins it");
  cmd->add_option("--fingerprint", o.peer.trust.fingerprint,
                  "The listening side's certificate SHA-256 to pin (implies --tls)");
  cmd->add_option("--known-hosts", o.peer.trust.known_hosts,
                  "Fingerprints trusted on first use (default ~/.local/state/sockit/known_hosts)");
  cmd->add_option("--tls-dir", o.peer.tls_dir,
                  "Where the listening side keeps its key pair (default ~/.local/state/sockit/transfer-tls)");
  cmd->add_option("--connect-timeout", o.connect_timeout_s, "Seconds to wait for the connection (default 10)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--stall-timeout", o.stall_timeout_s,
                  "Give up when nothing moves for this many seconds (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-q,--quiet", o.quiet, "No progress and no summary; errors only");
  cmd->add_flag("--print-address", o.peer.print_address, "With --listen: print the bound address on stdout");
  cmd->get_option("--once")->excludes("--keep-listening");
}

transfer::SessionSettings settings_from(CommonOptions& o, ProgressBar& bar) {
  o.peer.tls = o.peer.tls || !o.peer.trust.fingerprint.empty();
  o.peer.connect_timeout = std::chrono::milliseconds(static_cast<long>(o.connect_timeout_s * 1000));
  o.peer.program = program_name();
  transfer::SessionSettings settings;
  settings.stall_timeout = std::chrono::milliseconds(static_cast<long>(o.stall_timeout_s * 1000));
  settings.progress = &bar;
  return settings;
}

// Runs `run` and turns the sessions' outcomes into an exit status. Failing
// to reach or trust the other side is a failed transfer too (255, as ssh).
template <class Run>
int run_and_report(ProgressBar& bar, bool listening_forever, Run run) {
  int status = 0;
  bool any_session = false;
  auto on_session = [&](const transfer::SessionOutcome& outcome) {
    any_session = true;
    if (!outcome.summary) {
      fmt::print(stderr, "sockit: {}{}\n", listening_forever ? outcome.peer + ": " : "", outcome.failure);
      status = kTransferFailed;
      return;
    }
    bar.print_summary(*outcome.summary);
    if (outcome.summary->failed > 0 && status == 0) status = kSomeFilesFailed;
  };
  try {
    run(on_session);
  } catch (const net::ConnectError& e) {
    fmt::print(stderr, "sockit: {}\n", e.what());
    return kTransferFailed;
  } catch (const services::IdentityError& e) {
    fmt::print(stderr, "sockit: {}\n", e.what());
    return kTransferFailed;
  }
  return any_session ? status : kTransferFailed;
}

}  // namespace

void add_transfer_commands(CLI::App& app, Action& action) {
  struct SendOptions {
    CommonOptions common;
    std::vector<std::string> args;
    std::string checksum = "xxh3";
    bool raw = false;
  };
  auto s = std::make_shared<SendOptions>();
  auto* send = app.add_subcommand("send", "Send files and directories to a sockit recv");
  add_common_options(send, s->common);
  send->add_option("--checksum", s->checksum, "End-to-end check: xxh3 (default, fast) or sha256")
      ->check(CLI::IsMember({"xxh3", "sha256"}));
  send->add_flag("--raw", s->raw, "Send one file as plain bytes (to nc -l, socat ...): no name, no check");
  send->add_option("args", s->args, "HOST[:PORT] (unless --listen), then PATH...")->required();
  send->footer(R"(Examples:
  sockit send 192.168.1.20 photos/ notes.txt     to 'sockit recv' on that machine (port 7023)
  sockit send --listen 0.0.0.0:7023 big.iso      wait for 'sockit recv HOST' to fetch it
  sockit send --tls --fingerprint 3F:A2:... host file    encrypted, the receiver's key pinned
  sockit send --raw 127.0.0.1:9000 file          to 'nc -l 9000 > file'
Run the same command again after an interruption: only the missing bytes go.
Exit status: 0 all sent and verified; 1 some files failed; 255 the transfer
failed (connection, protocol, the other side's error); 2 bad usage.)");
  send->callback([&action, s] {
    action = [s]() -> int {
      auto& o = s->common;
      std::vector<std::string> paths = s->args;
      if (o.peer.listen.empty()) {
        o.peer.connect = paths.front();
        paths.erase(paths.begin());
      }
      if (paths.empty()) throw std::invalid_argument("send: give at least one PATH to send");
      ProgressBar bar(o.quiet, "sent");
      auto settings = settings_from(o, bar);
      settings.digest = *codec::transfer::parse_digest_name(s->checksum);
      if (s->raw) {
        if (paths.size() != 1) throw std::invalid_argument("send --raw: exactly one file");
        return run_and_report(bar, o.peer.keep_listening, [&](const transfer::OnSession& on_session) {
          transfer::run_raw_sender(o.peer, paths.front(), settings, on_session);
        });
      }
      auto sources = transfer::collect_sources(paths);
      for (const auto& skipped : sources.skipped) fmt::print(stderr, "sockit: skipped {}\n", skipped);
      return run_and_report(bar, o.peer.keep_listening, [&](const transfer::OnSession& on_session) {
        transfer::run_sender(o.peer, sources, settings, on_session);
      });
    };
  });

  struct RecvOptions {
    CommonOptions common;
    std::string server;
    std::string dir = ".";
    bool overwrite = false;
    std::string raw_file;
  };
  auto r = std::make_shared<RecvOptions>();
  auto* recv = app.add_subcommand("recv", "Receive files from sockit send (listens unless given HOST)");
  add_common_options(recv, r->common);
  recv->add_option("--dir", r->dir, "Where received files go (default: the current directory)");
  recv->add_flag("--overwrite", r->overwrite, "Replace existing files of the same name");
  recv->add_option("--raw", r->raw_file, "Take plain bytes (from nc, socat ...) into this FILE");
  recv->add_option("server", r->server, "HOST[:PORT] of a 'sockit send --listen' to fetch from");
  recv->footer(R"(Examples:
  sockit recv --dir incoming                     wait on 0.0.0.0:7023 for one 'sockit send'
  sockit recv --listen 127.0.0.1:0 --print-address --keep-listening
  sockit recv 192.168.1.10                       fetch from 'sockit send --listen' there
  sockit recv --tls --dir in                     encrypted; tell the sender the fingerprint shown
  sockit recv --raw file --listen :9000          take 'nc host 9000 < file'
Files land as .NAME.sockit-part and are renamed when complete and verified; an
interrupted transfer resumes when the same send runs again. Names are kept
inside DIR; existing files are never replaced without --overwrite.
Exit status: 0 all received and verified; 1 some files failed; 255 the
transfer failed; 2 bad usage.)");
  recv->callback([&action, r] {
    action = [r]() -> int {
      auto& o = r->common;
      if (!r->server.empty() && !o.peer.listen.empty())
        throw std::invalid_argument("recv: give HOST to connect to, or --listen, not both");
      if (!r->server.empty())
        o.peer.connect = r->server;
      else if (o.peer.listen.empty())
        o.peer.listen = "0.0.0.0:" + std::to_string(transfer::kDefaultPort);
      ProgressBar bar(o.quiet, "received");
      auto settings = settings_from(o, bar);
      if (!r->raw_file.empty()) {
        return run_and_report(bar, o.peer.keep_listening, [&](const transfer::OnSession& on_session) {
          transfer::run_raw_receiver(o.peer, r->raw_file, r->overwrite, settings, on_session);
        });
      }
      transfer::Destination destination(r->dir, r->overwrite);
      return run_and_report(bar, o.peer.keep_listening, [&](const transfer::OnSession& on_session) {
        transfer::run_receiver(o.peer, destination, settings, on_session);
      });
    };
  });
}

}  // namespace sockit::cli
