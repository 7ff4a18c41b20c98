#include "codec/http/content_decoder.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace sockit::codec::http {

namespace {

class ZlibDecoder final : public ContentDecoder {
 public:
  explicit ZlibDecoder(std::string name) : name_(std::move(name)) { start(15 + 32); }  // gzip or zlib header
  ~ZlibDecoder() override { inflateEnd(&stream_); }

  bool decode(std::string_view encoded, const Sink& sink, std::string& error) override {
    while (!encoded.empty()) {
      if (ended_) {
        // Another gzip member (what `cat a.gz b.gz` makes) or trailing junk.
        inflateReset(&stream_);
        ended_ = false;
      }
      stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
      stream_.avail_in = static_cast<uInt>(std::min<std::size_t>(encoded.size(), 1u << 30));
      std::size_t offered = stream_.avail_in;
      do {
        stream_.next_out = reinterpret_cast<Bytef*>(out_);
        stream_.avail_out = sizeof out_;
        int status = inflate(&stream_, Z_NO_FLUSH);
        if (status == Z_DATA_ERROR && !seen_output_ && !raw_ && taken_ == 0) {
          // "deflate" from servers that send it without the zlib wrapper.
          inflateEnd(&stream_);
          start(-15);
          raw_ = true;
          stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(encoded.data()));
          stream_.avail_in = static_cast<uInt>(offered);
          continue;
        }
        if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
          error = "the " + name_ + " body is corrupt (" + (stream_.msg ? stream_.msg : "zlib error") + ")";
          return false;
        }
        std::size_t produced = sizeof out_ - stream_.avail_out;
        if (produced) {
          seen_output_ = true;
          sink(std::string_view(out_, produced));
        }
        if (status == Z_STREAM_END) {
          ended_ = true;
          break;
        }
        if (status == Z_BUF_ERROR && produced == 0) break;
      } while (stream_.avail_in > 0 || stream_.avail_out == 0);
      taken_ += offered - stream_.avail_in;
      encoded.remove_prefix(offered - stream_.avail_in);
    }
    return true;
  }

  bool finish(std::string& error) override {
    if (ended_ || (!seen_output_ && stream_.total_in == 0)) return true;
    error = "the " + name_ + " body ended before its compressed stream did";
    return false;
  }

 private:
  void start(int window_bits) {
    stream_ = {};
    inflateInit2(&stream_, window_bits);
  }

  std::string name_;
  z_stream stream_{};
  char out_[64 * 1024];
  bool ended_ = false;
  bool seen_output_ = false;
  bool raw_ = false;
  std::uint64_t taken_ = 0;  // input bytes accepted by earlier calls
};

std::string lower_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

}  // namespace

std::unique_ptr<ContentDecoder> ContentDecoder::for_encoding(std::string_view encoding, std::string& error) {
  auto name = lower_trimmed(encoding);
  if (name.empty() || name == "identity") return nullptr;
  if (name == "gzip" || name == "x-gzip" || name == "deflate") return std::make_unique<ZlibDecoder>(name);
  error = "the server used the content encoding '" + name + "', which sockit cannot decode";
  return nullptr;
}

}  // namespace sockit::codec::http
