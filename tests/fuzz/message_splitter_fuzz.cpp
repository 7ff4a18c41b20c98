// Splitting a stream at any points yields the same messages as whole, and
// no message ever exceeds the limit.
#include "codec/message_splitter.hpp"

#include <cstdlib>
#include <string>
#include <vector>

namespace {
std::vector<std::string> split(std::string_view input, std::size_t chunk, bool& too_long) {
  sockit::codec::MessageSplitter splitter(16);
  std::vector<std::string> out;
  too_long = false;
  for (std::size_t i = 0; i < input.size() && !too_long; i += chunk) {
    if (splitter.feed(input.substr(i, chunk)) == sockit::codec::MessageSplitter::Status::too_long)
      too_long = true;
    while (auto m = splitter.next()) {
      if (m->text.size() > 16) std::abort();
      out.push_back(std::string(m->text) + "|" + std::string(m->ending));
    }
  }
  if (!too_long)
    if (auto m = splitter.flush()) out.push_back(std::string(m->text) + "|");
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  if (size == 0) return 0;
  std::size_t chunk = 1 + data[0] % 7;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool whole_too_long = false, split_too_long = false;
  auto whole = split(input, input.size() + 1, whole_too_long);
  auto pieces = split(input, chunk, split_too_long);
  if (whole_too_long != split_too_long) std::abort();
  if (!whole_too_long && whole != pieces) std::abort();
  return 0;
}
