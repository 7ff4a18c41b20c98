// Big-endian integers and length-prefixed strings inside frame payloads:
// the only way protocol messages are packed and unpacked, so every bound is
// checked in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec {

class WireWriter {
 public:
  WireWriter& u8(std::uint8_t v) { return put(v, 1); }
  WireWriter& u16(std::uint16_t v) { return put(v, 2); }
  WireWriter& u32(std::uint32_t v) { return put(v, 4); }
  WireWriter& u64(std::uint64_t v) { return put(v, 8); }
  // A string with a 16-bit length in front (callers keep it under 64 KiB).
  WireWriter& text16(std::string_view s) {
    u16(static_cast<std::uint16_t>(s.size()));
    out_.append(s);
    return *this;
  }
  // Bytes with nothing in front: only as a payload's last field.
  WireWriter& rest(std::string_view s) {
    out_.append(s);
    return *this;
  }
  std::string take() { return std::move(out_); }

 private:
  WireWriter& put(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) out_ += static_cast<char>(v >> (8 * i));
    return *this;
  }
  std::string out_;
};

// Reads fields in order; any read past the end makes ok() false for good,
// so a parser checks once at the end.
class WireReader {
 public:
  explicit WireReader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::string_view text16() { return bytes(u16()); }
  std::string_view bytes(std::size_t n) {
    if (!ok_ || in_.size() < n) {
      ok_ = false;
      return {};
    }
    auto out = in_.substr(0, n);
    in_.remove_prefix(n);
    return out;
  }
  std::string_view rest() {
    auto out = ok_ ? in_ : std::string_view();
    in_ = {};
    return out;
  }
  bool ok() const { return ok_; }
  bool at_end() const { return ok_ && in_.empty(); }

 private:
  std::uint64_t get(std::size_t n) {
    auto b = bytes(n);
    std::uint64_t v = 0;
    for (char c : b) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace sockit::codec
