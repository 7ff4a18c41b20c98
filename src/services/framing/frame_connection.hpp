// FrameConnection: a Stream (plain or TLS) spoken in frames
// (docs/protocol/frames.md). Reading gives whole frames from the codec's
// decoder; writing queues frames from any number of coroutines of the
// connection's loop and one writer coroutine sends them in order, batched,
// with back-pressure: a producer waits while too much is queued, so a peer
// that stops reading stops the producers (and, through them, the command or
// file they read).
#pragma once

#include "codec/frame.hpp"
#include "net/stream.hpp"

#include "net/wake_signal.hpp"

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

namespace sockit::services {

class FrameConnection {
 public:
  FrameConnection(net::Stream stream, std::size_t max_payload = codec::kDefaultMaxPayload);

  net::Stream& stream() { return stream_; }
  const codec::FrameDecoder& decoder() const { return decoder_; }

  // Reading (one reader at a time).
  // The first bytes: false if the peer's first byte is not `type` (it does
  // not speak frames); ec set if nothing came.
  boost::asio::awaitable<bool> first_byte_is(std::uint8_t type, boost::system::error_code& ec);
  // The next whole frame (valid until the next read), or nothing with ec:
  // eof (closed between frames), bad_message (decoder().error() says what,
  // or the peer closed mid-frame), or the I/O error.
  boost::asio::awaitable<std::optional<codec::Frame>> read_frame(boost::system::error_code& ec);

  // Writing. Data frames: acquire() a buffer, fill payload_area(), submit().
  std::vector<char> acquire();
  static std::span<char> payload_area(std::vector<char>& buffer);
  // Queues the frame; waits while the queue is over its high-water mark.
  // False once the connection failed (the frame is dropped).
  boost::asio::awaitable<bool> submit(std::vector<char> buffer, std::uint8_t type, std::size_t payload_size);
  // Control frames, copied.
  boost::asio::awaitable<bool> send(std::uint8_t type, std::string_view payload);
  // Sends queued frames until finish() and an empty queue, or a write fails.
  boost::asio::awaitable<void> run_writer();
  // Waits until everything queued so far is written (true) or failed.
  boost::asio::awaitable<bool> flush();
  // The writer ends once the queue is empty.
  void finish();
  bool failed() const { return failed_; }

  // Totals, for service counters.
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  net::Stream stream_;
  codec::FrameDecoder decoder_;
  std::deque<std::vector<char>> queue_;
  std::size_t queued_bytes_ = 0;
  std::vector<std::vector<char>> spare_;  // written buffers, reused by acquire()
  net::WakeSignal queued_signal_;         // the writer waits here for frames
  net::WakeSignal written_signal_;        // producers wait here for room
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  bool finishing_ = false;
  bool failed_ = false;
};

}  // namespace sockit::services
