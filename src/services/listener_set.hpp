// ListenerSet: the stream listeners of one service. Every address it listens
// on shares one connection limit (total and per IP), one refusal and one
// session handler, so `--max-connections` means the service's connections,
// not each address's.
#pragma once

#include "net/listener.hpp"
#include "services/service.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sockit::services {

struct ListenLimits {
  std::size_t max_connections = 0;  // 0: unlimited
  std::size_t max_per_ip = 0;
  int backlog = 1024;
};

class ListenerSet {
 public:
  // `refusal`: what a client over the limit reads before the close (empty:
  // net::ListenOptions' default line).
  ListenerSet(const std::string& log_name, Counters& counters, ListenLimits limits,
              net::SessionHandler handler, std::string refusal = {});

  // Binds `endpoint` and starts accepting on it; returns what was bound.
  // Throws net::StartupError with a one-line message.
  const net::Endpoint& listen(net::Engine& engine, const net::Endpoint& endpoint);
  const net::Endpoint& listen(net::Engine& engine, const std::string& address);
  // Stops accepting on every address; live sessions go on.
  void stop();

 private:
  net::ListenOptions options_;
  std::shared_ptr<net::ConnectionLimiter> limiter_;
  net::SessionHandler handler_;
  std::vector<std::shared_ptr<net::StreamListener>> listeners_;
};

}  // namespace sockit::services
