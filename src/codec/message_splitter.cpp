#include "codec/message_splitter.hpp"

namespace sockit::codec {

void MessageSplitter::compact() {
  // Drop what the caller has consumed before appending, so the buffer never
  // holds more than one message plus one read.
  if (consumed_ == 0) return;
  buffer_.erase(0, consumed_);
  scanned_ -= consumed_;
  consumed_ = 0;
}

MessageSplitter::Status MessageSplitter::feed(std::string_view bytes) {
  if (failed_) return Status::too_long;
  compact();
  buffer_.append(bytes);
  // Invariant: [consumed_, scanned_) holds no '\n', so the current line
  // starts at consumed_ and the search resumes at scanned_: each byte is
  // searched once, even when a slow peer sends one byte at a time.
  std::size_t line_start = consumed_;
  std::size_t search_from = scanned_;
  for (;;) {
    auto newline = buffer_.find('\n', search_from);
    std::size_t end = newline == std::string::npos ? buffer_.size() : newline;
    std::size_t length = end - line_start;
    if (newline != std::string::npos && length > 0 && buffer_[end - 1] == '\r') --length;
    // A partial line may still be waiting for the '\n' after its '\r'.
    std::size_t allowed = newline == std::string::npos ? max_message_ + 1 : max_message_;
    if (length > allowed) {
      failed_ = true;
      buffer_.clear();
      consumed_ = scanned_ = 0;
      return Status::too_long;
    }
    if (newline == std::string::npos) return Status::ok;
    line_start = search_from = newline + 1;
  }
}

std::optional<Message> MessageSplitter::next() {
  auto newline = buffer_.find('\n', std::max(scanned_, consumed_));
  if (newline == std::string::npos) {
    scanned_ = buffer_.size();
    return std::nullopt;
  }
  std::string_view line(buffer_.data() + consumed_, newline - consumed_);
  std::string_view ending(buffer_.data() + newline, 1);
  if (line.ends_with('\r')) {
    line.remove_suffix(1);
    ending = std::string_view(buffer_.data() + newline - 1, 2);
  }
  consumed_ = newline + 1;
  scanned_ = consumed_;
  return Message{line, ending};
}

std::optional<Message> MessageSplitter::flush() {
  if (!has_partial()) return std::nullopt;
  std::string_view rest(buffer_.data() + consumed_, buffer_.size() - consumed_);
  consumed_ = buffer_.size();
  scanned_ = consumed_;
  return Message{rest, {}};
}

}  // namespace sockit::codec
