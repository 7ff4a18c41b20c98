// The two halves of a transfer once the connection is made and both HELLOs
// and ROLEs are exchanged (docs/protocol/transfer.md): send_files() and
// receive_files(), each over a FrameConnection, whichever side connected.
#pragma once

#include "codec/transfer_messages.hpp"
#include "services/framing/frame_connection.hpp"

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::transfer {

class Destination;
struct SourceList;

// Ends a transfer early: connection lost or stalled, the peer's ERROR, a
// protocol violation, the disk full. One line for humans. Files finished
// before it are kept; the one in flight stays as a part file to resume.
struct TransferFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What a user sees move. Called on the connection's loop.
class Progress {
 public:
  virtual ~Progress() = default;
  virtual void begin(std::uint64_t files, std::uint64_t bytes) {}
  // `offset` bytes were already there (resumed).
  virtual void file_started(std::string_view name, std::uint64_t size, std::uint64_t offset) {}
  virtual void advanced(std::uint64_t bytes) {}
  virtual void file_done(std::string_view name, codec::transfer::Outcome outcome, std::string_view reason) {}
  virtual void end() {}
};

struct Summary {
  std::uint64_t saved = 0;      // files written and verified
  std::uint64_t unchanged = 0;  // already there, identical
  std::uint64_t failed = 0;
  std::uint64_t directories = 0;
  std::uint64_t bytes = 0;            // file bytes that crossed the connection
  std::uint64_t resumed_bytes = 0;    // file bytes already there, verified not re-sent
  double seconds = 0;                 // from the handshake to the end
  std::vector<std::string> failures;  // "NAME: reason"
};

struct SessionSettings {
  codec::transfer::DigestKind digest = codec::transfer::DigestKind::xxh3_128;
  // No byte in either direction for this long ends the transfer.
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(60)};
  Progress* progress = nullptr;
};

inline constexpr std::size_t kChunkBytes = 1024 * 1024;  // DATA payload
// The largest frame a transfer peer accepts (a DATA chunk).
inline constexpr std::size_t kMaxFramePayload = kChunkBytes;

boost::asio::awaitable<Summary> send_files(services::FrameConnection& connection, const SourceList& sources,
                                           const SessionSettings& settings);
boost::asio::awaitable<Summary> receive_files(services::FrameConnection& connection, Destination& destination,
                                              const codec::transfer::RoleMessage& sender,
                                              const SessionSettings& settings);

}  // namespace sockit::transfer
