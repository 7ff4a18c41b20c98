#include "services/framing/frame_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <cstring>

namespace sockit::services {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHighWater = 256 * 1024;  // queued bytes before producers wait
// Written buffers kept for reuse, by capacity: four 1 MiB file chunks, or
// many small frames, without going back to malloc (which maps and unmaps
// buffers this large, a page fault per 4 KiB each time).
constexpr std::size_t kMaxSpareBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxSpare = 8;
constexpr std::size_t kReadSize = 64 * 1024;
}  // namespace

FrameConnection::FrameConnection(net::Stream stream, std::size_t max_payload)
    : stream_(std::move(stream)),
      decoder_(max_payload),
      queued_signal_(stream_.socket().get_executor()),
      written_signal_(stream_.socket().get_executor()) {}

awaitable<bool> FrameConnection::first_byte_is(std::uint8_t type, error_code& ec) {
  char buffer[512];
  std::size_t n = co_await stream_.read_some(buffer, ec);
  if (ec) co_return false;
  bytes_read_ += n;
  decoder_.feed(std::span<const char>(buffer, n));
  co_return static_cast<std::uint8_t>(buffer[0]) == type;
}

awaitable<std::optional<codec::Frame>> FrameConnection::read_frame(error_code& ec) {
  codec::Frame frame;
  for (;;) {
    switch (decoder_.next(frame)) {
      case codec::FrameDecoder::Status::frame:
        ec = {};
        co_return frame;
      case codec::FrameDecoder::Status::error:
        ec = asio::error::make_error_code(asio::error::invalid_argument);
        co_return std::nullopt;
      case codec::FrameDecoder::Status::need_more:
        break;
    }
    // A large frame is read up to its end and the next header, no further:
    // the buffer then holds little besides it, so it can start over (or be
    // handed over, keep_frame_buffer) instead of moving the start of the
    // next frame to the front (a copy of most of the data).
    std::size_t missing = decoder_.missing();
    auto into = decoder_.prepare(std::max(kReadSize, missing + codec::kFrameHeaderSize));
    if (missing >= kReadSize) into = into.first(missing + codec::kFrameHeaderSize);
    std::size_t n = co_await stream_.read_some(into, ec);
    if (ec) {
      // A close in the middle of a frame is a truncated frame, not a clean end.
      if (ec == asio::error::eof && decoder_.buffered() > 0)
        ec = asio::error::make_error_code(asio::error::connection_reset);
      co_return std::nullopt;
    }
    bytes_read_ += n;
    decoder_.commit(n);
  }
}

FrameBuffer FrameConnection::acquire(std::size_t payload) {
  std::size_t needed = codec::kFrameHeaderSize + payload;
  // The smallest spare that fits; a new buffer when none does.
  auto best = spare_.end();
  for (auto it = spare_.begin(); it != spare_.end(); ++it)
    if (it->capacity_ >= needed && (best == spare_.end() || it->capacity_ < best->capacity_)) best = it;
  FrameBuffer buffer;
  if (best != spare_.end()) {
    buffer = std::move(*best);
    spare_.erase(best);
    spare_bytes_ -= buffer.capacity_;
  } else {
    buffer.storage_ = std::make_unique_for_overwrite<char[]>(needed);
    buffer.capacity_ = needed;
  }
  buffer.size_ = needed;
  return buffer;
}

std::span<char> FrameConnection::payload_area(FrameBuffer& buffer) {
  return {buffer.data() + codec::kFrameHeaderSize, buffer.size() - codec::kFrameHeaderSize};
}

void FrameConnection::recycle(FrameBuffer buffer) {
  if (!buffer.storage_ || buffer.capacity_ > kMaxSpareBytes) return;
  // Keep the biggest: a big chunk then never needs a fresh allocation, and
  // a small frame fits in any spare.
  while (!spare_.empty() &&
         (spare_.size() >= kMaxSpare || spare_bytes_ + buffer.capacity_ > kMaxSpareBytes)) {
    auto smallest = std::min_element(spare_.begin(), spare_.end(),
                                     [](const auto& a, const auto& b) { return a.capacity_ < b.capacity_; });
    if (smallest->capacity_ >= buffer.capacity_) return;
    spare_bytes_ -= smallest->capacity_;
    spare_.erase(smallest);
  }
  spare_bytes_ += buffer.capacity_;
  spare_.push_back(std::move(buffer));
}

awaitable<bool> FrameConnection::enqueue(Outgoing item) {
  while (queued_bytes_ >= kHighWater && !failed_) co_await written_signal_.wait();
  if (failed_) co_return false;
  queued_bytes_ += item.frame.size() + item.file_length;
  queue_.push_back(std::move(item));
  queued_signal_.notify();
  co_return true;
}

