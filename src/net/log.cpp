#include "net/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace sockit::net {

void init_logging(std::string_view level_name) {
  auto level = spdlog::level::from_str(std::string(level_name));
  // from_str falls back to "off" for unknown names; only accept real ones.
  if (level == spdlog::level::off && level_name != "off")
    throw std::invalid_argument("unknown log level '" + std::string(level_name) +
                                "' (use trace, debug, info, warn, error or off)");
  spdlog::drop("sockit");
  auto logger = spdlog::stderr_logger_mt("sockit");
  logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%e level=%l %v");
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace sockit::net
