// `sockit get`: the downloader (docs/get.md).
#include "cli/commands.hpp"
#include "cli/progress_bar.hpp"
#include "codec/http/url.hpp"
#include "net/tls.hpp"
#include "services/http/fetcher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace sockit::cli {
namespace asio = boost::asio;
using http::FetchError;

namespace {

struct GetOptions {
  std::vector<std::string> urls;
  std::vector<std::string> outputs;  // -o, one per URL in order
  bool remote_name = false;          // -O
  bool header_name = false;          // -J
  bool resume = false;               // -c
  http::RequestOptions request;
  std::string data;  // -d (@FILE reads it)
  bool has_data = false;
  http::NetworkOptions network;
  double connect_timeout_s = 30, max_time_s = 0, stall_timeout_s = 60, retry_delay_s = 1;
  unsigned parallel = 1;
  unsigned split = 1;
  bool verbose = false, include = false, raw = false, keep_error_body = false, quiet = false;
};

std::chrono::milliseconds seconds(double value) {
  return std::chrono::milliseconds(static_cast<long>(value * 1000));
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// One URL's job: where it goes.
struct Job {
  codec::http::Url url;
  std::unique_ptr<http::Output> output;
  bool to_stdout = false;
};

std::vector<Job> plan(const GetOptions& o) {
  if (o.outputs.size() > o.urls.size()) throw std::invalid_argument("get: more -o than URLs");
  std::vector<Job> jobs;
  unsigned to_stdout = 0;
  for (std::size_t i = 0; i < o.urls.size(); ++i) {
    std::string error;
    auto url = codec::http::parse_url(o.urls[i], error);
    if (!url) throw FetchError(error, http::kBadUrl);
    Job job{*url, nullptr, false};
    std::string path;
    if (i < o.outputs.size() && o.outputs[i] != "-") {
      path = o.outputs[i];
    } else if (i >= o.outputs.size() && o.remote_name && !o.raw) {
      path = codec::http::file_name_from_url(*url);
      if (path.empty()) path = "index.html";  // what wget calls a directory's page
    }
    if (path.empty()) {
      job.output = http::make_stream_output(STDOUT_FILENO);
      job.to_stdout = true;
      ++to_stdout;
    } else {
      job.output = http::make_file_output(path, o.resume, o.header_name && i >= o.outputs.size());
    }
    jobs.push_back(std::move(job));
  }
  if (to_stdout > 1 && o.parallel > 1)
    throw std::invalid_argument("get: --parallel with several URLs needs -O or one -o per URL");
  return jobs;
}

int run_get(GetOptions& o) {
  if (o.has_data) {
    if (o.data.starts_with("@")) {
      std::ifstream in(o.data.substr(1), std::ios::binary);
      if (!in) throw std::invalid_argument("get: cannot read " + o.data.substr(1));
      std::ostringstream text;
      text << in.rdbuf();
      o.request.data = text.str();
    } else {
      o.request.data = o.data;
    }
  }
  if (!o.request.user.empty() && o.request.user.find(':') == std::string::npos)
    throw std::invalid_argument("get: give -u USER:PASSWORD");
  auto& network = o.network;
  network.connect_timeout = seconds(o.connect_timeout_s);
  network.max_time = seconds(o.max_time_s);
  network.stall_timeout = seconds(o.stall_timeout_s);
  network.retry_delay = seconds(o.retry_delay_s);
  // Lower-case http_proxy only, as curl: HTTP_PROXY can be set by a CGI
  // request's Proxy header (httpoxy).
  network.http_proxy = env("http_proxy");
  network.https_proxy = env("https_proxy").empty() ? env("HTTPS_PROXY") : env("https_proxy");
  network.no_proxy = env("no_proxy").empty() ? env("NO_PROXY") : env("no_proxy");

  auto jobs = plan(o);
  asio::io_context io(1);  // before anything holding its sockets: destroyed last
  auto deadline = network.max_time.count() > 0 ? std::chrono::steady_clock::now() + network.max_time
                                               : std::chrono::steady_clock::time_point::max();
  http::ConnectContext context{network, deadline, {}};
  if (!network.cacert.empty()) context.tls();  // an unreadable --cacert fails now, before any download
  ProgressBar bar(o.quiet || o.raw || o.request.head_only, "downloaded");
  http::Display display;
  display.verbose = o.verbose;
  display.include_head = o.include;
  display.raw = o.raw;
  display.keep_error_body = o.keep_error_body;
  display.progress = &bar;
  display.note = [&bar](const std::string& line) { bar.note(line); };
  http::Fetcher fetcher(context, o.request, display);

  int status = 0;
  std::size_t next = 0;
  std::uint64_t saved = 0;
  auto worker = [&]() -> asio::awaitable<void> {
    while (next < jobs.size()) {
      Job& job = jobs[next++];
      std::optional<FetchError> failure;
      try {
        if (o.split > 1 && !job.to_stdout)
          co_await fetcher.fetch_split(job.url, *job.output, o.split);
        else
          co_await fetcher.fetch(job.url, *job.output);
        ++saved;
      } catch (const FetchError& e) {
        failure = e;
      }
      if (failure) {
        bar.note(failure->what());
        if (status == 0) status = failure->exit_code;
      }
    }
  };
  bar.begin(jobs.size(), 0);
  for (unsigned i = 0; i < std::max(1u, o.parallel); ++i)
    asio::co_spawn(io, worker(), [&](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        fmt::print(stderr, "sockit: {}\n", e.what());
        if (status == 0) status = 1;
      }
    });
  io.run();
  bar.end();
  std::fflush(stdout);
  return status;
}

}  // namespace

