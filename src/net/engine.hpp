// Engine: one io_context per thread, each run by exactly one thread (how many
// by default: net/loop_count.hpp). Sessions live on one context for their
// whole life, so nothing inside a session needs a lock (muduo's "one loop per
// thread").
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <vector>

namespace sockit::net {

class Engine {
 public:
  // threads == 0: default_loop_count(usable_cores(), LoopWork::sockets).
  explicit Engine(unsigned threads = 0);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  unsigned size() const { return static_cast<unsigned>(contexts_.size()); }
  boost::asio::io_context& context(unsigned index) { return *contexts_.at(index); }
  // Round robin, for handing accepted connections to the loops.
  boost::asio::io_context& next_context();

  // Runs every context (the calling thread runs context 0) until stop().
  void run();
  // Thread-safe. Abandons whatever is still running: call it after the
  // services have drained.
  void stop();

 private:
  using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<WorkGuard> guards_;
  std::atomic<unsigned> next_{0};
};

}  // namespace sockit::net
