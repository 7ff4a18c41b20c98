// Where a downloaded body goes. A file is written under a part name
// (.NAME.sockit-part beside NAME) and renamed only when complete, so NAME
// is never half a download; the part is what -c and --retry resume, asking
// the server for the rest (Range, with If-Range naming the version the part
// came from). Standard output cannot be renamed, but it can be resumed: what
// was written is never written again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sockit::http {

class Output {
 public:
  virtual ~Output() = default;
  // Bytes already here: the next request asks for what follows.
  virtual std::uint64_t have() const = 0;
  // The ETag or Last-Modified of the version `have()` bytes came from.
  virtual std::string validator() const { return {}; }
  // The server suggested a file name (Content-Disposition): taken by an
  // output made with -J, before anything is written.
  virtual void suggest_name(const std::string& name) {}
  // The body begins, at `offset` (0 drops whatever was here). Throws
  // FetchError when that cannot be done (restarting on stdout).
  virtual void start(std::uint64_t offset, const std::string& validator) = 0;
  virtual void write(std::string_view bytes) = 0;  // throws FetchError (kWriteError)
  // Positional writes for --split (files only).
  virtual void write_at(std::uint64_t offset, std::string_view bytes);
  virtual void reserve(std::uint64_t size) {}
  // Complete: into place under the final name.
  virtual void complete() = 0;
  // Failed: `keep` leaves the part to resume (a cut connection), otherwise
  // nothing stays (an HTTP error, a bad body).
  virtual void abandon(bool keep) = 0;
  // For messages: "page.html", "stdout".
  virtual std::string name() const = 0;
  virtual std::string part_name() const { return {}; }
};

// stdout (or any descriptor that cannot be renamed).
std::unique_ptr<Output> make_stream_output(int fd);

// FILE through its part name. `resume` (-c) also takes FILE itself as the
// part when no part file exists (what curl -C - and wget -c continue).
// Throws FetchError (kWriteError) if the directory cannot be written.
// `header_name` (-J): a name the server suggests replaces the file name.
std::unique_ptr<Output> make_file_output(const std::string& path, bool resume, bool header_name = false);

}  // namespace sockit::http