void add_get_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<GetOptions>();
  auto* get =
      app.add_subcommand("get", "Download URLs (http, https, ftp, ftps) as curl and wget do, and faster");
  get->add_option("urls", o->urls, "URL... (http:// is assumed when there is no scheme)")->required();
  get->add_option("-o,--output", o->outputs, "Write to FILE (once per URL, in order; - is stdout)");
  get->add_flag("-O,--remote-name", o->remote_name,
                "Name the file after the URL's last part (index.html if none)");
  get->add_flag("-J,--remote-header-name", o->header_name,
                "With -O: use the server's Content-Disposition name");
  get->add_flag("-c,--continue", o->resume, "Resume a partial download (the part file, or FILE itself)");
  get->add_flag("-I,--head", o->request.head_only, "Only the response head (a HEAD request)");
  get->add_flag("-i,--include", o->include, "The response head, then the body");
  get->add_flag("-v,--verbose", o->verbose, "Request and response heads on stderr");
  get->add_option("-H,--header", o->request.headers, "Add 'Name: value' ('Name:' removes one of ours)");
  get->add_option("-u,--user", o->request.user, "USER:PASSWORD for HTTP Basic authentication");
  get->add_option("-X,--request", o->request.method, "The method (default GET; POST with -d)");
  get->add_option("-d,--data", o->data, "Send DATA as a form POST (@FILE sends the file)");
  get->add_flag("--compressed", o->request.compressed, "Ask for gzip/deflate and decode it");
  get->add_flag("-k,--insecure", o->network.insecure, "Do not check the server's certificate");
  get->add_option("--cacert", o->network.cacert,
                  "Trust the CA certificates in FILE (PEM) instead of the system's");
  get->add_flag("--ssl-reqd", o->network.ftp_ssl_required,
                "ftp:// URLs: switch to TLS with AUTH TLS, or fail (ftps:// is TLS from the start)");
  get->add_option("--unix-socket", o->network.unix_socket, "Connect to this Unix socket instead of the host");
  get->add_option("--connect-timeout", o->connect_timeout_s, "Seconds to connect (default 30)")
      ->check(CLI::PositiveNumber);
  get->add_option("--max-time", o->max_time_s, "Seconds the whole run may take (default: no limit)")
      ->check(CLI::PositiveNumber);
  get->add_option("--stall-timeout", o->stall_timeout_s,
                  "Give up when nothing arrives for SECONDS (default 60)")
      ->check(CLI::PositiveNumber);
  get->add_option("--retry", o->network.retries, "Retry transient failures N times, resuming (default 0)")
      ->check(CLI::Range(0, 100));
  get->add_option("--retry-delay", o->retry_delay_s,
                  "Seconds before the first retry; doubles each time (default 1)")
      ->check(CLI::PositiveNumber);
  get->add_option("--max-redirs", o->network.max_redirects,
                  "Follow at most N redirects (default 20; 0: none)")
      ->check(CLI::Range(0, 1000));
  get->add_option("--parallel", o->parallel, "Fetch up to N URLs at once (default 1)")
      ->check(CLI::Range(1, 64));
  get->add_option("--split", o->split, "Fetch each file in N byte ranges over N connections (default 1)")
      ->check(CLI::Range(1, 32));
  get->add_flag("--keep-error-body", o->keep_error_body,
                "Save the body of an error status too (still exits 22)");
  get->add_flag("--raw", o->raw, "Print the exact bytes the server sent (head, chunks, all) on stdout");
  get->add_flag("-q,--quiet,-s,--silent", o->quiet, "No progress bar");
  get->footer(R"(Examples:
  sockit get https://example.com/                      the page on stdout
  sockit get -O https://example.com/big.iso            saved as big.iso (under a part name until complete)
  sockit get -c -O https://example.com/big.iso         resume it after an interruption
  sockit get --split 4 -O https://mirror/big.iso       four connections, four byte ranges
  sockit get --parallel 8 -O URL1 URL2 URL3 ...        several files at once, connections reused
  sockit get -I https://example.com/                   only the response head
  sockit get --raw http://example.com/                 what the server sent, byte for byte
  sockit get -O ftp://user:pw@host/dir/file            FTP (passive, resumed with REST)
  sockit get -O ftps://host/dir/file                   FTPS, TLS from the start (port 990)
  sockit get --ssl-reqd -O ftp://host/dir/file         FTP switched to TLS (AUTH TLS) or fail
Exit status (curl's): 0 ok; 3 bad URL; 6 cannot resolve; 7 cannot connect;
18 partial; 22 HTTP error (4xx/5xx: no file is left); 23 write error; 28 timeout;
35 TLS handshake; 47 too many redirects; 56 receive error; 60 bad certificate;
61 bad content encoding; 2 bad usage; ftp://: 8 not an FTP reply, 19 RETR
refused, 64 TLS refused (--ssl-reqd), 67 login refused, 78 no such file.)");
  get->callback([&action, o, get] {
    o->has_data = get->count("--data") > 0;
    action = [o]() {
      try {
        return run_get(*o);
      } catch (const FetchError& e) {
        fmt::print(stderr, "sockit: {}\n", e.what());
        return e.exit_code;
      }
    };
  });
}

}  // namespace sockit::cli
