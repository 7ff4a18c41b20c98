#include "services/supervisor.hpp"

#include "net/engine.hpp"
#include "net/listener.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

namespace sockit::services {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::uint64_t active_sessions(const std::vector<std::unique_ptr<Service>>& services) {
  std::uint64_t total = 0;
  for (const auto& s : services) total += s->counters().active.load(std::memory_order_relaxed);
  return total;
}

void print_addresses(const std::vector<std::unique_ptr<Service>>& services, bool bare,
                     const std::string& program) {
  for (const auto& service : services)
    for (const auto& bound : service->addresses()) {
      if (bare) {
        fmt::print("{}\n", bound.address);
        continue;
      }
      std::string command = bound.try_it;
      if (command.starts_with("sockit ")) command = program + command.substr(6);
      fmt::print("{:<12} {:<28} try: {}\n", service->name(), bound.address, command);
    }
  std::fflush(stdout);
}

// --threads / `threads` when given; otherwise the default for the most
// demanding service (one that works on files gets a loop on every core).
unsigned loop_count(unsigned requested, const std::vector<std::unique_ptr<Service>>& services) {
  if (requested != 0) return requested;
  auto work = net::LoopWork::sockets;
  for (const auto& service : services)
    if (service->loop_work() == net::LoopWork::files) work = net::LoopWork::files;
  return net::default_loop_count(net::usable_cores(), work);
}

}  // namespace

int Supervisor::run() {
  net::Engine engine(loop_count(options_.threads, services_));
  // The services' sockets must not outlive their loops: whatever happens
  // (a failed bind included), the services go before the engine does.
  struct ReleaseBeforeEngine {
    std::vector<std::unique_ptr<Service>>& services;
    ~ReleaseBeforeEngine() { services.clear(); }
  } release{services_};
  // Catch signals before anyone can learn our address: a SIGTERM sent the
  // moment the addresses are printed must drain, not kill.
  asio::signal_set signals(engine.context(0), SIGINT, SIGTERM);
  for (auto& service : services_) service->start(engine);
  // After the binds: a start-up error stays the one line on stderr.
  spdlog::info("event=engine loops={} usable_cores={}", engine.size(), net::usable_cores());
  print_addresses(services_, options_.print_addresses, options_.program);

  auto drain = [](Supervisor& self, net::Engine& engine, asio::signal_set& signals) -> asio::awaitable<void> {
    auto [ec, signal] = co_await signals.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    spdlog::info("event=shutdown signal={} grace_ms={}", signal == SIGINT ? "INT" : "TERM",
                 self.options_.shutdown_grace.count());
    for (auto& service : self.services_) service->stop();
    // A second signal cuts the grace period short.
    signals.async_wait([&engine](boost::system::error_code e, int) {
      if (!e) engine.stop();
    });
    auto give_up = Clock::now() + self.options_.shutdown_grace;
    asio::steady_timer tick(signals.get_executor());
    while (active_sessions(self.services_) > 0 && Clock::now() < give_up) {
      tick.expires_after(std::chrono::milliseconds(20));
      co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (auto left = active_sessions(self.services_)) spdlog::info("event=shutdown_close sessions={}", left);
    engine.stop();
  };
  net::spawn_logged(engine.context(0).get_executor(), drain(*this, engine, signals), "supervisor");
  engine.run();

  for (const auto& service : services_) {
    const auto& c = service->counters();
    spdlog::info("service={} event=stopped connections={} refused={} bytes_in={} bytes_out={} errors={}",
                 service->name(), c.connections.load(), c.refused.load(), c.bytes_in.load(),
                 c.bytes_out.load(), c.errors.load());
  }
  return 0;
}

}  // namespace sockit::services
