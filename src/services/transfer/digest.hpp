// Digest: the end-to-end check of a transferred file, computed while it
// streams. XXH3-128 by default: it detects corruption (a flipped bit, a lost
// or repeated block) at memory speed, so checking never slows a transfer;
// SHA-256 when asked. Tampering is TLS's job (--tls), not the digest's.
#pragma once

#include "codec/transfer_messages.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

namespace sockit::transfer {

class Digest {
 public:
  explicit Digest(codec::transfer::DigestKind kind);
  Digest(Digest&&) noexcept;
  Digest& operator=(Digest&&) noexcept;
  ~Digest();

  void update(std::span<const char> bytes);
  // Starts over, as a new Digest of the same kind, keeping its state's
  // memory (a digest per small file would allocate and free it each time).
  void reset();
  // The digest of everything so far (raw bytes); updating may go on.
  std::string value() const;
  codec::transfer::DigestKind kind() const { return kind_; }

 private:
  struct State;
  codec::transfer::DigestKind kind_;
  std::unique_ptr<State> state_;
};

// Feeds `digest` the first `length` bytes of the open file `fd`. An error if
// the file is shorter or cannot be read.
std::error_code digest_file_prefix(int fd, std::uint64_t length, Digest& digest);

// "3fa2..." for logs and messages.
std::string to_hex(std::string_view bytes);

}  // namespace sockit::transfer
