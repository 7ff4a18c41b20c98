// Inbox: what the receiving side of sockit chat shows, and when. Every
// message is shown at most once per (sender address, packet number), and a
// sockit sender's messages in the order it sent them.
//
// Order: a sockit sender tags each message with the number of its previous
// message to us (0 for the first of its session). A message whose
// predecessor was shown is shown now, and then any held message that follows
// it; otherwise it waits, at most `hold`: a predecessor that never comes
// (the sender gave up on it) is skipped then, and the held messages are shown
// in packet-number order (a sender's numbers increase). Messages without a
// tag (other IP Messenger clients) are shown as they come.
//
// Duplicates: the last `remembered` numbers per sender, and for tagged
// messages everything at or below the oldest forgotten one (a sender's
// numbers increase; prev 0, a new session, starts that over).
//
// Memory is bounded: `remembered` packet numbers per sender, `held` held
// messages per sender (more releases the oldest), `senders` senders (the
// least recently heard is forgotten). No I/O, no clock: `now` comes in.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sockit::chat {

struct InboxLimits {
  std::chrono::milliseconds hold{5000};
  std::size_t remembered = 4096;
  std::size_t held = 1024;
  std::size_t senders = 1024;
};

class Inbox {
 public:
  using Clock = std::chrono::steady_clock;
  struct Shown {
    std::string sender;
    std::uint64_t number = 0;
    std::string text;
  };

  explicit Inbox(InboxLimits limits = {}) : limits_(limits) {}

  // A message arrived. Returns false for a duplicate (acknowledge it again,
  // show nothing); what may be shown now is appended to `out`.
  bool accept(const std::string& sender, std::uint64_t number, std::optional<std::uint64_t> prev,
              std::string text, Clock::time_point now, std::vector<Shown>& out);

  // Held messages whose wait ran out, with what follows them, into `out`.
  void expire(Clock::time_point now, std::vector<Shown>& out);

  // When expire() next has something to do.
  std::optional<Clock::time_point> next_expiry() const;

  std::size_t held_count() const;

 private:
  struct Held {
    std::uint64_t number;
    std::string text;
    Clock::time_point since;
  };
  struct Sender {
    std::unordered_set<std::uint64_t> seen;
    std::deque<std::uint64_t> seen_order;  // oldest first, for forgetting
    std::unordered_set<std::uint64_t> held_numbers;
    std::map<std::uint64_t, Held> held_by_prev;  // prev -> the message after it
    std::list<std::string>::iterator recency;
    // The highest number no longer in `seen`. A sockit sender's numbers
    // increase, so a tagged message at or below it is a late retransmission
    // (its acknowledgements were lost for longer than `remembered` messages
    // take), not news: without this it would be shown twice.
    std::uint64_t forgotten_up_to = 0;
  };

  Sender& sender_state(const std::string& sender);
  void remember(Sender& s, std::uint64_t number);
  void show_chain(const std::string& name, Sender& s, std::uint64_t shown, std::vector<Shown>& out);
  void release_all(const std::string& name, Sender& s, std::vector<Shown>& out);

  InboxLimits limits_;
  std::unordered_map<std::string, Sender> senders_;
  std::list<std::string> recency_;  // most recently heard first
};

}  // namespace sockit::chat
