#include "services/known_hosts.hpp"

#include "services/state_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sockit::services {

std::string default_known_hosts() {
  auto dir = services::state_dir();
  return (dir.empty() ? std::string("./sockit") : dir) + "/known_hosts";
}

HostCheckResult check_known_host(const std::string& file, const std::string& host_port,
                                 const std::string& fingerprint) {
  {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string host, recorded;
      if (!(fields >> host >> recorded) || host.starts_with("#") || host != host_port) continue;
      if (recorded == fingerprint) return {HostCheck::known, recorded};
      return {HostCheck::changed, recorded};
    }
  }
  std::error_code ec;
  auto parent = std::filesystem::path(file).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  std::ofstream out(file, std::ios::app);
  out << host_port << ' ' << fingerprint << '\n';
  out.flush();
  if (!out) throw std::runtime_error("cannot record the server's fingerprint in " + file);
  return {HostCheck::recorded, {}};
}

}  // namespace sockit::services
