// StartupError: a failure at start-up the user can fix (bad address, port in
// use, no permission). Its message is one line; the CLI prints it and exits 1.
// Kept apart from the listener so the CLI need not include Asio to catch it.
#pragma once

#include <stdexcept>

namespace sockit::net {

struct StartupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace sockit::net
