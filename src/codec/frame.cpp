#include "codec/frame.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>
#include <utility>

namespace sockit::codec {

namespace {

// 0x00 and 0x80-0xff are never sent (docs/protocol/frames.md).
bool valid_type(std::uint8_t type) {
  return type != 0 && type < 0x80;
}

std::uint32_t read_be32(const char* p) {
  auto b = [p](int i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(p[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

// The smallest buffer worth allocating: a byte-at-a-time peer should not
// cause a reallocation per byte.
constexpr std::size_t kMinBuffer = 4096;

}  // namespace

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::malformed:
      return "malformed";
    case ErrorCode::too_large:
      return "too_large";
    case ErrorCode::unsupported_version:
      return "unsupported_version";
    case ErrorCode::wrong_service:
      return "wrong_service";
    case ErrorCode::unexpected:
      return "unexpected";
    case ErrorCode::auth_failed:
      return "auth_failed";
    case ErrorCode::locked_out:
      return "locked_out";
    case ErrorCode::timeout:
      return "timeout";
    case ErrorCode::busy:
      return "busy";
    case ErrorCode::internal:
      return "internal";
  }
  return "unknown";
}

FrameDecoder::FrameDecoder(std::size_t max_payload) : max_payload_(max_payload) {}

std::span<char> FrameDecoder::prepare(std::size_t min_size) {
  if (buffer_.size() - end_ >= min_size) return {buffer_.data() + end_, buffer_.size() - end_};
  std::size_t pending = end_ - begin_;
  std::size_t needed = pending + min_size;
  if (needed <= buffer_.size()) {
    // Compact. A caller that drains next() before reading leaves at most one
    // incomplete frame here, which then starts the buffer: it cannot move
    // again before it is returned, so each byte is moved at most once.
    std::copy(buffer_.begin() + begin_, buffer_.begin() + end_, buffer_.begin());
  } else {
    // Grow geometrically, but never past what one incomplete frame plus this
    // read can need (unless the caller left whole frames undrained).
    std::size_t cap = std::max(needed, max_payload_ + kFrameHeaderSize + min_size);
    std::size_t size = std::min(std::max({needed, buffer_.size() * 2, kMinBuffer}), cap);
    std::vector<char> bigger(size);
    std::copy(buffer_.begin() + begin_, buffer_.begin() + end_, bigger.begin());
    buffer_ = std::move(bigger);
  }
  begin_ = 0;
  end_ = pending;
  return {buffer_.data() + end_, buffer_.size() - end_};
}

void FrameDecoder::commit(std::size_t n) {
  assert(n <= buffer_.size() - end_ && "commit() of more bytes than prepare() gave");
  if (failed_) return;  // nothing after a bad header can be trusted: drop it
  end_ += std::min(n, buffer_.size() - end_);
}

void FrameDecoder::feed(std::span<const char> bytes) {
  if (failed_ || bytes.empty()) return;
  auto space = prepare(bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

FrameDecoder::Status FrameDecoder::next(Frame& frame) {
  if (failed_) return Status::error;
  std::size_t pending = end_ - begin_;
  if (pending == 0) return Status::need_more;
  const char* head = buffer_.data() + begin_;
  auto type = static_cast<std::uint8_t>(head[0]);
  // The type is judged from its byte alone: a peer that is not speaking
  // frames at all is told so without waiting for four more bytes.
  if (!valid_type(type)) {
    char text[64];
    std::snprintf(text, sizeof text, "frame type 0x%02x is not valid", type);
    fail(ErrorCode::malformed, text);
    return Status::error;
  }
  if (pending < kFrameHeaderSize) return Status::need_more;
  std::uint32_t length = read_be32(head + 1);
  if (length > max_payload_) {
    char text[96];
    std::snprintf(text, sizeof text, "frame of %lu bytes is over the %zu-byte limit",
                  static_cast<unsigned long>(length), max_payload_);
    fail(ErrorCode::too_large, text);
    return Status::error;
  }
  if (pending - kFrameHeaderSize < length) return Status::need_more;
  frame.type = type;
  frame.payload = {head + kFrameHeaderSize, length};
  begin_ += kFrameHeaderSize + length;
  // Everything returned: start over at the front, which is free (the bytes
  // stay where they are until the next prepare(), so the frame stays valid).
  if (begin_ == end_) begin_ = end_ = 0;
  return Status::frame;
}

std::size_t FrameDecoder::missing() const {
  std::size_t pending = end_ - begin_;
  if (failed_ || pending < kFrameHeaderSize) return 0;
  std::uint32_t length = read_be32(buffer_.data() + begin_ + 1);  // after the type byte
  if (length > max_payload_) return 0;                            // next() refuses it
  std::size_t whole = kFrameHeaderSize + length;
  return whole > pending ? whole - pending : 0;
}

void FrameDecoder::swap_buffer(std::vector<char>& other) {
  std::size_t pending = end_ - begin_;
  if (other.size() < std::max(pending, kMinBuffer)) other.resize(std::max(pending, kMinBuffer));
  std::copy(buffer_.begin() + begin_, buffer_.begin() + end_, other.begin());
  buffer_.swap(other);
  begin_ = 0;
  end_ = pending;
}

void FrameDecoder::fail(ErrorCode code, std::string what) {
  failed_ = true;
  error_code_ = code;
  error_ = std::move(what);
  begin_ = end_ = 0;
}

std::array<char, kFrameHeaderSize> frame_header(std::uint8_t type, std::size_t length) {
  assert(length <= 0xffffffffu && "a frame payload must fit in 32 bits");
  auto n = static_cast<std::uint32_t>(length);
  return {static_cast<char>(type), static_cast<char>(n >> 24), static_cast<char>(n >> 16),
          static_cast<char>(n >> 8), static_cast<char>(n)};
}

void append_frame(std::string& out, std::uint8_t type, std::string_view payload) {
  auto header = frame_header(type, payload.size());
  out.reserve(out.size() + header.size() + payload.size());
  out.append(header.data(), header.size());
  out.append(payload);
}

void append_frame(std::vector<char>& out, std::uint8_t type, std::span<const char> payload) {
  auto header = frame_header(type, payload.size());
  out.reserve(out.size() + header.size() + payload.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
}

std::string hello_payload(const Hello& hello) {
  std::string out(kHelloMagic);
  out += static_cast<char>(hello.version);
  out += hello.service;
  return out;
}

std::optional<Hello> parse_hello(std::string_view payload) {
  if (!payload.starts_with(kHelloMagic) || payload.size() < kHelloMagic.size() + 2) return std::nullopt;
  std::string_view service = payload.substr(kHelloMagic.size() + 1);
  // Printable ASCII only: the name is compared, logged and echoed in errors.
  for (char c : service)
    if (c < 0x20 || c > 0x7e) return std::nullopt;
  return Hello{static_cast<std::uint8_t>(payload[kHelloMagic.size()]), std::string(service)};
}

std::string error_payload(ErrorCode code, std::string_view text) {
  auto n = static_cast<std::uint16_t>(code);
  std::string out{static_cast<char>(n >> 8), static_cast<char>(n)};
  out += text;
  return out;
}

std::optional<ErrorMessage> parse_error(std::string_view payload) {
  if (payload.size() < 2) return std::nullopt;
  // Codes this build does not know are kept: a newer peer may send them,
  // and error_code_name() says "unknown".
  auto code = static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                         static_cast<unsigned char>(payload[1]));
  return ErrorMessage{static_cast<ErrorCode>(code), std::string(payload.substr(2))};
}

}  // namespace sockit::codec
