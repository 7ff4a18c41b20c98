// The echo service: TCP, UDP and Unix-socket echo in the tutorials' modes.
#pragma once

#include "services/echo/echo_config.hpp"
#include "services/service.hpp"

#include <memory>

namespace sockit::echo {

// Throws std::invalid_argument for a bad config (see validate()).
std::unique_ptr<services::Service> make_echo_server(EchoConfig config);

}  // namespace sockit::echo
