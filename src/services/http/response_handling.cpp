#include "services/http/response_handling.hpp"

#include "codec/http/response_rules.hpp"
#include "services/transfer/transfer_session.hpp"

#include <cstdio>

namespace sockit::http {
using boost::asio::awaitable;
using codec::http::ResponseHead;

namespace {

bool transient_status(int status) {
  return status == 408 || status == 429 || status >= 500;
}

// What If-Range can name: a strong ETag, or else the Last-Modified date.
std::string validator_of(const ResponseHead& head) {
  if (auto etag = head.field("etag"); etag && !etag->starts_with("W/")) return *etag;
  return head.field("last-modified").value_or("");
}

}  // namespace

std::string head_text(const ResponseHead& head) {
  std::string out = "HTTP/" + std::to_string(head.version / 10) + "." + std::to_string(head.version % 10) +
                    " " + std::to_string(head.status) + (head.reason.empty() ? "" : " " + head.reason) +
                    "\r\n";
  for (const auto& [name, value] : head.fields) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

std::string head_lines(std::string_view message, std::string_view prefix) {
  auto end = message.find("\r\n\r\n");
  std::string_view head = message.substr(0, end);
  std::string out;
  for (std::size_t at = 0; at <= head.size();) {
    auto eol = head.find("\r\n", at);
    if (!out.empty()) out += "\n" + std::string(prefix);
    out += head.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
    if (eol == std::string_view::npos) break;
    at = eol + 2;
  }
  return out;
}

awaitable<void> ResponseHandling::receive(HttpConnection& connection) {
  auto tap = [this](std::string_view bytes) {
    started_ = true;
    if (display_.raw) std::fwrite(bytes.data(), 1, bytes.size(), stdout);
  };
  for (;;) {
    parser_.emplace(header_limit_, exchange_.method == "HEAD");
    parser_->on_body([this](std::string_view piece) {
      if (!decided_) decide(parser_->head());
      take(piece);
    });
    co_await connection.receive(*parser_, tap);
    const auto& head = parser_->head();
    // 100 Continue, 103 Early Hints: the answer is still to come.
    if (head.status >= 100 && head.status < 200 && head.status != 101) {
      if (display_.verbose) display_.trace("< " + head_lines(head_text(head), "< "));
      continue;
    }
    if (!decided_) decide(head);
    finish(head);
    co_return;
  }
}

void ResponseHandling::decide(const ResponseHead& head) {
  decided_ = true;
  exchange_.status = head.status;
  exchange_.validator = validator_of(head);
  exchange_.accepts_ranges = head.field("accept-ranges").value_or("") == "bytes";
  if (head.content_length) exchange_.total_size = *head.content_length;
  if (display_.verbose) display_.trace("< " + head_lines(head_text(head), "< "));
  mode_ = Mode::discard;
  if (display_.raw) return;  // the tap shows it all
  Output& output = *exchange_.output;
  auto location = head.field("location");
  if (codec::http::is_redirect(head.status) && exchange_.follow && location) {
    std::string error;
    exchange_.redirect = codec::http::resolve_location(exchange_.url, *location, error);
    if (!exchange_.redirect) throw FetchError(exchange_.url.text() + ": " + error, kReceiveError);
    return;
  }
  if (request_.head_only) {
    // -I: the head is the output, whatever the status says.
    output.start(0, {});
    mode_ = Mode::append;
    store(head_text(head));
    mode_ = Mode::discard;
    if (head.status >= 400)
      error_status_.emplace(exchange_.url.text() + ": " + std::to_string(head.status) + " " + head.reason,
                            kHttpError, transient_status(head.status));
    return;
  }
  bool resumed_whole = head.status == 416 && exchange_.range_first > 0 && !exchange_.range_last;
  if (head.status >= 400 && !resumed_whole) {
    error_status_.emplace(exchange_.url.text() + ": " + std::to_string(head.status) + " " + head.reason,
                          kHttpError, transient_status(head.status));
    if (!display_.keep_error_body) return;
    output.start(0, {});
    mode_ = Mode::append;
  } else if (exchange_.range_first > 0 || exchange_.range_last) {
    decide_range(head);
    if (mode_ == Mode::discard) return;
  } else {
    if (auto disposition = head.field("content-disposition"))
      output.suggest_name(codec::http::file_name_from_disposition(*disposition));
    output.start(0, exchange_.validator);
    mode_ = Mode::append;
  }
  if (display_.include_head) store(head_text(head));
  if (request_.compressed && mode_ != Mode::discard) {
    std::string error;
    decoder_ = codec::http::ContentDecoder::for_encoding(head.field("content-encoding").value_or(""), error);
    if (!error.empty()) throw FetchError(exchange_.url.text() + ": " + error, kBadContentEncoding);
  }
  if (display_.progress && !exchange_.range_last)
    display_.progress->file_started(
        output.name(), head.content_length ? *head.content_length + output.have() : 0, output.have());
}

// The answer to a request that asked for a range.
void ResponseHandling::decide_range(const ResponseHead& head) {
  Output& output = *exchange_.output;
  if (head.status == 206) {
    auto range = codec::http::parse_content_range(head.field("content-range").value_or(""));
    if (!range || range->first != exchange_.range_first ||
        (exchange_.range_last && range->last > *exchange_.range_last))
      throw FetchError(exchange_.url.text() + ": the server sent another range than the one asked for",
                       kRangeError);
    if (range->total) exchange_.total_size = range->total;
    // A resume takes the rest, all of it; anything shorter would be kept
    // as if complete.
    if (!exchange_.range_last && range->total && range->last + 1 != *range->total)
      throw FetchError(exchange_.url.text() + ": the server sent only part of the rest", kRangeError);
    if (exchange_.range_last) {
      position_ = range->first;
      mode_ = Mode::positional;
    } else {
      output.start(range->first, exchange_.validator);
      mode_ = Mode::append;
    }
    return;
  }
  if (head.status == 416 && !exchange_.range_last) {
    // Nothing after what we have: complete already, if the sizes agree.
    auto size = codec::http::parse_unsatisfied_range(head.field("content-range").value_or(""));
    if (size && *size == exchange_.range_first) {
      output.start(exchange_.range_first, output.validator());  // keeps all of it
      return;
    }
    throw FetchError(exchange_.url.text() + ": cannot resume: the server's file is " +
                         (size ? std::to_string(*size) + " bytes" : std::string("of unknown size")) +
                         " and " + std::to_string(exchange_.range_first) + " are here already (delete " +
                         output.part_name() + " to start over)",
                     kRangeError);
  }
  if (exchange_.range_last)  // --split: the caller falls back to one stream
    throw FetchError(exchange_.url.text() + ": the server does not send byte ranges", kRangeError);
  // The whole resource instead of the rest (no ranges, or it changed since
  // the part was written): start over.
  if (display_.verbose) display_.trace("* the server sent the whole file: starting over");
  output.start(0, exchange_.validator);
  mode_ = Mode::append;
}

void ResponseHandling::take(std::string_view piece) {
  if (mode_ == Mode::discard) return;
  if (!decoder_) return store(piece);
  std::string error;
  if (!decoder_->decode(
          piece, [this](std::string_view decoded) { store(decoded); }, error))
    throw FetchError(exchange_.url.text() + ": " + error, kBadContentEncoding);
}

void ResponseHandling::store(std::string_view piece) {
  if (mode_ == Mode::positional) {
    exchange_.output->write_at(position_, piece);
    position_ += piece.size();
    exchange_.written += piece.size();
  } else {
    exchange_.output->write(piece);
  }
  if (display_.progress) display_.progress->advanced(piece.size());
}

void ResponseHandling::finish(const ResponseHead& head) {
  if (decoder_) {
    std::string error;
    if (!decoder_->finish(error)) throw FetchError(exchange_.url.text() + ": " + error, kBadContentEncoding);
  }
  if (error_status_) throw *error_status_;
  // A range must have come whole (the parser checked Content-Length).
  if (mode_ == Mode::positional && exchange_.range_last && position_ != *exchange_.range_last + 1 &&
      (!exchange_.total_size || position_ != *exchange_.total_size))
    throw FetchError(exchange_.url.text() + ": a range ended early", kPartialFile, true);
  (void)head;
}

}  // namespace sockit::http
