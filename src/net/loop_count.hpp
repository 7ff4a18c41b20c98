// How many event loops the engine runs when the user does not say
// (`--threads 0`, `[engine] threads = 0`, the default).
//
// Measured on a 2-core machine with the clients on it (docs/benchmarks.md,
// "Echo, session 7"; the argument is in docs/engineering-notes.md): an echo
// server with one loop per core lost to single-threaded servers by up to 30%,
// because its second loop competed with the kernel's and the clients' share
// of the same bytes; an FTP server with one loop fewer lost 200 concurrent
// uploads by 44%, because copying into files is work the loop does itself.
// So the default depends on where a service's work runs.
#pragma once

namespace sockit::net {

enum class LoopWork {
  // Sessions move bytes between sockets (echo, exec): much of each byte's
  // cost is paid outside the loops, in the kernel's receive processing
  // (softirq on the NIC's core; the sending peer's thread on loopback) and in
  // the peers that share the machine. One core is left to that work.
  sockets,
  // Sessions copy between sockets and files (FTP): the page-cache copy runs
  // in the loop thread itself, so every usable core gets a loop.
  files,
};

// The cores this process may run on: its affinity mask, which taskset,
// cpuset cgroups and container CPU pinning narrow; not the machine's count.
unsigned usable_cores();

// sockets: max(1, cores - 1); files: max(1, cores).
unsigned default_loop_count(unsigned usable_cores, LoopWork work);

}  // namespace sockit::net
