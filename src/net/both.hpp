// both(a, b): runs two awaitables that must both finish, as Asio's `a && b`
// does (the first failure cancels the other), but rethrows that failure as
// itself. When both branches fail (the usual case: one fails, the other is
// cancelled and fails too) Asio throws multiple_exceptions, whose what() is
// only "multiple exceptions"; the user needs the first one's message.
#pragma once

#include <boost/asio/awaitable.hpp>

namespace sockit::net {

boost::asio::awaitable<void> both(boost::asio::awaitable<void> a, boost::asio::awaitable<void> b);

}  // namespace sockit::net
