// ConnectionLimiter: admission control shared by every loop of a service.
// A Ticket is held for the life of a connection and gives the slot back when
// it is destroyed, so no exit path can leak a slot.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sockit::net {

class ConnectionLimiter {
 public:
  // 0 means unlimited.
  ConnectionLimiter(std::size_t max_total, std::size_t max_per_peer)
      : max_total_(max_total), max_per_peer_(max_per_peer) {}

  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept : owner_(other.owner_), peer_(std::move(other.peer_)) {
      other.owner_ = nullptr;
    }
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (owner_) owner_->release(peer_);
    }

   private:
    friend class ConnectionLimiter;
    Ticket(ConnectionLimiter* owner, std::string peer) : owner_(owner), peer_(std::move(peer)) {}
    ConnectionLimiter* owner_;
    std::string peer_;
  };

  // `peer` is the client's IP address; empty (unix sockets) counts only
  // against the total.
  std::optional<Ticket> try_admit(const std::string& peer);

  std::size_t active() const;

 private:
  void release(const std::string& peer);

  const std::size_t max_total_;
  const std::size_t max_per_peer_;
  mutable std::mutex mutex_;  // taken once per accept and once per close
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_peer_;
};

}  // namespace sockit::net
