// WriteBehind: the receiver's second core. Large DATA payloads are written
// to their part file (pwrite) and fed to the file's digest on a thread of
// their own while the connection's loop reads the next frame, so the two
// copies of a receive (socket to memory, memory to page cache) overlap.
//
// Ownership, not locks: a job owns its buffer until it is done; the loop
// leaves the file's digest alone until drain(); everything else (counts,
// spare buffers, the first error) is touched on the loop only, by
// completions posted back to it. Jobs run in the order queued.
#pragma once

#include "services/transfer/digest.hpp"

#include "net/wake_signal.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <sys/types.h>

#include <memory>
#include <span>
#include <vector>

namespace sockit::transfer {

class WriteBehind {
 public:
  explicit WriteBehind(boost::asio::any_io_executor loop);
  // Waits for the queued jobs (they use the caller's file and digest).
  ~WriteBehind();

  // Queues: write `data` (inside `buffer`, which the job keeps) at `offset`
  // of `fd` and feed it to `digest`; waits while too many are queued.
  boost::asio::awaitable<void> write(int fd, off_t offset, std::vector<char> buffer,
                                     std::span<const char> data, Digest& digest);
  // Waits until every queued job is done. The errno of the first failed
  // write since the last drain, or 0.
  boost::asio::awaitable<int> drain();
  bool idle() const { return state_->in_flight == 0; }
  // The errno of a failed write so far (0 if none): the caller stops early.
  int error() const { return state_->error; }
  // A buffer to read into (one a finished job gave back, when there is one).
  std::vector<char> spare();

 private:
  // What completions posted back to the loop update: they find it gone
  // (weak_ptr) if this object was destroyed before they ran.
  struct State {
    std::size_t in_flight = 0;
    int error = 0;
    std::vector<std::vector<char>> spares;
  };
  boost::asio::any_io_executor loop_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  net::WakeSignal done_;
  boost::asio::thread_pool pool_{1};
};

}  // namespace sockit::transfer
