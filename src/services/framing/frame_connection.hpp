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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::services {

// A frame being built for submit(). Its storage is not zero-filled (a 1 MiB
// file chunk was memset for every use, and for every 4 KiB file) and keeps
// its capacity when reused: the frame's length is kept apart from it.
class FrameBuffer {
 public:
  FrameBuffer() = default;
  char* data() { return storage_.get(); }
  std::size_t capacity() const { return capacity_; }
  // Header and payload once submitted; header and payload area before.
  std::size_t size() const { return size_; }

 private:
  friend class FrameConnection;
  std::unique_ptr<char[]> storage_;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

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
  // The buffer holding the frame just read, handed over with it (the
  // payload stays valid there); reading goes on in `replacement`. See
  // FrameDecoder::swap_buffer.
  std::vector<char> keep_frame_buffer(std::vector<char> replacement) {
    decoder_.swap_buffer(replacement);
    return replacement;
  }

  // Writing. Data frames: acquire() a buffer for up to `payload` bytes,
  // fill payload_area(), submit().
  FrameBuffer acquire(std::size_t payload = codec::kDataFramePayload);
  static std::span<char> payload_area(FrameBuffer& buffer);
  // Queues the frame; waits while the queue is over its high-water mark.
  // False once the connection failed (the frame is dropped).
  boost::asio::awaitable<bool> submit(FrameBuffer buffer, std::uint8_t type, std::size_t payload_size);
  // Queues whole frames the caller encoded in the first `size` bytes of an
  // acquire()d buffer (headers included): several small frames in one
  // buffer cost one queue entry and no allocation of their own.
  boost::asio::awaitable<bool> submit_encoded(FrameBuffer buffer, std::size_t size);
  // The same for frames collected in a string (an outbox of small frames):
  // queues a copy and empties `frames`, which must outlive the call.
  boost::asio::awaitable<bool> submit_encoded(std::string& frames);
  // Whether submit_file() sends from the page cache (sendfile(2)): a plain
  // stream; TLS has to encrypt in user space.
  bool can_send_file() const { return !stream_.is_tls(); }
  // Queues a frame whose payload is `length` bytes of the open file `fd` from
  // `offset`, sent with sendfile(2) when its turn comes (fd must stay open
  // until flush()). Should the file have shrunk meanwhile, the frame is
  // padded with zeros, its length being on the wire already: the caller's
  // end-to-end check, made from what it read, then fails.
  boost::asio::awaitable<bool> submit_file(std::uint8_t type, int fd, std::uint64_t offset,
                                           std::size_t length);
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
  // A queued frame: all in `frame`, or its header there and its payload in
  // a file.
  struct Outgoing {
    FrameBuffer frame;
    int file = -1;
    std::uint64_t file_offset = 0;
    std::size_t file_length = 0;
  };
  boost::asio::awaitable<bool> enqueue(Outgoing item);
  boost::asio::awaitable<void> write_file(const Outgoing& item, boost::system::error_code& ec);
  void recycle(FrameBuffer buffer);

  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  std::vector<FrameBuffer> spare_;  // written buffers, reused by acquire()
  std::size_t spare_bytes_ = 0;     // their capacity

  net::WakeSignal queued_signal_;   // the writer waits here for frames
  net::WakeSignal written_signal_;  // producers wait here for room
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  bool finishing_ = false;
  bool failed_ = false;
};

}  // namespace sockit::services
