#include "services/transfer/write_behind.hpp"

#include <boost/asio/post.hpp>

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;

namespace {
// Jobs queued at once: enough for the worker never to wait for the loop
// (small files are one job each), and a few MiB of memory at most (large
// payloads are 1 MiB frames).
constexpr std::size_t kMaxInFlight = 64;
constexpr std::size_t kMaxBytesInFlight = 4 * 1024 * 1024;
}  // namespace

int write_all(int fd, off_t offset, std::span<const char> data) {
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

WriteBehind::WriteBehind(asio::any_io_executor loop)
    : loop_(loop), done_(loop), thread_([this] { work(); }) {}

WriteBehind::~WriteBehind() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  queued_or_stopping_.notify_one();
  thread_.join();
}

void WriteBehind::work() {
  std::vector<Job> batch;
  std::unique_lock lock(mutex_);
  for (;;) {
    queued_or_stopping_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, every job done
    batch.swap(queue_);
    lock.unlock();
    for (auto& job : batch) {
      job.error = job.work();
      job.work = nullptr;  // what it holds goes here, not on the loop
    }
    std::weak_ptr<State> state = state_;
    asio::post(loop_, [this, state, done = std::move(batch)]() mutable {
      auto alive = state.lock();
      if (!alive) return;  // `this` is gone too
      for (auto& job : done) {
        --alive->in_flight;
        alive->bytes_in_flight -= job.bytes;
        ++alive->finished;
        if (job.error && !alive->error) alive->error = job.error;
        if (job.buffer.capacity() > 0) alive->spares.push_back(std::move(job.buffer));
      }
      done_.notify();
    });
    batch = {};
    lock.lock();
  }
}

awaitable<void> WriteBehind::submit(Job job) {
  // One job alone may exceed the byte limit (it waits for an empty queue).
  while (state_->in_flight >= kMaxInFlight ||
         (state_->in_flight > 0 && state_->bytes_in_flight + job.bytes > kMaxBytesInFlight))
    co_await done_.wait();
  ++state_->in_flight;
  state_->bytes_in_flight += job.bytes;
  ++queued_;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(job));
  }
  queued_or_stopping_.notify_one();
}

awaitable<void> WriteBehind::write(int fd, off_t offset, std::vector<char> buffer, std::span<const char> data,
                                   Digest& digest) {
  Job job;
  job.work = [fd, offset, data, &digest] {
    int error = write_all(fd, offset, data);
    if (!error) digest.update(data);
    return error;
  };
  job.buffer = std::move(buffer);
  job.bytes = data.size();
  co_await submit(std::move(job));
}

awaitable<void> WriteBehind::run(std::vector<char> buffer, std::function<void()> work) {
  Job job;
  job.work = [work = std::move(work)] {
    work();
    return 0;
  };
  job.bytes = buffer.size();
  job.buffer = std::move(buffer);
  co_await submit(std::move(job));
}

awaitable<void> WriteBehind::until_finished(std::uint64_t job) {
  while (state_->finished < job) co_await done_.wait();
}

awaitable<int> WriteBehind::drain() {
  while (state_->in_flight > 0) co_await done_.wait();
  co_return std::exchange(state_->error, 0);
}

std::vector<char> WriteBehind::spare() {
  if (state_->spares.empty()) return {};
  auto buffer = std::move(state_->spares.back());
  state_->spares.pop_back();
  return buffer;
}

}  // namespace sockit::transfer
