#include "net/engine.hpp"

#include "net/loop_count.hpp"

#include <thread>

namespace sockit::net {

Engine::Engine(unsigned threads) {
  if (threads == 0) threads = default_loop_count(usable_cores(), LoopWork::sockets);
  contexts_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    // Concurrency hint 1: each context is run by one thread, so Asio posts a
    // handler from inside the loop to a thread-private queue without waking
    // anyone. It does not remove the locking (callgrind still shows a mutex
    // per handler): BOOST_ASIO_CONCURRENCY_HINT_UNSAFE would, but the
    // listener hands sockets to other loops and stop() comes from another
    // thread, which need it.
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(boost::asio::make_work_guard(*contexts_.back()));
  }
}

Engine::~Engine() {
  // Contexts die in creation order: a pending hand-off accept on context 0
  // owns a socket of another context, which must still exist when it goes.
  guards_.clear();  // a guard must not outlive its context
  for (auto& context : contexts_) context.reset();
}

boost::asio::io_context& Engine::next_context() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

void Engine::run() {
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < contexts_.size(); ++i) threads.emplace_back([this, i] { contexts_[i]->run(); });
  contexts_[0]->run();
}

void Engine::stop() {
  for (auto& guard : guards_) guard.reset();
  for (auto& context : contexts_) context->stop();
}

}  // namespace sockit::net
