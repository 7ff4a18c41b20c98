// Frames: the length-prefixed, typed units every sockit protocol is cut into
// (docs/protocol/frames.md). Sans-I/O: the decoder takes bytes and gives
// whole frames or a precise error; the encoder makes headers and frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::codec {

inline constexpr std::size_t kFrameHeaderSize = 5;
inline constexpr std::size_t kDefaultMaxPayload = 1024 * 1024;
// Senders keep data frames (STDOUT, file chunks...) at or under this.
inline constexpr std::size_t kDataFramePayload = 64 * 1024;

// Common frame types (0x01-0x0f); protocols use 0x10-0x7f.
enum class FrameType : std::uint8_t { hello = 0x01, error = 0x02 };
constexpr std::uint8_t operator+(FrameType type) {
  return static_cast<std::uint8_t>(type);
}

// The code carried by an ERROR frame.
enum class ErrorCode : std::uint16_t {
  malformed = 1,
  too_large = 2,
  unsupported_version = 3,
  wrong_service = 4,
  unexpected = 5,
  auth_failed = 6,
  locked_out = 7,
  timeout = 8,
  busy = 9,
  internal = 10,
};
const char* error_code_name(ErrorCode code);  // "auth_failed"; "unknown" otherwise

struct Frame {
  std::uint8_t type = 0;
  std::span<const char> payload;  // valid until the decoder is next written to
  std::string_view text() const { return {payload.data(), payload.size()}; }
};

class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_payload = kDefaultMaxPayload);

  // Zero-copy receive: a buffer of at least `min_size` bytes to read into,
  // then commit() how many were read. Invalidates frames returned before.
  std::span<char> prepare(std::size_t min_size = 16 * 1024);
  void commit(std::size_t n);
  // Copying receive: prepare + copy + commit.
  void feed(std::span<const char> bytes);
  void feed(std::string_view bytes) { feed(std::span<const char>(bytes.data(), bytes.size())); }
  // A std::string converts to both of the above: without this, ambiguous.
  void feed(const std::string& bytes) { feed(std::string_view(bytes)); }

  enum class Status { frame, need_more, error };
  // The next whole frame, `need_more`, or `error` (sticky: a stream with one
  // bad header has no trustworthy boundary left; error() says what).
  Status next(Frame& frame);
  const std::string& error() const { return error_; }
  ErrorCode error_code() const { return error_code_; }

  // Bytes received but not yet returned as frames (a partial frame at EOF
  // means the peer was cut off mid-frame).
  std::size_t buffered() const { return end_ - begin_; }
  // Bytes still to come of the frame whose header is buffered (0 when no
  // header is, or the frame is complete): reading no more than this keeps a
  // large frame from sharing the buffer with the next one.
  std::size_t missing() const;
  // Hands over the buffer holding the frames returned so far (their
  // payloads stay valid in it, now `other`) and goes on in `other`'s old
  // buffer, into which the bytes not yet returned are copied: a receiver
  // keeps a large payload without copying it. Cheap when few are buffered.
  void swap_buffer(std::vector<char>& other);
  std::size_t max_payload() const { return max_payload_; }

 private:
  void fail(ErrorCode code, std::string what);

  std::size_t max_payload_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // first byte not yet returned
  std::size_t end_ = 0;    // one past the last byte received
  bool failed_ = false;
  std::string error_;
  ErrorCode error_code_ = ErrorCode::malformed;
};

// A frame header for a payload of `length` bytes (for gather writes that
// send the payload from its own buffer).
std::array<char, kFrameHeaderSize> frame_header(std::uint8_t type, std::size_t length);
// Appends a whole frame to `out`.
void append_frame(std::string& out, std::uint8_t type, std::string_view payload);
void append_frame(std::vector<char>& out, std::uint8_t type, std::span<const char> payload);

// HELLO and ERROR payloads.
inline constexpr std::string_view kHelloMagic = "SOCKIT";
struct Hello {
  std::uint8_t version = 1;
  std::string service;  // "exec"
};
std::string hello_payload(const Hello& hello);
// Nothing if the payload is not a HELLO (wrong magic, empty or non-ASCII name).
std::optional<Hello> parse_hello(std::string_view payload);

struct ErrorMessage {
  ErrorCode code = ErrorCode::internal;
  std::string text;
};
std::string error_payload(ErrorCode code, std::string_view text);
std::optional<ErrorMessage> parse_error(std::string_view payload);

}  // namespace sockit::codec
