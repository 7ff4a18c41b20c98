// The sending side's list of what to send: each PATH given, directories
// walked recursively (not following symlinks), each entry named as the
// receiver will name it: the PATH's last component, then the path inside it.
#pragma once

#include "codec/transfer_messages.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace sockit::transfer {

struct SourceEntry {
  codec::transfer::Entry entry;  // id = index in the list
  std::string local_path;
};

struct SourceList {
  std::vector<SourceEntry> entries;
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  // One line each: what was left out and why (a symlink, a socket, a name
  // the protocol cannot carry, an unreadable directory).
  std::vector<std::string> skipped;
};

// Throws std::invalid_argument naming a PATH that does not exist.
SourceList collect_sources(const std::vector<std::string>& paths);

}  // namespace sockit::transfer
