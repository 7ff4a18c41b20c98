// The configuration files: `sockit serve --config`, the FTP accounts file
// and the chat contact book. Any text either parses or is refused with one std::invalid_argument
// whose message is one line (that is what the user reads); nothing else may
// escape, crash or hang. Peer addresses parse or give nothing.
#include <stdexcept>
#include <string>
#include <string_view>

#include "services/chat/chat_config.hpp"
#include "services/ftp/accounts.hpp"
#include "services/serve/serve_config.hpp"

namespace {
void check(bool ok) {
  if (!ok) __builtin_trap();
}

template <typename Parse>
void parses_or_refuses_in_one_line(Parse parse) {
  try {
    parse();
  } catch (const std::invalid_argument& e) {
    std::string_view what = e.what();
    check(!what.empty() && what.find('\n') == std::string_view::npos);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parses_or_refuses_in_one_line([&] { (void)sockit::serve::parse_serve_config(text, "fuzz.toml"); });
  parses_or_refuses_in_one_line([&] { (void)sockit::chat::parse_contacts(text, "contacts.toml"); });
  parses_or_refuses_in_one_line(
      [&] { (void)sockit::ftp::AccountBook::parse(text, "accounts.toml", "/srv/ftp"); });
  if (auto peer = sockit::chat::parse_peer_address(text)) check(!peer->host.empty());
  return 0;
}
