// The transfer protocol's frames (docs/protocol/transfer.md): types, payloads
// and the rule for names a sender may use, built and parsed without any I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sockit::codec::transfer {

inline constexpr std::string_view kService = "transfer";
inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::uint16_t kDefaultPort = 7023;

enum class Type : std::uint8_t {
  role = 0x20,    // both: who sends, who receives; the sender's totals
  entry = 0x21,   // sender: a file or directory it offers
  answer = 0x22,  // receiver: send from this offset (prefix digest), or refused
  start = 0x23,   // sender: the data of entry ID follows, from OFFSET
  data = 0x24,    // sender: the next bytes of the started file
  end = 0x25,     // sender: the started file is complete; its digest
  result = 0x26,  // receiver: saved / unchanged / failed, per file
  finish = 0x27,  // sender: no more entries; receiver: every result sent
};
constexpr std::uint8_t operator+(Type type) {
  return static_cast<std::uint8_t>(type);
}

// Entries a sender may have offered but not yet started (or finished, for a
// directory): how far it runs ahead of the receiver's answers, so that many
// small files cost no round trip each. A receiver refuses more.
inline constexpr std::uint32_t kMaxPendingEntries = 1024;
// Longest name on the wire and in the file system (PATH_MAX).
inline constexpr std::size_t kMaxPathBytes = 4095;
// The receiver's temporary name for NAME is `.NAME.sockit-part`, beside it.
inline constexpr std::string_view kPartSuffix = ".sockit-part";

enum class Role : std::uint8_t { sender = 1, receiver = 2 };
enum class DigestKind : std::uint8_t { none = 0, xxh3_128 = 1, sha256 = 2 };
const char* digest_name(DigestKind kind);  // "xxh3", "sha256"
std::optional<DigestKind> parse_digest_name(std::string_view name);

struct RoleMessage {
  Role role = Role::sender;
  DigestKind digest = DigestKind::none;  // the sender's choice; none from a receiver
  std::uint64_t files = 0;               // the sender's totals, for progress
  std::uint64_t bytes = 0;
};
std::string role_payload(const RoleMessage& m);
std::optional<RoleMessage> parse_role(std::string_view payload);

enum class EntryKind : std::uint8_t { file = 1, directory = 2 };
struct Entry {
  std::uint32_t id = 0;
  EntryKind kind = EntryKind::file;
  std::uint32_t mode = 0644;  // permission bits only (0777)
  std::uint64_t size = 0;     // 0 for a directory
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;
  std::string path;  // relative, '/'-separated: path_problem() is empty
};
std::string entry_payload(const Entry& m);
// Nothing if malformed. The path is NOT checked here: the receiver refuses a
// bad name with path_problem()'s reason and goes on with the other files.
std::optional<Entry> parse_entry(std::string_view payload);

enum class Verdict : std::uint8_t {
  send = 0,     // send from `offset`; `digest` covers the bytes before it
  have = 1,     // the final file exists, same size; `digest` is of all of it
  refused = 2,  // `reason` says why (exists, permission, bad name...)
};
struct Answer {
  std::uint32_t id = 0;
  Verdict verdict = Verdict::send;
  std::uint64_t offset = 0;
  std::string digest;  // raw bytes; empty when offset is 0
  std::string reason;
};
std::string answer_payload(const Answer& m);
std::optional<Answer> parse_answer(std::string_view payload);

struct Start {
  std::uint32_t id = 0;
  std::uint64_t offset = 0;
};
std::string start_payload(const Start& m);
std::optional<Start> parse_start(std::string_view payload);

struct End {
  std::uint32_t id = 0;
  std::string digest;  // of the whole file
};
std::string end_payload(const End& m);
std::optional<End> parse_end(std::string_view payload);

enum class Outcome : std::uint8_t { saved = 0, unchanged = 1, failed = 2 };
struct Result {
  std::uint32_t id = 0;
  Outcome outcome = Outcome::saved;
  std::string reason;
};
std::string result_payload(const Result& m);
std::optional<Result> parse_result(std::string_view payload);

// Why a sender-supplied name cannot be used, or empty if it can: it must be
// relative, '/'-separated, valid UTF-8 without control characters, with no
// empty, "." or ".." component, no component over 255 bytes or ending in
// kPartSuffix, and at most kMaxPathBytes long.
std::string path_problem(std::string_view path);

}  // namespace sockit::codec::transfer
