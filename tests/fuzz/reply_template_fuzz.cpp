// Any template either parses or is rejected with std::invalid_argument; a
// parsed one renders without crashing.
#include "codec/reply_template.hpp"

#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto reply = sockit::codec::ReplyTemplate::parse(text);
    std::string out;
    reply.render("message", "127.0.0.1:1", out);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
