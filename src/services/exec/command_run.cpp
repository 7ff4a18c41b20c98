#include "services/exec/command_run.hpp"

#include "net/wake_signal.hpp"
#include "services/exec/process_v2.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deque>
#include <optional>

namespace sockit::exec {
namespace asio = boost::asio;
namespace bp = boost::process::v2;
using asio::awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Queued client stdin before the session stops reading the connection.
// Clients that follow the window (codec::exec::kStdinWindow) never reach it;
// one that ignores it is slowed down by TCP instead.
constexpr std::size_t kStdinHighWater = codec::exec::kStdinWindow + codec::kDataFramePayload;
// Acknowledge stdin in batches, not per write.
constexpr std::uint32_t kAckBatch = 128 * 1024;
// After the command exits, how long output that is still open (a descendant
// that escaped the group with setsid) may keep the command from ending.
constexpr auto kOutputGrace = std::chrono::seconds(2);
// Larger pipes mean fewer wake-ups per byte for output-heavy commands.
constexpr int kPipeSize = 256 * 1024;

// Marks every descriptor above stderr close-on-exec. Boost.Process 1.81 means
// to close them itself, but its close_all() skips the range between stderr
// and the highest descriptor it keeps (`next = whitelist[idx]`, not idx + 1),
// so a command inherited the client's socket and the listeners. CLOEXEC, not
// close: the launcher's own error pipe must live until exec.
void close_on_exec_above_stderr() {
  if (::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return;
  for (int fd = 3, end = static_cast<int>(::sysconf(_SC_OPEN_MAX)); fd < end; ++fd) {
    int flags = ::fcntl(fd, F_GETFD);
    if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// Runs in the child between fork and exec: its own process group (so the
// whole tree can be killed at once), default signal handling (sockit
// ignores SIGPIPE; a command must not inherit that), and only its three
// standard descriptors.
struct ChildSetup {
  template <typename Launcher>
  error_code on_exec_setup(Launcher&, const bp::filesystem::path&, const char* const*&) {
    close_on_exec_above_stderr();
    if (::setpgid(0, 0) != 0) return error_code(errno, boost::system::system_category());
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    return {};
  }

  // After a failed execve the launcher calls exit(), which in this forked
  // copy of the server would run its destructors (and LeakSanitizer, which
  // blocked on a pipe and kept a clone of the server alive). _exit instead.
  // Variadic because 1.81 detects the hook with one signature and calls it
  // with another.
  template <typename... Args>
  void on_exec_error(Args&&...) {
    ::_exit(127);
  }
};

}  // namespace

struct CommandRun::Impl {
  Impl(const asio::any_io_executor& executor, RunLimits run_limits)
      : limits(run_limits),
        stdin_pipe(executor),
        stdout_pipe(executor),
        stderr_pipe(executor),
        stdin_queued(executor),
        stdin_drained(executor),
        watch_timer(executor),
        forever(executor) {}

  RunLimits limits;
  asio::writable_pipe stdin_pipe;
  asio::readable_pipe stdout_pipe;
  asio::readable_pipe stderr_pipe;
  std::optional<bp::process> process;
  int pid = 0;
  Clock::time_point started = Clock::now();

  std::deque<std::string> stdin_queue;
  std::size_t stdin_bytes = 0;
  bool stdin_end_queued = false;
  bool stdin_gone = false;  // closed, or the child stopped reading it
  net::WakeSignal stdin_queued;
  net::WakeSignal stdin_drained;

  std::uint64_t output_bytes = 0;
  bool discarding_output = false;
  std::string kill_reason;
  bool exited = false;
  Clock::time_point exited_at;
  int native_status = 0;
  asio::steady_timer watch_timer;
  net::WakeSignal forever;  // never notified: a branch that must not end a race

  void kill_group(const char* reason) {
    if (kill_reason.empty()) kill_reason = reason;
    ::killpg(pid, SIGKILL);
  }

  // Forwards one pipe as frames of `type` until it ends.
  awaitable<void> pump(asio::readable_pipe& pipe, std::uint8_t type, services::FrameConnection& connection) {
    for (;;) {
      auto buffer = connection.acquire();
      auto area = services::FrameConnection::payload_area(buffer);
      auto [ec, n] = co_await pipe.async_read_some(asio::buffer(area.data(), area.size()), use_tuple);
      if (ec) co_return;  // end of output, or closed after the grace
      if (discarding_output) continue;
      bool over = false;
      if (limits.max_output && output_bytes + n > limits.max_output) {
        n = static_cast<std::size_t>(limits.max_output - output_bytes);
        over = true;
      }
      output_bytes += n;
      if (n > 0 && !co_await connection.submit(std::move(buffer), type, n)) {
        kill_group("client gone");
        discarding_output = true;
      }
      if (over) {
        kill_group("output limit");
        discarding_output = true;
      }
    }
  }

  awaitable<void> wait_exit() {
    co_await process->async_wait(use_tuple);
    native_status = process->native_exit_code();
    exited = true;
    exited_at = Clock::now();
    // The command's background jobs end with it (its group); what it wrote
    // before stays readable in the pipes.
    ::killpg(pid, SIGKILL);
    watch_timer.cancel();
  }

  awaitable<void> feed_stdin(services::FrameConnection& connection) {
    std::uint32_t unacknowledged = 0;
    for (;;) {
      if (stdin_queue.empty()) {
        if (unacknowledged > 0) {
          co_await acknowledge(connection, unacknowledged);
          continue;
        }
        if (stdin_end_queued) break;
        co_await stdin_queued.wait();
        continue;
      }
      auto [ec, n] = co_await asio::async_write(stdin_pipe, asio::buffer(stdin_queue.front()), use_tuple);
      unacknowledged += static_cast<std::uint32_t>(stdin_queue.front().size());
      stdin_bytes -= stdin_queue.front().size();
      stdin_queue.pop_front();
      stdin_drained.notify();
      if (ec) break;  // the child closed its stdin: what else comes is dropped
      if (unacknowledged >= kAckBatch) co_await acknowledge(connection, unacknowledged);
    }
    error_code ignored;
    stdin_pipe.close(ignored);
    stdin_gone = true;
    stdin_queue.clear();
    stdin_bytes = 0;
    stdin_drained.notify();
    co_await forever.wait();
  }

  // Gives the client credit for `bytes` more of stdin.
  awaitable<void> acknowledge(services::FrameConnection& connection, std::uint32_t& bytes) {
    auto payload = codec::exec::stdin_ack_payload(bytes);
    bytes = 0;
    co_await connection.send(+codec::exec::Type::stdin_ack, payload);
  }

  // Kills on timeout; after the exit, ends output that stays open too long.
  awaitable<void> watchdog() {
    auto deadline = limits.timeout.count() > 0 ? started + limits.timeout : Clock::time_point::max();
    for (;;) {
      auto until = exited ? std::min(deadline, exited_at + kOutputGrace) : deadline;
      watch_timer.expires_at(until);
      co_await watch_timer.async_wait(use_tuple);
      auto now = Clock::now();
      if (exited && now >= exited_at + kOutputGrace) {
        error_code ignored;
        stdout_pipe.close(ignored);
        stderr_pipe.close(ignored);
        break;
      }
      if (!exited && now >= deadline) {
        kill_group("timeout");
        deadline = Clock::time_point::max();
      }
    }
    co_await forever.wait();
  }
};

CommandRun::CommandRun(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CommandRun::~CommandRun() {
  if (impl_->pid > 0 && !impl_->exited) ::killpg(impl_->pid, SIGKILL);
  // ~process reaps the child (it is dead or dying: a short waitpid).
}

std::variant<std::unique_ptr<CommandRun>, Refusal> CommandRun::start(const asio::any_io_executor& executor,
                                                                     const PreparedCommand& command,
                                                                     const std::string& dir,
                                                                     RunLimits limits) {
  auto impl = std::make_unique<Impl>(executor, limits);
  // An explicit launcher, to learn the pid of a child whose exec failed: the
  // launcher reports the failure but leaves that child unreaped.
  bp::posix::default_launcher launcher;
  error_code ec;
  bp::process_stdio stdio{impl->stdin_pipe, impl->stdout_pipe, impl->stderr_pipe};
  auto process = dir.empty() ? launcher(executor, ec, command.program, command.args, stdio, ChildSetup{})
                             : launcher(executor, ec, command.program, command.args, stdio,
                                        bp::process_start_dir(dir), ChildSetup{});
  if (ec) {
    if (launcher.pid > 0) ::waitpid(launcher.pid, nullptr, 0);  // it has _exit()ed or is about to
    if (ec.value() == ENOENT) return Refusal{127, "sockit: " + command.program + ": command not found"};
    return Refusal{126, "sockit: " + command.program + ": cannot execute: " + ec.message()};
  }
  impl->process.emplace(std::move(process));
  impl->pid = impl->process->id();
  ::fcntl(impl->stdout_pipe.native_handle(), F_SETPIPE_SZ, kPipeSize);
  ::fcntl(impl->stderr_pipe.native_handle(), F_SETPIPE_SZ, kPipeSize);
  return std::unique_ptr<CommandRun>(new CommandRun(std::move(impl)));
}

awaitable<codec::exec::Exit> CommandRun::run(services::FrameConnection& connection) {
  auto& s = *impl_;
  using codec::exec::Type;
  co_await ((s.pump(s.stdout_pipe, +Type::stdout_data, connection) &&
             s.pump(s.stderr_pipe, +Type::stderr_data, connection) && s.wait_exit()) ||
            s.feed_stdin(connection) || s.watchdog());
  codec::exec::Exit exit;
  if (WIFSIGNALED(s.native_status)) {
    exit.signaled = true;
    exit.value = static_cast<std::uint8_t>(WTERMSIG(s.native_status));
    exit.reason = s.kill_reason;
  } else {
    exit.value = static_cast<std::uint8_t>(WEXITSTATUS(s.native_status));
  }
  co_return exit;
}

void CommandRun::queue_stdin(std::string_view bytes) {
  auto& s = *impl_;
  if (s.stdin_gone || s.stdin_end_queued) return;
  if (bytes.empty())
    s.stdin_end_queued = true;
  else {
    s.stdin_queue.emplace_back(bytes);
    s.stdin_bytes += bytes.size();
  }
  s.stdin_queued.notify();
}

awaitable<void> CommandRun::stdin_room() {
  while (!has_stdin_room()) co_await impl_->stdin_drained.wait();
}

bool CommandRun::has_stdin_room() const {
  return impl_->stdin_bytes < kStdinHighWater || impl_->stdin_gone;
}

void CommandRun::signal(int number) {
  if (impl_->pid > 0 && !impl_->exited) ::killpg(impl_->pid, number);
}

int CommandRun::pid() const {
  return impl_->pid;
}

}  // namespace sockit::exec
