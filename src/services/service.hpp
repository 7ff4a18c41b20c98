// Service: the component every sockit server is. `sockit serve` runs any set
// of them on one Engine; `sockit <tool> serve` runs one.
#pragma once

#include "net/loop_count.hpp"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace sockit::net {
class Engine;
}

namespace sockit::services {

struct Counters {
  std::atomic<std::uint64_t> connections{0};  // accepted (TCP/Unix) or peers seen (UDP)
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};
  std::atomic<std::uint64_t> errors{0};

  static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n = 1) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
};

struct BoundAddress {
  std::string address;  // canonical endpoint text: tcp://127.0.0.1:7007
  std::string try_it;   // a command that reaches it, for humans
};

class Service {
 public:
  virtual ~Service() = default;
  // "echo.main": kind and instance name, as in the config.
  virtual const std::string& name() const = 0;
  // Binds and starts serving. Throws net::StartupError (or
  // std::invalid_argument for bad settings) with a one-line message.
  virtual void start(net::Engine& engine) = 0;
  virtual std::vector<BoundAddress> addresses() const = 0;
  // Stops accepting; live sessions go on until they end or the engine stops.
  virtual void stop() = 0;
  virtual const Counters& counters() const = 0;
  // Where its sessions' work runs; decides the engine's default number of
  // loops (net/loop_count.hpp). A service whose sessions read or write files
  // on their loop says LoopWork::files.
  virtual net::LoopWork loop_work() const { return net::LoopWork::sockets; }
};

}  // namespace sockit::services
