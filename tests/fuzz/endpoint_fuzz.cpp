// Any text either parses into an endpoint that prints and re-parses to the
// same value, or is rejected with a one-line message.
#include "net/endpoint.hpp"

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto transport : {sockit::net::Transport::tcp, sockit::net::Transport::udp}) {
    auto parsed = sockit::net::parse_endpoint(text, transport);
    if (!parsed.endpoint) {
      if (parsed.error.empty() || parsed.error.find('\n') != std::string::npos) std::abort();
      continue;
    }
    auto again = sockit::net::parse_endpoint(parsed.endpoint->to_string());
    if (!again.endpoint || !(*again.endpoint == *parsed.endpoint)) std::abort();
  }
  return 0;
}
