#include "services/framing/frame_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstring>

namespace sockit::services {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHighWater = 256 * 1024;  // queued bytes before producers wait
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
    auto into = decoder_.prepare(kReadSize);
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

std::vector<char> FrameConnection::acquire() {
  std::vector<char> buffer;
  if (!spare_.empty()) {
    buffer = std::move(spare_.back());
    spare_.pop_back();
  }
  buffer.resize(codec::kFrameHeaderSize + codec::kDataFramePayload);
  return buffer;
}

std::span<char> FrameConnection::payload_area(std::vector<char>& buffer) {
  return std::span(buffer).subspan(codec::kFrameHeaderSize);
}

awaitable<bool> FrameConnection::submit(std::vector<char> buffer, std::uint8_t type,
                                        std::size_t payload_size) {
  while (queued_bytes_ >= kHighWater && !failed_) co_await written_signal_.wait();
  if (failed_) co_return false;
  auto header = codec::frame_header(type, payload_size);
  std::memcpy(buffer.data(), header.data(), header.size());
  buffer.resize(codec::kFrameHeaderSize + payload_size);
  queued_bytes_ += buffer.size();
  queue_.push_back(std::move(buffer));
  queued_signal_.notify();
  co_return true;
}

awaitable<bool> FrameConnection::send(std::uint8_t type, std::string_view payload) {
  std::vector<char> buffer;
  buffer.reserve(codec::kFrameHeaderSize + payload.size());
  codec::append_frame(buffer, type, std::span<const char>(payload.data(), payload.size()));
  while (queued_bytes_ >= kHighWater && !failed_) co_await written_signal_.wait();
  if (failed_) co_return false;
  queued_bytes_ += buffer.size();
  queue_.push_back(std::move(buffer));
  queued_signal_.notify();
  co_return true;
}

awaitable<void> FrameConnection::run_writer() {
  std::vector<std::vector<char>> batch;
  std::vector<std::span<const char>> pieces;
  while (!failed_) {
    if (queue_.empty()) {
      if (finishing_) break;
      co_await queued_signal_.wait();
      continue;
    }
    batch.clear();
    pieces.clear();
    while (!queue_.empty()) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
      pieces.emplace_back(batch.back().data(), batch.back().size());
    }
    error_code ec;
    co_await stream_.write(pieces, ec);
    for (auto& buffer : batch) {
      queued_bytes_ -= buffer.size();
      if (!ec) bytes_written_ += buffer.size();
      if (spare_.size() < kMaxSpare &&
          buffer.capacity() >= codec::kFrameHeaderSize + codec::kDataFramePayload)
        spare_.push_back(std::move(buffer));
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
