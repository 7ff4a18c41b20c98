// CommandRun: one command of an exec session, from start to exit status.
// The child runs in its own process group with three pipes; its stdout and
// stderr go to the client as frames while it writes them, the client's STDIN
// frames go to its stdin. Whatever ends the run early (client gone, timeout,
// output limit, the session destroyed) kills the whole group.
#pragma once

#include "codec/exec_messages.hpp"
#include "services/exec/command_line.hpp"
#include "services/framing/frame_connection.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

namespace sockit::exec {

struct RunLimits {
  std::chrono::seconds timeout{0};  // 0: none
  std::uint64_t max_output = 0;     // stdout + stderr bytes; 0: none
};

class CommandRun {
 public:
  // Starts the child. On failure (the program cannot be executed) gives a
  // Refusal as a shell would report it.
  static std::variant<std::unique_ptr<CommandRun>, Refusal> start(
      const boost::asio::any_io_executor& executor, const PreparedCommand& command, const std::string& dir,
      RunLimits limits);
  ~CommandRun();  // kills the process group if it still runs

  // Streams output to `connection` until the child exited and its output
  // ended; returns how it ended.
  boost::asio::awaitable<codec::exec::Exit> run(services::FrameConnection& connection);

  // From the session's reader, while run() is going on.
  // Queues stdin bytes (empty: end of input); then wait for stdin_room()
  // before queueing more (back-pressure on the client).
  void queue_stdin(std::string_view bytes);
  boost::asio::awaitable<void> stdin_room();
  bool has_stdin_room() const;
  void signal(int number);  // to the whole group
  int pid() const;

 private:
  struct Impl;
  explicit CommandRun(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sockit::exec
