#include "services/chat/inbox.hpp"

#include <algorithm>

namespace sockit::chat {

Inbox::Sender& Inbox::sender_state(const std::string& sender) {
  auto it = senders_.find(sender);
  if (it != senders_.end()) {
    recency_.splice(recency_.begin(), recency_, it->second.recency);
    return it->second;
  }
  if (senders_.size() >= limits_.senders) {
    // Forget the sender heard from least recently. Its held messages are
    // lost with it: bounded memory wins over a sender silent for longest.
    senders_.erase(recency_.back());
    recency_.pop_back();
  }
  recency_.push_front(sender);
  auto& state = senders_[sender];
  state.recency = recency_.begin();
  return state;
}

void Inbox::remember(Sender& s, std::uint64_t number) {
  s.seen.insert(number);
  s.seen_order.push_back(number);
  while (s.seen_order.size() > limits_.remembered) {
    auto oldest = s.seen_order.front();
    s.seen_order.pop_front();
    if (!s.held_numbers.contains(oldest)) s.seen.erase(oldest);
    s.forgotten_up_to = std::max(s.forgotten_up_to, oldest);
  }
}

void Inbox::show_chain(const std::string& name, Sender& s, std::uint64_t shown, std::vector<Shown>& out) {
  for (auto next = s.held_by_prev.find(shown); next != s.held_by_prev.end();
       next = s.held_by_prev.find(shown)) {
    shown = next->second.number;
    s.held_numbers.erase(shown);
    out.push_back({name, shown, std::move(next->second.text)});
    s.held_by_prev.erase(next);
  }
}

void Inbox::release_all(const std::string& name, Sender& s, std::vector<Shown>& out) {
  std::vector<Held> held;
  for (auto& [prev, h] : s.held_by_prev) held.push_back(std::move(h));
  s.held_by_prev.clear();
  s.held_numbers.clear();
  std::sort(held.begin(), held.end(), [](const Held& a, const Held& b) { return a.number < b.number; });
  for (auto& h : held) out.push_back({name, h.number, std::move(h.text)});
}

bool Inbox::accept(const std::string& sender, std::uint64_t number, std::optional<std::uint64_t> prev,
                   std::string text, Clock::time_point now, std::vector<Shown>& out) {
  auto& s = sender_state(sender);
  if (s.seen.contains(number)) return false;
  if (prev && *prev == 0)
    s.forgotten_up_to = 0;  // a new session: its numbers may start lower
  else if (prev && number <= s.forgotten_up_to)
    return false;
  remember(s, number);
  // prev 0 starts a session (a restarted sender): shown at once. Messages
  // held from an old session are not released by it; their hold runs out.
  bool in_order = !prev || *prev == 0 || (s.seen.contains(*prev) && !s.held_numbers.contains(*prev));
  if (in_order) {
    out.push_back({sender, number, std::move(text)});
    show_chain(sender, s, number, out);
    return true;
  }
  if (s.held_by_prev.contains(*prev)) {
    // Two messages claim the same predecessor: only a confused or hostile
    // sender does that. Show the older one now rather than lose it.
    auto& old = s.held_by_prev[*prev];
    s.held_numbers.erase(old.number);
    out.push_back({sender, old.number, std::move(old.text)});
    s.held_by_prev.erase(*prev);
  }
  s.held_by_prev.emplace(*prev, Held{number, std::move(text), now});
  s.held_numbers.insert(number);
  if (s.held_by_prev.size() > limits_.held) release_all(sender, s, out);
  return true;
}

void Inbox::expire(Clock::time_point now, std::vector<Shown>& out) {
  for (auto& [name, s] : senders_) {
    bool overdue = std::any_of(s.held_by_prev.begin(), s.held_by_prev.end(),
                               [&](const auto& entry) { return now - entry.second.since >= limits_.hold; });
    if (overdue) release_all(name, s, out);
  }
}

std::optional<Inbox::Clock::time_point> Inbox::next_expiry() const {
  std::optional<Clock::time_point> first;
  for (const auto& [name, s] : senders_)
    for (const auto& [prev, h] : s.held_by_prev)
      if (!first || h.since + limits_.hold < *first) first = h.since + limits_.hold;
  return first;
}

std::size_t Inbox::held_count() const {
  std::size_t n = 0;
  for (const auto& [name, s] : senders_) n += s.held_by_prev.size();
  return n;
}

}  // namespace sockit::chat
