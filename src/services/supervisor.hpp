// Supervisor: runs a set of services on one Engine until SIGINT/SIGTERM,
// then drains them: stop accepting, let live sessions end within the grace
// period, close the rest, exit 0. `sockit serve` and every `<tool> serve` use it.
#pragma once

#include "services/service.hpp"

#include <chrono>
#include <memory>
#include <vector>

namespace sockit::services {

struct SupervisorOptions {
  unsigned threads = 0;  // 0: the default, net::default_loop_count()
  std::chrono::milliseconds shutdown_grace{5000};
  // true: only the bound addresses on stdout, one per line (for scripts);
  // false: a table of addresses with a command to reach each.
  bool print_addresses = false;
  // Replaces the leading "sockit" of each service's try-it command.
  std::string program = "sockit";
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options) : options_(options) {}
  void add(std::unique_ptr<Service> service) { services_.push_back(std::move(service)); }

  // Starts every service and serves until a signal. Throws (before serving)
  // what a service's start() throws. Returns the process exit code.
  int run();

 private:
  SupervisorOptions options_;
  std::vector<std::unique_ptr<Service>> services_;
};

}  // namespace sockit::services
