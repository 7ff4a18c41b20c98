// Trust on first use for TLS servers, as ssh's known_hosts: the first
// connection to HOST:PORT records its certificate fingerprint; later ones
// must present the same.
#pragma once

#include <string>

namespace sockit::services {

// $XDG_STATE_HOME or ~/.local/state, + sockit/known_hosts.
std::string default_known_hosts();

enum class HostCheck { known, recorded, changed };

struct HostCheckResult {
  HostCheck check;
  std::string recorded_fingerprint;  // for `changed`: what the file says
};

// Looks `host_port` up in `file`; records `fingerprint` if absent (creating
// the file and its directory). Throws std::runtime_error if it cannot write.
HostCheckResult check_known_host(const std::string& file, const std::string& host_port,
                                 const std::string& fingerprint);

}  // namespace sockit::services
