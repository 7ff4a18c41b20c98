// ConnectionLimiter: admission control shared by every loop of a service.
// A Ticket is held for the life of a connection and gives the slot back when
// it is destroyed, so no exit path can leak a slot. Tickets share ownership
// of the limiter: a session closed at shutdown may outlive its listener.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace sockit::net {

class ConnectionLimiter : public std::enable_shared_from_this<ConnectionLimiter> {
 public:
  // 0 means unlimited.
  ConnectionLimiter(std::size_t max_total, std::size_t max_per_peer)
      : max_total_(max_total), max_per_peer_(max_per_peer) {}

  class Ticket {
   public:
    Ticket(Ticket&& other) noexcept = default;
    Ticket& operator=(Ticket&&) = delete;
    ~Ticket() {
      if (owner_) owner_->release(peer_);
    }

   private:
    friend class ConnectionLimiter;
    Ticket(std::shared_ptr<ConnectionLimiter> owner, std::string peer)
        : owner_(std::move(owner)), peer_(std::move(peer)) {}
    std::shared_ptr<ConnectionLimiter> owner_;  // empty once moved from
    std::string peer_;
  };

  // `peer` is the client's IP address; empty (unix sockets) counts only
  // against the total. The limiter must be owned by a shared_ptr.
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
