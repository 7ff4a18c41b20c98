// The exec service: authenticated remote commands over frames
// (docs/exec.md, docs/protocol/frames.md).
#pragma once

#include "services/exec/exec_config.hpp"
#include "services/service.hpp"

#include <memory>

namespace sockit::exec {

// Throws std::invalid_argument for a bad config (see validate()).
std::unique_ptr<services::Service> make_exec_server(ExecConfig config);

}  // namespace sockit::exec
