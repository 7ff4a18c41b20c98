#include "net/loop_count.hpp"

#include <gtest/gtest.h>

#include <sched.h>

namespace sockit::net {
namespace {

TEST(LoopCount, SocketServicesLeaveOneCore) {
  EXPECT_EQ(default_loop_count(1, LoopWork::sockets), 1u);
  EXPECT_EQ(default_loop_count(2, LoopWork::sockets), 1u);
  EXPECT_EQ(default_loop_count(4, LoopWork::sockets), 3u);
  EXPECT_EQ(default_loop_count(64, LoopWork::sockets), 63u);
}

TEST(LoopCount, FileServicesTakeEveryCore) {
  EXPECT_EQ(default_loop_count(1, LoopWork::files), 1u);
  EXPECT_EQ(default_loop_count(2, LoopWork::files), 2u);
  EXPECT_EQ(default_loop_count(64, LoopWork::files), 64u);
}

TEST(LoopCount, NeverZeroLoops) {
  EXPECT_EQ(default_loop_count(0, LoopWork::sockets), 1u);
  EXPECT_EQ(default_loop_count(0, LoopWork::files), 1u);
}

TEST(LoopCount, UsableCoresFollowTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(::sched_getaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(usable_cores(), static_cast<unsigned>(CPU_COUNT(&saved)));
  // Pinned to one CPU (what `taskset -c N` does), one core is usable.
  int first = 0;
  while (!CPU_ISSET(first, &saved)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(::sched_setaffinity(0, sizeof one, &one), 0);
  unsigned pinned = usable_cores();
  ASSERT_EQ(::sched_setaffinity(0, sizeof saved, &saved), 0);
  EXPECT_EQ(pinned, 1u);
}

}  // namespace
}  // namespace sockit::net
