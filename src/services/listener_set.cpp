#include "services/listener_set.hpp"

namespace sockit::services {

ListenerSet::ListenerSet(const std::string& log_name, Counters& counters, ListenLimits limits,
                         net::SessionHandler handler, std::string refusal)
    : limiter_(std::make_shared<net::ConnectionLimiter>(limits.max_connections, limits.max_per_ip)),
      handler_(std::move(handler)) {
  options_.backlog = limits.backlog;
  options_.log_name = log_name;
  options_.refused = &counters.refused;
  if (!refusal.empty()) options_.refusal = std::move(refusal);
}

const net::Endpoint& ListenerSet::listen(net::Engine& engine, const net::Endpoint& endpoint) {
  auto listener = net::StreamListener::bind(engine, endpoint, options_);
  listener->start(handler_, limiter_);
  listeners_.push_back(std::move(listener));
  return listeners_.back()->bound();
}

const net::Endpoint& ListenerSet::listen(net::Engine& engine, const std::string& address) {
  return listen(engine, net::parse_endpoint_or_throw(address));
}

void ListenerSet::stop() {
  for (auto& listener : listeners_) listener->stop();
}

}  // namespace sockit::services
