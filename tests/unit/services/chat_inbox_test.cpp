#include "services/chat/chat_config.hpp"
#include "services/chat/inbox.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using sockit::chat::Inbox;
using sockit::chat::InboxLimits;
using namespace std::chrono_literals;

namespace {

struct Recorder {
  Inbox inbox;
  Inbox::Clock::time_point now{};
  std::vector<std::string> shown;

  explicit Recorder(InboxLimits limits = {}) : inbox(limits) {}

  bool accept(std::uint64_t number, std::optional<std::uint64_t> prev, const std::string& sender = "a") {
    std::vector<Inbox::Shown> out;
    bool fresh = inbox.accept(sender, number, prev, "m" + std::to_string(number), now, out);
    for (auto& s : out) shown.push_back(s.sender + ":" + s.text);
    return fresh;
  }
  void advance(std::chrono::milliseconds by) {
    now += by;
    std::vector<Inbox::Shown> out;
    inbox.expire(now, out);
    for (auto& s : out) shown.push_back(s.sender + ":" + s.text);
  }
};

}  // namespace

TEST(ChatInbox, InOrderMessagesAreShownAtOnce) {
  Recorder r;
  EXPECT_TRUE(r.accept(10, 0));
  EXPECT_TRUE(r.accept(11, 10));
  EXPECT_EQ(r.shown, (std::vector<std::string>{"a:m10", "a:m11"}));
}

TEST(ChatInbox, DuplicatesAreRefusedEvenWhileHeld) {
  Recorder r;
  EXPECT_TRUE(r.accept(10, 0));
  EXPECT_FALSE(r.accept(10, 0));
  EXPECT_TRUE(r.accept(12, 11));  // held
  EXPECT_FALSE(r.accept(12, 11));
  EXPECT_TRUE(r.accept(11, 10));
  EXPECT_EQ(r.shown, (std::vector<std::string>{"a:m10", "a:m11", "a:m12"}));
  EXPECT_EQ(r.inbox.held_count(), 0u);
}

TEST(ChatInbox, AnyArrivalOrderShowsTheSendingOrder) {
  Recorder r;
  for (auto [number, prev] :
       std::vector<std::pair<int, int>>{{14, 13}, {12, 11}, {11, 10}, {13, 12}, {10, 0}})
    r.accept(number, prev);
  EXPECT_EQ(r.shown, (std::vector<std::string>{"a:m10", "a:m11", "a:m12", "a:m13", "a:m14"}));
}

TEST(ChatInbox, AMissingPredecessorIsSkippedAfterTheHold) {
  Recorder r(InboxLimits{.hold = 500ms});
  r.accept(10, 0);
  r.accept(13, 12);
  r.accept(12, 11);  // 11 was given up by its sender
  EXPECT_EQ(r.shown.size(), 1u);
  ASSERT_TRUE(r.inbox.next_expiry());
  r.advance(499ms);
  EXPECT_EQ(r.shown.size(), 1u);
  r.advance(1ms);
  EXPECT_EQ(r.shown, (std::vector<std::string>{"a:m10", "a:m12", "a:m13"}));
  r.accept(14, 13);  // and the chain goes on
  EXPECT_EQ(r.shown.back(), "a:m14");
  EXPECT_FALSE(r.inbox.next_expiry());
}

TEST(ChatInbox, UntaggedMessagesAndSendersAreIndependent) {
  Recorder r;
  r.accept(5, std::nullopt, "ipmsg");
  r.accept(3, std::nullopt, "ipmsg");  // other clients: as they come
  r.accept(20, 19, "b");               // held for b only
  r.accept(7, 0, "a");
  EXPECT_EQ(r.shown, (std::vector<std::string>{"ipmsg:m5", "ipmsg:m3", "a:m7"}));
}

TEST(ChatInbox, MemoryIsBounded) {
  Recorder r(InboxLimits{.hold = 1h, .remembered = 8, .held = 4, .senders = 2});
  r.accept(1, 0);
  for (int i = 2; i <= 20; ++i) r.accept(i, i - 1);
  EXPECT_FALSE(r.accept(20, 19));
  EXPECT_FALSE(r.accept(3, 2)) << "a tagged retransmission older than the memory is still a duplicate";
  EXPECT_TRUE(r.accept(1, 0)) << "prev 0: a new session, shown";
  Recorder u(InboxLimits{.hold = 1h, .remembered = 8, .held = 4, .senders = 2});
  for (int i = 1; i <= 20; ++i) u.accept(i, std::nullopt);
  EXPECT_FALSE(u.accept(20, std::nullopt));
  EXPECT_TRUE(u.accept(3, std::nullopt)) << "untagged: only the last 8 are remembered";
  // More held than allowed: all are released, in order.
  Recorder h(InboxLimits{.hold = 1h, .remembered = 64, .held = 4, .senders = 2});
  for (int i = 105; i >= 101; --i) h.accept(i, i + 100);  // none of the predecessors come
  EXPECT_EQ(h.shown, (std::vector<std::string>{"a:m101", "a:m102", "a:m103", "a:m104", "a:m105"}));
  // A third sender forgets the least recently heard one (a).
  h.accept(1, 0, "b");
  h.accept(1, 0, "c");
  EXPECT_FALSE(h.accept(1, 0, "b")) << "b is still remembered";
  EXPECT_TRUE(h.accept(101, 201, "a")) << "a was forgotten";
}

TEST(ChatContacts, ParsesBothFormsAndNamesTheBadEntry) {
  auto contacts = sockit::chat::parse_contacts(R"([contacts]
bob = "192.168.1.20"
qq = { address = "127.0.0.1:8080", plain = true }
)",
                                               "c.toml");
  ASSERT_EQ(contacts.size(), 2u);
  EXPECT_EQ(contacts[0].name, "bob");
  EXPECT_EQ(contacts[0].port, 2425);
  EXPECT_TRUE(contacts[1].plain);
  EXPECT_EQ(contacts[1].port, 8080);
  auto error = [](const char* text) {
    try {
      sockit::chat::parse_contacts(text, "c.toml");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("[contacts]\nbob = 5\n"),
            "c.toml:2: contacts.bob: expected \"host:port\" or { address = \"host:port\", plain = true }");
  EXPECT_NE(error("[contacts]\n\"a b\" = \"1.2.3.4\"\n").find("contacts.a b"), std::string::npos);
  EXPECT_NE(error("[other]\n").find("unknown key"), std::string::npos);
  EXPECT_NE(error("[contacts]\nx = { address = \"1.2.3.4\", color = 1 }\n").find("contacts.x.color"),
            std::string::npos);
}

TEST(ChatContacts, PeerAddresses) {
  using sockit::chat::parse_peer_address;
  EXPECT_EQ(parse_peer_address("127.0.0.2")->port, 2425);
  EXPECT_EQ(parse_peer_address("127.0.0.2:9")->port, 9);
  EXPECT_TRUE(parse_peer_address("plain:127.0.0.1:8080")->plain);
  EXPECT_EQ(parse_peer_address("[::1]:7")->host, "::1");
  EXPECT_FALSE(parse_peer_address("bob"));
  EXPECT_FALSE(parse_peer_address("tcp://1.2.3.4:5"));
  EXPECT_FALSE(parse_peer_address(""));
}
