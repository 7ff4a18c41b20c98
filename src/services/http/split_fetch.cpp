// --split: one file in N byte ranges over N connections at once, written in
// place. Worth it where a server limits each connection's rate; a server
// that cannot send ranges gets one ordinary stream instead.
#include "services/http/fetcher.hpp"
#include "services/http/response_handling.hpp"
#include "services/transfer/transfer_session.hpp"

#include "net/wake_signal.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>

namespace sockit::http {
namespace asio = boost::asio;
using asio::awaitable;
using codec::http::Url;

namespace {

// Below this a part is not worth its own connection.
constexpr std::uint64_t kMinPartBytes = 1024 * 1024;

// The probe's body (a HEAD has none) goes nowhere.
class Nowhere final : public Output {
 public:
  std::uint64_t have() const override { return 0; }
  void start(std::uint64_t, const std::string&) override {}
  void write(std::string_view) override {}
  void complete() override {}
  void abandon(bool) override {}
  std::string name() const override { return "nowhere"; }
};

}  // namespace

awaitable<void> Fetcher::fetch_part(Exchange part) {
  const std::uint64_t first = part.range_first;
  co_await with_retries([&]() -> awaitable<void> {
    Exchange attempt = part;
    attempt.range_first = first + part.written;
    co_await exchange(attempt);
    part.written = attempt.written;
  });
}

awaitable<void> Fetcher::fetch_split(const Url& url, Output& output, unsigned parts) {
  // What is there: its size, whether ranges work, which version it is.
  Nowhere nowhere;
  Exchange probe;
  probe.url = probe.first_url = url;
  probe.method = "HEAD";
  probe.output = &nowhere;
  probe.follow = context_.options.max_redirects > 0;
  std::optional<FetchError> failure;
  try {
    co_await with_retries([&]() { return follow(probe); });
  } catch (const FetchError& e) {
    failure = e;
  }
  std::uint64_t size = probe.total_size.value_or(0);
  if (failure || probe.status != 200 || !probe.accepts_ranges || size < 2 * kMinPartBytes ||
      output.have() > 0) {
    // One stream: it says what went wrong, or resumes a part, or the file
    // is too small to split.
    if (display_.verbose && !failure)
      display_.trace("* one stream: the server does not offer ranges for this file");
    co_await fetch(url, output);
    co_return;
  }
  parts = static_cast<unsigned>(std::min<std::uint64_t>(parts, size / kMinPartBytes));
  output.start(0, probe.validator);
  output.reserve(size);
  if (display_.progress) display_.progress->file_started(output.name(), size, 0);

  auto executor = co_await asio::this_coro::executor;
  net::WakeSignal part_done(executor);
  unsigned running = parts;
  bool no_ranges = false;
  for (unsigned i = 0; i < parts; ++i) {
    Exchange part;
    part.url = probe.url;
    part.first_url = url;
    part.method = "GET";
    part.output = &output;
    part.range_first = size * i / parts;
    part.range_last = size * (i + 1) / parts - 1;
    part.if_range = probe.validator;
    part.follow = false;
    asio::co_spawn(executor, fetch_part(std::move(part)), [&](std::exception_ptr error) {
      if (error) {
        try {
          std::rethrow_exception(error);
        } catch (const FetchError& e) {
          if (e.exit_code == kRangeError)
            no_ranges = true;
          else if (!failure)
            failure = e;
        } catch (const std::exception& e) {
          if (!failure) failure = FetchError(e.what(), kReceiveError);
        }
      }
      --running;
      part_done.notify();
    });
  }
  while (running > 0) co_await part_done.wait();
  if (no_ranges && !failure) {
    display_.note(url.text() + ": the server stopped sending ranges; fetching it as one stream");
    output.start(0, {});
    co_await fetch(probe.url, output);
    co_return;
  }
  if (failure) {
    output.abandon(false);  // holes cannot be resumed by -c
    throw *failure;
  }
  output.complete();
}

}  // namespace sockit::http
