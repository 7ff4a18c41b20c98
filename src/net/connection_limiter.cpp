#include "net/connection_limiter.hpp"

namespace sockit::net {

std::optional<ConnectionLimiter::Ticket> ConnectionLimiter::try_admit(const std::string& peer) {
  std::lock_guard lock(mutex_);
  if (max_total_ != 0 && total_ >= max_total_) return std::nullopt;
  if (!peer.empty()) {
    auto& count = per_peer_[peer];
    if (max_per_peer_ != 0 && count >= max_per_peer_) {
      if (count == 0) per_peer_.erase(peer);
      return std::nullopt;
    }
    ++count;
  }
  ++total_;
  return Ticket(shared_from_this(), peer);
}

void ConnectionLimiter::release(const std::string& peer) {
  std::lock_guard lock(mutex_);
  --total_;
  if (peer.empty()) return;
  auto it = per_peer_.find(peer);
  if (it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
}

std::size_t ConnectionLimiter::active() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace sockit::net
