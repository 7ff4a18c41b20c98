#include "net/draining_buffer.hpp"

#include <boost/asio/error.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <array>
#include <cerrno>
#include <cstring>

namespace sockit::net {
namespace {

struct LoopBuffer {
  std::array<char, 64 * 1024> bytes;
  bool taken = false;  // by a completed read whose handler has not claimed it
};

LoopBuffer& loop_buffer() {
  thread_local LoopBuffer buffer;
  return buffer;
}

}  // namespace

std::span<char> free_loop_buffer() {
  auto& loop = loop_buffer();
  if (loop.taken) return {};
  return loop.bytes;
}

std::span<char> claim_landed(std::span<char> landed, std::size_t bytes) {
  auto& loop = loop_buffer();
  if (landed.data() == loop.bytes.data()) loop.taken = false;
  return landed.first(bytes);
}

ReadOutcome read_landing(int fd, const DrainingBuffer& buffer, int flags, boost::system::error_code& ec,
                         std::size_t& bytes) {
  auto& loop = loop_buffer();
  std::span<char> target = loop.bytes;
  if (loop.taken) {
    auto own = *buffer.begin();
    target = {static_cast<char*>(own.data()), own.size()};
  }
  auto outcome =
      read_reporting_drain(fd, boost::asio::buffer(target.data(), target.size()), flags, ec, bytes);
  if (outcome == ReadOutcome::would_block) return outcome;
  buffer.landed() = target;
  if (bytes > 0 && target.data() == loop.bytes.data()) loop.taken = true;
  return outcome;
}

void enable_drain_hint(StreamSocket& socket) {
  int on = 1;
  // Fails on a Unix socket (no TCP level there): its reads then keep Asio's
  // behaviour, which is what we want.
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INQ, &on, sizeof on);
}

ReadOutcome read_reporting_drain(int fd, boost::asio::mutable_buffer buffer, int flags,
                                 boost::system::error_code& ec, std::size_t& bytes) {
  for (;;) {
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(fd, &msg, flags);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadOutcome::would_block;
      ec.assign(errno, boost::asio::error::get_system_category());
      bytes = 0;
      return ReadOutcome::drained;  // as Asio: a failed read ends speculation
    }
    bytes = static_cast<std::size_t>(n);
    if (n == 0) {
      ec = boost::asio::error::eof;
      return ReadOutcome::drained;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_TCP || c->cmsg_type != TCP_CM_INQ) continue;
      int left = 0;
      std::memcpy(&left, CMSG_DATA(c), sizeof left);
      return left == 0 ? ReadOutcome::drained : ReadOutcome::data_left;
    }
    return ReadOutcome::data_left;  // no hint: assume more, as Asio does
  }
}

}  // namespace sockit::net
