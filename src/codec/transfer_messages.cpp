#include "codec/transfer_messages.hpp"

#include "codec/wire.hpp"

namespace sockit::codec::transfer {

namespace {

constexpr std::size_t kMaxDigestBytes = 64;
constexpr std::size_t kMaxComponentBytes = 255;
constexpr std::size_t kMaxReasonBytes = 1024;

// The length of the UTF-8 sequence starting at s[i], or 0 if it is not a
// valid one (overlong forms, surrogates and code points past U+10FFFF
// included).
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  std::size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (n == 0 || c > 0xf4 || i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k)
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  unsigned char c1 = byte(i + 1);
  if (c == 0xe0 && c1 < 0xa0) return 0;  // overlong
  if (c == 0xed && c1 >= 0xa0) return 0;  // surrogate
  if (c == 0xf0 && c1 < 0x90) return 0;  // overlong
  if (c == 0xf4 && c1 >= 0x90) return 0;  // past U+10FFFF
  return n;
}

std::string component_problem(std::string_view part) {
  if (part.empty()) return "has an empty component";
  if (part == "." || part == "..") return "has a '" + std::string(part) + "' component";
  if (part.size() > kMaxComponentBytes) return "has a component over 255 bytes";
  if (part.size() > kPartSuffix.size() && part.ends_with(kPartSuffix))
    return "ends in " + std::string(kPartSuffix) + ", the receiver's temporary names";
  return {};
}

template <class Enum>
constexpr std::uint8_t byte_of(Enum e) {
  return static_cast<std::uint8_t>(e);
}

bool valid_digest(std::string_view digest) {
  return digest.size() <= kMaxDigestBytes;
}

}  // namespace

const char* digest_name(DigestKind kind) {
  switch (kind) {
    case DigestKind::xxh3_128:
      return "xxh3";
    case DigestKind::sha256:
      return "sha256";
    case DigestKind::none:
      break;
  }
  return "none";
}

std::optional<DigestKind> parse_digest_name(std::string_view name) {
  if (name == "xxh3") return DigestKind::xxh3_128;
  if (name == "sha256") return DigestKind::sha256;
  return std::nullopt;
}

std::string path_problem(std::string_view path) {
  if (path.empty()) return "is empty";
  if (path.size() > kMaxPathBytes) return "is over 4095 bytes";
  if (path.front() == '/') return "is absolute";
  for (std::size_t i = 0; i < path.size();) {
    auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7f) return "has a control character";
    std::size_t n = utf8_sequence(path, i);
    if (n == 0) return "is not valid UTF-8";
    i += n;
  }
  std::string_view rest = path;
  for (;;) {
    auto slash = rest.find('/');
    if (auto problem = component_problem(rest.substr(0, slash)); !problem.empty()) return problem;
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return {};
}

std::string role_payload(const RoleMessage& m) {
  return WireWriter().u8(static_cast<std::uint8_t>(m.role)).u8(static_cast<std::uint8_t>(m.digest))
      .u64(m.files).u64(m.bytes).take();
}

std::optional<RoleMessage> parse_role(std::string_view payload) {
  WireReader in(payload);
  RoleMessage m;
  auto role = in.u8();
  auto digest = in.u8();
  m.files = in.u64();
  m.bytes = in.u64();
  if (!in.at_end()) return std::nullopt;
  if (role != byte_of(Role::sender) && role != byte_of(Role::receiver)) return std::nullopt;
  if (digest > static_cast<std::uint8_t>(DigestKind::sha256)) return std::nullopt;
  m.role = static_cast<Role>(role);
  m.digest = static_cast<DigestKind>(digest);
  if ((m.role == Role::sender) == (m.digest == DigestKind::none)) return std::nullopt;
  return m;
}

std::string entry_payload(const Entry& m) {
  return WireWriter()
      .u32(m.id)
      .u8(static_cast<std::uint8_t>(m.kind))
      .u32(m.mode)
      .u64(m.size)
      .u64(static_cast<std::uint64_t>(m.mtime_sec))
      .u32(m.mtime_nsec)
      .text16(m.path)
      .take();
}

std::optional<Entry> parse_entry(std::string_view payload) {
  WireReader in(payload);
  Entry m;
  m.id = in.u32();
  auto kind = in.u8();
  m.mode = in.u32();
  m.size = in.u64();
  m.mtime_sec = static_cast<std::int64_t>(in.u64());
  m.mtime_nsec = in.u32();
  m.path = in.text16();
  if (!in.at_end()) return std::nullopt;
  if (kind != byte_of(EntryKind::file) && kind != byte_of(EntryKind::directory)) return std::nullopt;
  m.kind = static_cast<EntryKind>(kind);
  if (m.mode > 0777 || m.mtime_nsec >= 1'000'000'000) return std::nullopt;
  if (m.kind == EntryKind::directory && m.size != 0) return std::nullopt;
  // Sizes past 2^63 cannot be file offsets (off_t is signed).
  if (m.size > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return m;
}

std::string answer_payload(const Answer& m) {
  return WireWriter()
      .u32(m.id)
      .u8(static_cast<std::uint8_t>(m.verdict))
      .u64(m.offset)
      .text16(m.digest)
      .rest(m.reason)
      .take();
}

std::optional<Answer> parse_answer(std::string_view payload) {
  WireReader in(payload);
  Answer m;
  m.id = in.u32();
  auto verdict = in.u8();
  m.offset = in.u64();
  m.digest = in.text16();
  m.reason = in.rest();
  if (!in.ok() || verdict > byte_of(Verdict::refused)) return std::nullopt;
  m.verdict = static_cast<Verdict>(verdict);
  if (!valid_digest(m.digest) || m.reason.size() > kMaxReasonBytes) return std::nullopt;
  if (m.offset > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return m;
}

std::string start_payload(const Start& m) {
  return WireWriter().u32(m.id).u64(m.offset).take();
}

std::optional<Start> parse_start(std::string_view payload) {
  WireReader in(payload);
  Start m{in.u32(), in.u64()};
  if (!in.at_end() || m.offset > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return m;
}

std::string end_payload(const End& m) {
  return WireWriter().u32(m.id).text16(m.digest).take();
}

std::optional<End> parse_end(std::string_view payload) {
  WireReader in(payload);
  End m;
  m.id = in.u32();
  m.digest = in.text16();
  if (!in.at_end() || !valid_digest(m.digest)) return std::nullopt;
  return m;
}

std::string result_payload(const Result& m) {
  return WireWriter().u32(m.id).u8(static_cast<std::uint8_t>(m.outcome)).rest(m.reason).take();
}

std::optional<Result> parse_result(std::string_view payload) {
  WireReader in(payload);
  Result m;
  m.id = in.u32();
  auto outcome = in.u8();
  m.reason = in.rest();
  if (!in.ok() || outcome > byte_of(Outcome::failed) || m.reason.size() > kMaxReasonBytes) return std::nullopt;
  m.outcome = static_cast<Outcome>(outcome);
  return m;
}

}  // namespace sockit::codec::transfer
