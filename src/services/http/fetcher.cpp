#include "services/http/fetcher.hpp"

#include "codec/http/request.hpp"
#include "codec/http/response_rules.hpp"
#include "services/http/response_handling.hpp"
#include "services/transfer/transfer_session.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <set>

namespace sockit::http {
namespace asio = boost::asio;
using asio::awaitable;
using codec::http::Url;

Fetcher::Fetcher(const ConnectContext& context, RequestOptions request, Display display)
    : context_(context), request_(std::move(request)), display_(std::move(display)), pool_(context) {}

std::string Fetcher::request_bytes(const Exchange& exchange, const HttpConnection& connection) const {
  codec::http::Request out;
  out.method = exchange.method;
  out.target = connection.absolute_targets() ? exchange.url.text() : exchange.url.target;
  out.host = exchange.url.authority();
  out.headers = {{"User-Agent", request_.user_agent}, {"Accept", "*/*"}};
  if (request_.compressed) out.headers.emplace_back("Accept-Encoding", "gzip, deflate");
  if (exchange.range_first || exchange.range_last) {
    out.headers.emplace_back("Range", "bytes=" + std::to_string(exchange.range_first) + "-" +
                                          (exchange.range_last ? std::to_string(*exchange.range_last) : ""));
    if (!exchange.if_range.empty()) out.headers.emplace_back("If-Range", exchange.if_range);
  }
  // Credentials go only to the origin they were given for (as curl does).
  if (exchange.url.same_origin(exchange.first_url)) {
    if (!request_.user.empty())
      out.headers.emplace_back("Authorization", codec::http::basic_authorization(request_.user));
    else if (exchange.url.has_user)
      out.headers.emplace_back(
          "Authorization", codec::http::basic_authorization(exchange.url.user + ":" + exchange.url.password));
  }
  if (exchange.body) out.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  for (const auto& line : request_.headers) {
    std::string error;
    auto header = codec::http::parse_header_option(line, error);
    if (!header) throw FetchError(error, kUsage);
    codec::http::set_header(out.headers, header->first, header->second);
  }
  out.body = exchange.body;
  try {
    return codec::http::serialize(out);
  } catch (const std::invalid_argument& e) {
    throw FetchError(e.what(), kUsage);
  }
}

awaitable<void> Fetcher::exchange(Exchange& exchange) {
  for (int tries = 0;; ++tries) {
    auto connection = co_await pool_.take(exchange.url);
    auto bytes = request_bytes(exchange, *connection);
    if (display_.verbose) display_.trace("> " + head_lines(bytes, "> "));
    ResponseHandling handling(exchange, request_, display_, context_.options.header_limit);
    std::optional<FetchError> failure;
    try {
      co_await connection->send(std::move(bytes));
      co_await handling.receive(*connection);
    } catch (const FetchError& e) {
      failure = e;
    }
    if (failure) {
      // A kept-alive connection the server closed meanwhile fails at once:
      // that is not the server's answer, so ask again on a new one.
      if (connection->reused() && !handling.started() && tries == 0) continue;
      throw *failure;
    }
    pool_.give_back(std::move(connection));
    co_return;
  }
}

awaitable<void> Fetcher::attempt(const Url& url, Output& output) {
  Exchange exchange;
  exchange.url = exchange.first_url = url;
  exchange.method = !request_.method.empty() ? request_.method
                    : request_.head_only     ? "HEAD"
                    : request_.data          ? "POST"
                                             : "GET";
  exchange.body = request_.data;
  exchange.output = &output;
  exchange.range_first = output.have();
  exchange.if_range = output.validator();
  exchange.follow = context_.options.max_redirects > 0;
  co_await follow(exchange);
}

awaitable<void> Fetcher::follow(Exchange& exchange) {
  std::vector<std::string> chain{exchange.url.text()};
  std::set<std::string> seen{exchange.method + " " + exchange.url.text()};
  for (;;) {
    co_await this->exchange(exchange);
    if (!exchange.redirect) co_return;
    if (static_cast<int>(chain.size()) > context_.options.max_redirects)
      throw FetchError(chain.front() + ": more than " + std::to_string(context_.options.max_redirects) +
                           " redirects (--max-redirs)",
                       kTooManyRedirects);
    int status = exchange.status;
    exchange.method = codec::http::method_after_redirect(status, exchange.method);
    if (!codec::http::body_follows_redirect(status)) exchange.body.reset();
    exchange.url = *exchange.redirect;
    exchange.redirect.reset();
    chain.push_back(exchange.url.text());
    if (!seen.insert(exchange.method + " " + exchange.url.text()).second) {
      std::string path;
      for (const auto& step : chain) path += (path.empty() ? "" : " -> ") + step;
      throw FetchError("a redirect loop: " + path, kTooManyRedirects);
    }
    if (display_.verbose) display_.trace("* following the redirect to " + exchange.url.text());
  }
}

awaitable<void> Fetcher::with_retries(std::function<awaitable<void>()> fn) {
  auto delay = context_.options.retry_delay;
  for (int retry = 0;; ++retry) {
    std::optional<FetchError> failure;
    try {
      co_await fn();
      co_return;
    } catch (const FetchError& e) {
      failure = e;
    }
    bool out_of_time = context_.deadline != std::chrono::steady_clock::time_point::max() &&
                       std::chrono::steady_clock::now() + delay >= context_.deadline;
    if (!failure->transient || retry >= context_.options.retries || out_of_time) throw *failure;
    display_.note(fmt::format("{}; retrying in {:.1f} s ({} of {})", failure->what(), delay.count() / 1000.0,
                              retry + 1, context_.options.retries));
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds(60));
  }
}

awaitable<void> Fetcher::fetch(const Url& url, Output& output) {
  std::optional<FetchError> failure;
  try {
    bool ftp = url.scheme == "ftp" || url.scheme == "ftps";
    co_await with_retries([&]() { return ftp ? attempt_ftp(url, output) : attempt(url, output); });
  } catch (const FetchError& e) {
    failure = e;
  }
  if (!failure) {
    output.complete();
    co_return;
  }
  if (failure->exit_code == kHttpError && display_.keep_error_body) {
    output.complete();  // asked for: the error page is saved, and still an error
    throw *failure;
  }
  // A cut transfer keeps what arrived, for -c; an error status keeps nothing.
  bool keep = failure->transient && output.have() > 0 && !output.part_name().empty();
  output.abandon(keep);
  if (keep)
    throw FetchError(std::string(failure->what()) + "; " + std::to_string(output.have()) + " bytes kept in " +
                         output.part_name() + ": run the same command with -c to resume",
                     failure->exit_code);
  throw *failure;
}

}  // namespace sockit::http
