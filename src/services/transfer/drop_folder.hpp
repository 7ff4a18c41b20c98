// The drop folder: `sockit recv` as a `sockit serve` service ([recv.NAME]),
// receiving any number of senders into one directory. Off unless configured.
#pragma once

#include "services/service.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace sockit::transfer {

struct DropFolderConfig {
  std::string name = "drop";
  std::vector<std::string> listen;  // default 127.0.0.1:7023
  std::string dir;                  // required
  bool overwrite = false;
  bool tls_self_signed = false;
  std::string tls_dir;  // default: state_dir()/transfer-tls
  std::size_t max_connections = 16;
  std::size_t max_per_ip = 4;
  std::chrono::seconds stall_timeout{60};
};

// Throws std::invalid_argument for settings that cannot work.
std::unique_ptr<services::Service> make_drop_folder(DropFolderConfig config);

}  // namespace sockit::transfer
