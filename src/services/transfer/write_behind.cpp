#include "services/transfer/write_behind.hpp"

#include <boost/asio/post.hpp>

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;

namespace {
// Jobs queued at once: 1 MiB frames, so a few MiB of memory; enough for the
// worker never to wait for the loop.
constexpr std::size_t kMaxInFlight = 3;

int write_all(int fd, off_t offset, std::span<const char> data) {
  for (std::size_t done = 0; done < data.size();) {
    ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}
}  // namespace

WriteBehind::WriteBehind(asio::any_io_executor loop) : loop_(loop), done_(loop) {}

WriteBehind::~WriteBehind() {
  pool_.join();
}

awaitable<void> WriteBehind::write(int fd, off_t offset, std::vector<char> buffer, std::span<const char> data,
                                   Digest& digest) {
  while (state_->in_flight >= kMaxInFlight) co_await done_.wait();
  ++state_->in_flight;
  std::weak_ptr<State> state = state_;
  asio::post(pool_, [this, state, fd, offset, data, &digest, buffer = std::move(buffer)]() mutable {
    int error = write_all(fd, offset, data);
    if (!error) digest.update(data);
    asio::post(loop_, [this, state, error, buffer = std::move(buffer)]() mutable {
      auto alive = state.lock();
      if (!alive) return;  // `this` is gone too
      --alive->in_flight;
      if (error && !alive->error) alive->error = error;
      alive->spares.push_back(std::move(buffer));
      done_.notify();
    });
  });
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
