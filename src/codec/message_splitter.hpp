// MessageSplitter: cuts a byte stream into messages for line-oriented
// services. A message ends at "\n" or "\r\n" (what nc and telnet send); a
// partial message with no newline becomes a whole one when the caller says
// the peer paused or closed (what the tutorials' clients do: one send, then
// wait). Sans-I/O: bytes in, messages out, no clocks.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec {

struct Message {
  std::string_view text;    // without its line ending
  std::string_view ending;  // "\n", "\r\n", or "" for a flushed partial message
};

class MessageSplitter {
 public:
  // A message (without its ending) longer than max_message is an error.
  explicit MessageSplitter(std::size_t max_message) : max_message_(max_message) {}

  enum class Status { ok, too_long };

  // Adds bytes. Views from next() stay valid only until the next feed().
  // After too_long the splitter stays failed: the stream has no trustworthy
  // boundary left, so next() and flush() give nothing more.
  Status feed(std::string_view bytes);
  // The next complete line, if any.
  std::optional<Message> next();
  // The peer paused or closed: the partial line (if any) as a message.
  std::optional<Message> flush();

  bool has_partial() const { return consumed_ < buffer_.size(); }
  std::size_t max_message() const { return max_message_; }

 private:
  void compact();

  std::size_t max_message_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned
  std::size_t scanned_ = 0;   // bytes of buffer_ known to hold no '\n'
  bool failed_ = false;
};

}  // namespace sockit::codec
