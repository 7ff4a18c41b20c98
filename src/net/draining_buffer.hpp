// DrainingBuffer: a buffer for `async_read_some` on a stream socket that
// tells Asio when a read left the socket empty, so the next read waits for
// epoll instead of first making a recv that gets EAGAIN.
//
// Why: Asio's reactor reads speculatively (a recv before waiting for epoll)
// while the descriptor's `try_speculative_` flag is set. Every epoll event
// sets it, and Boost 1.81 clears it only when a read returns 0 bytes: its
// `reactive_socket_recv_op_base::do_perform` calls nothing else
// "exhausted". A server that answers and then waits for the next message
// (echo, any request/response) therefore spent one recv per message on
// EAGAIN, since its peer had not answered yet: 1.98 recvfrom per echoed
// block against a C epoll server's 0.97 (docs/engineering-notes.md, "Asio's
// speculative reads").
//
// How it knows: a short read is not enough. recv returns the data before a
// FIN that has already arrived, and stops at an urgent mark with data behind
// it; in both cases no new edge will come, and a reader that waited for one
// would hang (the first version did, caught by the echo client's half-close
// test and FTP's ABOR, which ftplib sends as urgent data). Linux's TCP_INQ
// option makes every read report how much is left, and reports a pending
// FIN as 1 byte left. A read is "exhausted" only when that count is 0: the
// next data or FIN then arrives as a new edge, whose epoll event sets the
// flag again. Without the count (a Unix socket, or TCP_INQ not enabled with
// enable_drain_hint) a read behaves as Asio's own.
#pragma once

#include <boost/asio/buffer.hpp>
// socket_base first, in a block of its own so include sorting keeps it there:
// the op header uses it without including it.
#include <boost/asio/socket_base.hpp>

#include <boost/asio/detail/reactive_socket_recv_op.hpp>
#include <boost/system/error_code.hpp>

#include <span>

#include "net/socket_types.hpp"

namespace sockit::net {

// The loop thread's shared read buffer (64 KiB, one per thread; each loop
// is one thread). Bytes read into it are valid until their reader next
// suspends; a reader that suspends with some left copies them first.
// Empty while it holds the bytes of a read whose handler has not run yet
// (see DrainingBuffer): use a buffer of your own then.
std::span<char> free_loop_buffer();

// A MutableBufferSequence of one buffer, the connection's own; the type
// selects the do_perform below. That read lands in the loop buffer when it is
// free, and in `own` otherwise; `landed` is set to where it went. Why: the
// bytes a loop echoes then pass through one buffer that stays in cache, not
// through a cold one per connection (1,000 connections x 16 KiB is 16 MB):
// -14% CPU per MiB at 16 KiB x 1,000 (docs/benchmarks.md, session 9).
//
// The handler gets the bytes with claim_landed(), which frees the loop buffer
// again. Until then the loop buffer is taken: Asio completes a read right
// after its recv when it was the descriptor's only ready operation, but
// posts the completion of a speculative one, and other descriptors' reads
// may run before it.
class DrainingBuffer {
 public:
  using value_type = boost::asio::mutable_buffer;
  using const_iterator = const boost::asio::mutable_buffer*;

  DrainingBuffer(std::span<char> own, std::span<char>& landed)
      : buffer_(own.data(), own.size()), landed_(&landed) {}
  const_iterator begin() const { return &buffer_; }
  const_iterator end() const { return &buffer_ + 1; }
  std::span<char>& landed() const { return *landed_; }

 private:
  boost::asio::mutable_buffer buffer_;
  std::span<char>* landed_;
};

// The `bytes` a read into a DrainingBuffer completed with, where they landed.
// Frees the loop buffer if they are in it (they stay valid until the caller
// suspends).
std::span<char> claim_landed(std::span<char> landed, std::size_t bytes);

// Turns on TCP_INQ for a TCP socket, so reads into a DrainingBuffer can tell
// that they emptied it. Harmless (and without effect) on a Unix socket.
void enable_drain_hint(StreamSocket& socket);

enum class ReadOutcome { would_block, data_left, drained };
// One non-blocking recvmsg into `buffer`, with Asio's conventions: a closed
// stream is ec == eof; EINTR is retried.
ReadOutcome read_reporting_drain(int fd, boost::asio::mutable_buffer buffer, int flags,
                                 boost::system::error_code& ec, std::size_t& bytes);
// The read of a DrainingBuffer: into the loop buffer when it is free.
ReadOutcome read_landing(int fd, const DrainingBuffer& buffer, int flags, boost::system::error_code& ec,
                         std::size_t& bytes);

}  // namespace sockit::net

// Declared here, with the type, so every translation unit that reads into a
// DrainingBuffer sees this specialization before Asio would instantiate its
// own.
template <>
inline boost::asio::detail::reactor_op::status
boost::asio::detail::reactive_socket_recv_op_base<sockit::net::DrainingBuffer>::do_perform(reactor_op* base) {
  auto* op = static_cast<reactive_socket_recv_op_base*>(base);
  switch (sockit::net::read_landing(op->socket_, op->buffers_, op->flags_, op->ec_, op->bytes_transferred_)) {
    case sockit::net::ReadOutcome::would_block:
      return not_done;
    case sockit::net::ReadOutcome::data_left:
      return done;
    case sockit::net::ReadOutcome::drained:
      return done_and_exhausted;
  }
  return done;
}
