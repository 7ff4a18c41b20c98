// Fetcher: downloads URLs the way `sockit get` promises (docs/get.md):
// redirects followed by the method rules, kept-alive connections reused,
// transient failures retried with backoff and resumed where they broke off,
// an HTTP error never leaving a file behind, and --split fetching one file
// in byte ranges over several connections at once.
#pragma once

#include "codec/http/url.hpp"
#include "services/http/connection_pool.hpp"
#include "services/http/fetch_types.hpp"
#include "services/http/output.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdio>
#include <functional>
#include <string>

namespace sockit::transfer {
class Progress;
}

namespace sockit::http {

struct Exchange;

struct Display {
  bool verbose = false;          // -v: request and response heads on stderr
  bool include_head = false;     // -i: the response head before the body
  bool raw = false;              // --raw: every byte the server sent, unchanged, on stdout
  bool keep_error_body = false;  // an error status still saves the body (and still fails)
  transfer::Progress* progress = nullptr;
  // A line for the user (a retry, a fallback), stderr by default.
  std::function<void(const std::string&)> note = [](const std::string& line) {
    std::fprintf(stderr, "sockit: %s\n", line.c_str());
  };
  // -v: protocol lines ("> GET / HTTP/1.1", "< HTTP/1.1 200 OK"), as they are.
  std::function<void(const std::string&)> trace = [](const std::string& lines) {
    std::fprintf(stderr, "%s\n", lines.c_str());
  };
};

class Fetcher {
 public:
  Fetcher(const ConnectContext& context, RequestOptions request, Display display);

  // `url` into `output`. Throws FetchError; the output is then abandoned
  // (a part kept only when resuming can finish it).
  boost::asio::awaitable<void> fetch(const codec::http::Url& url, Output& output);
  // The same in `parts` byte ranges at once; one stream when the server
  // cannot serve ranges (or the file is small).
  boost::asio::awaitable<void> fetch_split(const codec::http::Url& url, Output& output, unsigned parts);

 private:
  // One try: the request, then each redirect. Throws FetchError.
  boost::asio::awaitable<void> attempt(const codec::http::Url& url, Output& output);
  // One try of an ftp:// URL (ftp_fetch.cpp).
  boost::asio::awaitable<void> attempt_ftp(const codec::http::Url& url, Output& output);
  // `exchange`, then the redirects it leads to.
  boost::asio::awaitable<void> follow(Exchange& exchange);
  // One request and its response on a pooled connection (once more on a new
  // connection when a kept-alive one turns out closed).
  boost::asio::awaitable<void> exchange(Exchange& exchange);
  // `fn` again on transient failures, with backoff, until --retry is used up.
  boost::asio::awaitable<void> with_retries(std::function<boost::asio::awaitable<void>()> fn);
  // One --split part, retried from where it broke off.
  boost::asio::awaitable<void> fetch_part(Exchange part);
  std::string request_bytes(const Exchange& exchange, const HttpConnection& connection) const;

  const ConnectContext& context_;
  RequestOptions request_;
  Display display_;
  ConnectionPool pool_;
};

}  // namespace sockit::http