awaitable<bool> FrameConnection::submit(FrameBuffer buffer, std::uint8_t type, std::size_t payload_size) {
  auto header = codec::frame_header(type, payload_size);
  std::memcpy(buffer.data(), header.data(), header.size());
  buffer.size_ = codec::kFrameHeaderSize + payload_size;
  Outgoing item;
  item.frame = std::move(buffer);
  co_return co_await enqueue(std::move(item));
}

awaitable<bool> FrameConnection::submit_encoded(FrameBuffer buffer, std::size_t size) {
  buffer.size_ = size;
  Outgoing item;
  item.frame = std::move(buffer);
  // (A named result: GCC 12 and `co_return co_await`.)
  bool queued = co_await enqueue(std::move(item));
  co_return queued;
}

awaitable<bool> FrameConnection::submit_encoded(std::string& frames) {
  if (frames.empty()) co_return true;
  auto buffer = acquire(frames.size() - codec::kFrameHeaderSize);
  std::memcpy(buffer.data(), frames.data(), frames.size());
  std::size_t size = frames.size();
  frames.clear();
  bool queued = co_await submit_encoded(std::move(buffer), size);
  co_return queued;
}

awaitable<bool> FrameConnection::submit_file(std::uint8_t type, int fd, std::uint64_t offset,
                                             std::size_t length) {
  Outgoing item;
  item.frame = acquire(0);
  auto header = codec::frame_header(type, length);
  std::memcpy(item.frame.data(), header.data(), header.size());
  item.file = fd;
  item.file_offset = offset;
  item.file_length = length;
  co_return co_await enqueue(std::move(item));
}

awaitable<bool> FrameConnection::send(std::uint8_t type, std::string_view payload) {
  // Control frames are small: their own exact buffer, not a spare (which
  // may be a 1 MiB one).
  Outgoing item;
  item.frame.storage_ = std::make_unique_for_overwrite<char[]>(codec::kFrameHeaderSize + payload.size());
  item.frame.capacity_ = item.frame.size_ = codec::kFrameHeaderSize + payload.size();
  auto header = codec::frame_header(type, payload.size());
  std::memcpy(item.frame.data(), header.data(), header.size());
  if (!payload.empty()) std::memcpy(item.frame.data() + header.size(), payload.data(), payload.size());
  co_return co_await enqueue(std::move(item));
}

awaitable<void> FrameConnection::write_file(const Outgoing& item, error_code& ec) {
  std::size_t sent = co_await stream_.send_file(item.file, item.file_offset, item.file_length, ec);
  // The file shrank after its frame's length was sent: zeros keep the
  // stream in step (the digest, made from the bytes read, will not match).
  static const std::vector<char> zeros(kReadSize);
  while (!ec && sent < item.file_length) {
    std::size_t n = std::min(zeros.size(), item.file_length - sent);
    std::span<const char> piece(zeros.data(), n);
    co_await stream_.write(std::span(&piece, 1), ec);
    sent += n;
  }
}

awaitable<void> FrameConnection::run_writer() {
  std::vector<Outgoing> batch;
  std::vector<std::span<const char>> pieces;
  while (!failed_) {
    if (queue_.empty()) {
      if (finishing_) break;
      co_await queued_signal_.wait();
      continue;
    }
    batch.clear();
    while (!queue_.empty()) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    error_code ec;
    // Frames in memory go out in one gather write; a frame from a file
    // ends it with its header, and its payload follows by sendfile.
    for (std::size_t i = 0; i < batch.size() && !ec;) {
      pieces.clear();
      std::size_t j = i;
      while (j < batch.size()) {
        pieces.emplace_back(batch[j].frame.data(), batch[j].frame.size());
        if (batch[j++].file >= 0) break;
      }
      co_await stream_.write(pieces, ec);
      if (!ec && batch[j - 1].file >= 0) co_await write_file(batch[j - 1], ec);
      i = j;
    }
    for (auto& item : batch) {
      std::size_t size = item.frame.size() + item.file_length;
      queued_bytes_ -= size;
      if (!ec) bytes_written_ += size;
      recycle(std::move(item.frame));
    }
    if (ec) failed_ = true;
    written_signal_.notify();
  }
  // Nothing more will be written: release every waiting producer.
  failed_ = failed_ || !queue_.empty();
  written_signal_.notify();
}

awaitable<bool> FrameConnection::flush() {
  while (queued_bytes_ > 0 && !failed_) co_await written_signal_.wait();
  co_return !failed_;
}

void FrameConnection::finish() {
  finishing_ = true;
  queued_signal_.notify();
}

}  // namespace sockit::services
