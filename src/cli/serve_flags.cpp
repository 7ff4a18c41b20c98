#include "cli/serve_flags.hpp"

#include "cli/commands.hpp"
#include "net/log.hpp"
#include "services/supervisor.hpp"

namespace sockit::cli {

void ServeFlags::add_to(CLI::App* serve) {
  serve
      ->add_option("--threads", threads,
                   "Event loops (default 0: one per usable core, minus one unless the service "
                   "works on files like FTP; docs/serve.md)")
      ->check(CLI::Range(0u, 256u));
  serve->add_option("--shutdown-grace", grace_s, "Seconds live sessions get after SIGTERM (default 5)")
      ->check(CLI::Range(0.0, 3600.0));
  serve->add_flag("--print-address", print_address, "Print the bound addresses on stdout, one per line");
  serve->add_option("--log-level", log_level, "trace, debug, info, warn, error or off");
}

void ServeFlags::start_logging() const {
  net::init_logging(log_level);
}

int ServeFlags::run_one(std::unique_ptr<services::Service> service) const {
  services::SupervisorOptions options;
  options.threads = threads;
  options.shutdown_grace = std::chrono::milliseconds(static_cast<long>(grace_s * 1000));
  options.print_addresses = print_address;
  options.program = program_name();
  services::Supervisor supervisor(options);
  supervisor.add(std::move(service));
  return supervisor.run();
}

}  // namespace sockit::cli
