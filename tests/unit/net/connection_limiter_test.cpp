#include "net/connection_limiter.hpp"

#include <gtest/gtest.h>

#include <vector>

using sockit::net::ConnectionLimiter;

TEST(ConnectionLimiter, EnforcesTotalAndPerPeer) {
  auto owner = std::make_shared<ConnectionLimiter>(3, 2);
  auto& limiter = *owner;
  std::vector<ConnectionLimiter::Ticket> held;
  held.push_back(*limiter.try_admit("peer-a"));
  held.push_back(*limiter.try_admit("peer-a"));
  EXPECT_FALSE(limiter.try_admit("peer-a")) << "third from one peer";
  held.push_back(*limiter.try_admit("peer-b"));
  EXPECT_FALSE(limiter.try_admit("peer-c")) << "fourth in total";
  EXPECT_EQ(limiter.active(), 3u);
}

TEST(ConnectionLimiter, TicketsGiveSlotsBack) {
  auto owner = std::make_shared<ConnectionLimiter>(1, 1);
  auto& limiter = *owner;
  {
    auto ticket = limiter.try_admit("a");
    ASSERT_TRUE(ticket);
    auto moved = std::move(*ticket);  // a moved-from ticket must not release twice
    EXPECT_FALSE(limiter.try_admit("b"));
  }
  EXPECT_EQ(limiter.active(), 0u);
  EXPECT_TRUE(limiter.try_admit("b"));
}

TEST(ConnectionLimiter, UnixPeersCountOnlyAgainstTotal) {
  auto owner = std::make_shared<ConnectionLimiter>(0, 1);  // no total limit
  auto& limiter = *owner;
  auto a = limiter.try_admit("");
  auto b = limiter.try_admit("");
  EXPECT_TRUE(a && b);
}

TEST(ConnectionLimiter, TicketKeepsTheLimiterAlive) {
  auto owner = std::make_shared<ConnectionLimiter>(1, 1);
  auto ticket = owner->try_admit("a");
  std::weak_ptr<ConnectionLimiter> weak = owner;
  owner.reset();
  EXPECT_FALSE(weak.expired());
  ticket.reset();
  EXPECT_TRUE(weak.expired());
}
