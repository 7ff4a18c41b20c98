#include "codec/chat/text_encoding.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstdint>

namespace sockit::codec::chat {
namespace {

// Length of the valid UTF-8 sequence at bytes[i], or 0 (RFC 3629: no
// overlongs, no surrogates, nothing above U+10FFFF).
std::size_t utf8_sequence(std::string_view bytes, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(bytes[k]); };
  std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t length = 0;
  std::uint8_t low = 0x80, high = 0xBF;  // range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > bytes.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return length;
}

class Converter {
 public:
  Converter(const char* to, const char* from) : cd_(iconv_open(to, from)) {}
  ~Converter() {
    if (cd_ != reinterpret_cast<iconv_t>(-1)) iconv_close(cd_);
  }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;

  // Converts `in`; an unconvertible input byte (or character) is skipped and
  // `replacement` written instead, so bad input never stops the conversion.
  // `step` is how many input bytes to skip: 1 for GBK input; for UTF-8 input,
  // the whole character.
  std::string convert(std::string_view in, std::string_view replacement, bool utf8_input) {
    std::string out;
    if (cd_ == reinterpret_cast<iconv_t>(-1)) return sanitize_utf8(in);  // no GBK tables: keep going
    iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    char* src = const_cast<char*>(in.data());
    std::size_t src_left = in.size();
    char buffer[1024];
    while (src_left > 0) {
      char* dst = buffer;
      std::size_t dst_left = sizeof buffer;
      std::size_t rc = iconv(cd_, &src, &src_left, &dst, &dst_left);
      out.append(buffer, static_cast<std::size_t>(dst - buffer));
      if (rc != static_cast<std::size_t>(-1)) continue;
      if (errno == E2BIG) continue;
      // EILSEQ or EINVAL (truncated at the end): skip and mark.
      std::size_t skip = 1;
      if (utf8_input) {
        std::string_view rest(src, src_left);
        skip = utf8_sequence(rest, 0);
        if (skip == 0) skip = 1;
      }
      out += replacement;
      src += skip;
      src_left -= skip;
      iconv(cd_, nullptr, nullptr, nullptr, nullptr);
    }
    return out;
  }

 private:
  iconv_t cd_;
};

}  // namespace

bool is_valid_utf8(std::string_view bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    auto n = utf8_sequence(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    auto n = utf8_sequence(bytes, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string gbk_to_utf8(std::string_view bytes) {
  // thread_local: iconv descriptors keep state and are not thread-safe.
  thread_local Converter converter("UTF-8", "GBK");
  return sanitize_utf8(converter.convert(bytes, kReplacement, false));
}

std::string utf8_to_gbk(std::string_view utf8) {
  thread_local Converter converter("GBK", "UTF-8");
  return converter.convert(utf8, "?", true);
}

std::string decode_text(std::string_view bytes, bool declared_utf8) {
  if (declared_utf8 || is_valid_utf8(bytes)) return sanitize_utf8(bytes);
  return gbk_to_utf8(bytes);
}

std::string printable(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<std::uint8_t>(utf8[i]);
    if (c == '\r' && i + 1 < utf8.size() && utf8[i + 1] == '\n') continue;
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7F) {
      out += kReplacement;
    } else if (c == 0xC2 && i + 1 < utf8.size() && static_cast<std::uint8_t>(utf8[i + 1]) >= 0x80 &&
               static_cast<std::uint8_t>(utf8[i + 1]) <= 0x9F) {
      out += kReplacement;  // a C1 control (U+0080-U+009F): CSI and friends
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string escape_line(std::string_view utf8) {
  std::string out;
  for (char c : printable(utf8)) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace sockit::codec::chat
