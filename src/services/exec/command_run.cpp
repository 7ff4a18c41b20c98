#include "services/exec/command_run.hpp"

#include "net/wake_signal.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <vector>

extern char** environ;

namespace sockit::exec {
namespace asio = boost::asio;
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

// A pipe whose two ends are close-on-exec: the child gets its end through
// posix_spawn's dup2, which clears the flag on the copy only.
bool make_pipe(int (&ends)[2]) {
  return ::pipe2(ends, O_CLOEXEC) == 0;
}

// The spawn's file actions and attributes, released however start() ends.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    ::posix_spawn_file_actions_init(&actions);
    ::posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Closes whichever descriptors it still holds.
struct Descriptors {
  std::vector<int> fds;
  ~Descriptors() {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }
};

}  // namespace

struct CommandRun::Impl {
  Impl(const asio::any_io_executor& executor, RunLimits run_limits)
      : limits(run_limits),
        stdin_pipe(executor),
        stdout_pipe(executor),
        stderr_pipe(executor),
        exit_watch(executor),
        stdin_queued(executor),
        stdin_drained(executor),
        watch_timer(executor),
        forever(executor) {}

  RunLimits limits;
  asio::writable_pipe stdin_pipe;
  asio::readable_pipe stdout_pipe;
  asio::readable_pipe stderr_pipe;
  asio::posix::stream_descriptor exit_watch;  // the child's pidfd: readable once it exited
  int pid = 0;
  bool reaped = false;
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
    auto [ec] = co_await exit_watch.async_wait(asio::posix::stream_descriptor::wait_read, use_tuple);
    if (ec) co_return;  // cancelled: the session is ending; ~CommandRun kills and reaps
    while (::waitpid(pid, &native_status, 0) < 0 && errno == EINTR) {
    }
    reaped = true;
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
  auto& s = *impl_;
  if (s.pid <= 0 || s.reaped) return;
  ::killpg(s.pid, SIGKILL);
  if (::waitpid(s.pid, nullptr, WNOHANG) == s.pid) return;
  // Still dying (a process in the kernel ends its call first): reap it when
  // its pidfd says so, without blocking the loop.
  auto watch = std::make_shared<asio::posix::stream_descriptor>(std::move(s.exit_watch));
  watch->async_wait(asio::posix::stream_descriptor::wait_read,
                    [watch, pid = s.pid](error_code) { ::waitpid(pid, nullptr, WNOHANG); });
}

std::variant<std::unique_ptr<CommandRun>, Refusal> CommandRun::start(const asio::any_io_executor& executor,
                                                                     const PreparedCommand& command,
                                                                     const std::string& dir,
                                                                     RunLimits limits) {
  auto impl = std::make_unique<Impl>(executor, limits);
  auto failure = [&](int error) {
    if (error == ENOENT) return Refusal{127, "sockit: " + command.program + ": command not found"};
    return Refusal{126, "sockit: " + command.program + ": cannot execute: " + std::strerror(error)};
  };
  // posix_spawn, not fork: glibc starts the child with CLONE_VM|CLONE_VFORK
  // and runs nothing of ours in it. A forked copy of this multi-threaded
  // server could allocate before exec (Boost.Process did, in asio's fork
  // hook) while another thread held the allocator's lock, and spin forever
  // with the loop blocked on its error pipe. Exec errors come back as the
  // return value.
  int in[2], out[2], err[2];
  if (!make_pipe(in)) return failure(errno);
  Descriptors held{{in[0], in[1]}};
  if (!make_pipe(out)) return failure(errno);
  held.fds.insert(held.fds.end(), {out[0], out[1]});
  if (!make_pipe(err)) return failure(errno);
  held.fds.insert(held.fds.end(), {err[0], err[1]});
  if (!dir.empty() &&
      ::access(dir.c_str(), X_OK) != 0)  // else a missing dir would read as "command not found"
    return Refusal{126, "sockit: " + dir + ": cannot enter: " + std::strerror(errno)};

  SpawnSetup setup;
  ::posix_spawn_file_actions_adddup2(&setup.actions, in[0], STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, err[1], STDERR_FILENO);
  // Only the three standard descriptors: asio's sockets and listeners are
  // not all close-on-exec.
  ::posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  if (!dir.empty()) ::posix_spawn_file_actions_addchdir_np(&setup.actions, dir.c_str());
  // Its own process group (so the whole tree can be killed at once), every
  // signal at its default (sockit ignores SIGPIPE; a command must not
  // inherit that) and none blocked.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  ::posix_spawnattr_setflags(&setup.attributes,
                             POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  ::posix_spawnattr_setpgroup(&setup.attributes, 0);
  ::posix_spawnattr_setsigdefault(&setup.attributes, &all);
  ::posix_spawnattr_setsigmask(&setup.attributes, &none);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(command.program.c_str()));
  for (const auto& arg : command.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (int error = ::posix_spawn(&pid, command.program.c_str(), &setup.actions, &setup.attributes, argv.data(),
                                environ))
    return failure(error);
  impl->pid = pid;
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    int error = errno;
    ::killpg(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    impl->reaped = true;
    return Refusal{126, std::string("sockit: cannot watch the command: ") + std::strerror(error)};
  }
  impl->exit_watch.assign(pidfd);
  impl->stdin_pipe.assign(in[1]);
  impl->stdout_pipe.assign(out[0]);
  impl->stderr_pipe.assign(err[0]);
  held.fds = {in[0], out[1], err[1]};  // the child's ends: closed here, kept by the child
  ::fcntl(out[0], F_SETPIPE_SZ, kPipeSize);
  ::fcntl(err[0], F_SETPIPE_SZ, kPipeSize);
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
