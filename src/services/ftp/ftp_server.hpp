// The FTP service (docs/ftp.md): `sockit ftp serve` and `[ftp.NAME]`.
#pragma once

#include "services/ftp/ftp_config.hpp"
#include "services/service.hpp"

#include <memory>

namespace sockit::ftp {

// Reads the accounts file (or makes the anonymous-only book), opens the
// transfer log. Throws std::invalid_argument for a bad config.
std::unique_ptr<services::Service> make_ftp_server(FtpConfig config);

}  // namespace sockit::ftp
