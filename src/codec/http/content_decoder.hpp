// ContentDecoder: undoes a Content-Encoding (gzip, deflate) as the body
// arrives, for `sockit get --compressed`. zlib underneath; sans-I/O.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sockit::codec::http {

class ContentDecoder {
 public:
  using Sink = std::function<void(std::string_view decoded)>;

  // For a Content-Encoding value: a decoder, nothing for identity (or no
  // header), or nothing with `error` set for one we cannot undo.
  static std::unique_ptr<ContentDecoder> for_encoding(std::string_view encoding, std::string& error);

  virtual ~ContentDecoder() = default;
  // False with `error` when the data is corrupt.
  virtual bool decode(std::string_view encoded, const Sink& sink, std::string& error) = 0;
  // The body ended: false with `error` if the compressed stream did not.
  virtual bool finish(std::string& error) = 0;
};

}  // namespace sockit::codec::http
