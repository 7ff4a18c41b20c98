// Logging: one line per event on stderr, key=value, peer address first.
//   ts=2026-11-22T10:00:00.123 level=info peer=127.0.0.1:5000 service=echo.main event=accept
#pragma once

#include <string_view>

namespace sockit::net {

// Accepts trace, debug, info, warn, error, off; throws std::invalid_argument
// naming the level otherwise.
void init_logging(std::string_view level);

}  // namespace sockit::net
