#include "net/loop_count.hpp"

#include <sched.h>

#include <algorithm>
#include <thread>

namespace sockit::net {

unsigned usable_cores() {
  cpu_set_t mask;
  CPU_ZERO(&mask);
  // std::thread::hardware_concurrency() counts the machine's online CPUs
  // (get_nprocs), even under `taskset -c 0`.
  if (::sched_getaffinity(0, sizeof mask, &mask) == 0) {
    int count = CPU_COUNT(&mask);
    if (count > 0) return static_cast<unsigned>(count);
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

unsigned default_loop_count(unsigned usable_cores, LoopWork work) {
  unsigned cores = std::max(1u, usable_cores);
  if (work == LoopWork::files) return cores;
  return std::max(1u, cores - 1);
}

}  // namespace sockit::net
