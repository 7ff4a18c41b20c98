// What `sockit get` is asked to do and how it fails. Exit codes are curl's
// where one fits (docs/get.md), so scripts written for curl keep working.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sockit::http {

enum ExitCode : int {
  kOk = 0,
  kUnsupportedProtocol = 1,
  kUsage = 2,
  kBadUrl = 3,
  kCannotResolve = 6,
  kCannotConnect = 7,
  kPartialFile = 18,
  kHttpError = 22,
  kWriteError = 23,
  kTimedOut = 28,
  kRangeError = 33,
  kTlsHandshake = 35,
  kTooManyRedirects = 47,
  kReceiveError = 56,
  kBadContentEncoding = 61,
  kCertificate = 60,
  // ftp://
  kWeirdServerReply = 8,
  kRetrFailed = 19,
  kLoginDenied = 67,
  kRemoteFileNotFound = 78,
  kSslRequired = 64,  // --ssl-reqd and the server refused AUTH TLS
};

// One line for humans and the exit code it maps to. `transient` failures
// (a refused or cut connection, a timeout, 408/429/5xx) are worth --retry.
struct FetchError : std::runtime_error {
  FetchError(const std::string& what, int code, bool is_transient = false)
      : std::runtime_error(what), exit_code(code), transient(is_transient) {}
  int exit_code;
  bool transient;
};

struct RequestOptions {
  std::string method;                // empty: GET (HEAD with -I, POST with -d)
  std::optional<std::string> data;   // -d: the request body
  std::vector<std::string> headers;  // -H "Name: value" (an empty value removes ours)
  std::string user;                  // -u user:password (Basic)
  bool head_only = false;            // -I
  bool compressed = false;           // --compressed
  std::string user_agent = "sockit/0.1";
};

struct NetworkOptions {
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds max_time{0};  // 0: no limit on the whole transfer
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
  std::string cacert;  // empty: the system's CAs
  bool insecure = false;
  bool ftp_ssl_required = false;  // --ssl-reqd: ftp:// URLs switch to TLS (AUTH TLS) or fail
  std::string unix_socket;        // connect here whatever the URL's host
  int max_redirects = 20;
  int retries = 0;
  std::chrono::milliseconds retry_delay{std::chrono::seconds(1)};  // doubles each time
  // Proxies from http_proxy, https_proxy and no_proxy (read by the CLI).
  std::string http_proxy;
  std::string https_proxy;
  std::string no_proxy;
  std::uint32_t header_limit = 256 * 1024;  // status line and fields together
};

}  // namespace sockit::http
