// WriteBehind: the receiver's second core. Large DATA payloads are written
// to their part file (pwrite) and fed to the file's digest on a thread of
// their own while the connection's loop reads the next frame, so the two
// copies of a receive (socket to memory, memory to page cache) overlap.
// Small files are saved there whole (create, write, rename: run()), so the
// loop only decodes and answers, as `nc | tar x` splits the same work.
//
// Ownership, not locks: a job owns its buffer until it is done; the loop
// leaves the file's digest alone until drain(); everything else (counts,
// spare buffers, the first error) is touched on the loop only, by
// completions posted back to it. Jobs run in the order queued.
#pragma once

#include "services/transfer/digest.hpp"

#include "net/wake_signal.hpp"

#include <sys/types.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace sockit::transfer {

// pwrite() until all of `data` is at `offset` of `fd`: 0, or the errno.
int write_all(int fd, off_t offset, std::span<const char> data);

class WriteBehind {
 public:
  explicit WriteBehind(boost::asio::any_io_executor loop);
  // Waits for the queued jobs (they use the caller's file and digest).
  ~WriteBehind();

  // Queues: write `data` (inside `buffer`, which the job keeps) at `offset`
  // of `fd` and feed it to `digest`; waits while too many are queued.
  boost::asio::awaitable<void> write(int fd, off_t offset, std::vector<char> buffer,
                                     std::span<const char> data, Digest& digest);
  // Queues `work` to run on the thread after every job queued before it;
  // it may read `buffer`, whose size counts against the queue's limit and
  // which becomes a spare() once the job is done. Its number is queued()
  // after this returns; once until_finished() of it returns, what it wrote
  // is safe to read on the loop.
  boost::asio::awaitable<void> run(std::vector<char> buffer, std::function<void()> work);
  std::uint64_t queued() const { return queued_; }
  bool finished(std::uint64_t job) const { return state_->finished >= job; }
  // Waits until job number `job` is done.
  boost::asio::awaitable<void> until_finished(std::uint64_t job);
  // Waits until every queued job is done. The errno of the first failed
  // write since the last drain, or 0.
  boost::asio::awaitable<int> drain();
  bool idle() const { return state_->in_flight == 0; }
  // The errno of a failed write so far (0 if none): the caller stops early.
  int error() const { return state_->error; }
  // A buffer to read into (one a finished job gave back, when there is one).
  std::vector<char> spare();

 private:
  struct Job {
    std::function<int()> work;  // 0, or the errno of a failed write
    std::vector<char> buffer;   // kept until done, then a spare
    std::size_t bytes = 0;
    int error = 0;
  };
  // What completions posted back to the loop update: they find it gone
  // (weak_ptr) if this object was destroyed before they ran.
  struct State {
    std::size_t in_flight = 0;
    std::size_t bytes_in_flight = 0;
    std::uint64_t finished = 0;
    int error = 0;
    std::vector<std::vector<char>> spares;
  };
  // Waits for room for `job`, then hands it to the thread.
  boost::asio::awaitable<void> submit(Job job);
  // The thread: takes every queued job at once, runs them, and reports
  // the batch to the loop in one post. Batches are what keep a stream of
  // small files from costing a wake-up of each side per file.
  void work();

  boost::asio::any_io_executor loop_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  std::uint64_t queued_ = 0;
  net::WakeSignal done_;
  std::mutex mutex_;  // guards queue_ and stopping_
  std::condition_variable queued_or_stopping_;
  std::vector<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace sockit::transfer
