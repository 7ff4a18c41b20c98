// The flags every `sockit <tool> serve` shares (--threads, --shutdown-grace,
// --print-address, --log-level) and running its one service under a
// Supervisor, so each tool's command file holds only its own options.
#pragma once

#include "services/service.hpp"

#include <CLI/App.hpp>

#include <memory>
#include <string>

namespace sockit::cli {

struct ServeFlags {
  unsigned threads = 0;
  double grace_s = 5;
  bool print_address = false;
  std::string log_level = "info";

  void add_to(CLI::App* serve);
  // Logging is set up before make_service() runs (it may log).
  template <class MakeService>
  int run(MakeService make_service) const {
    start_logging();
    return run_one(make_service());
  }

 private:
  void start_logging() const;
  int run_one(std::unique_ptr<services::Service> service) const;
};

}  // namespace sockit::cli
