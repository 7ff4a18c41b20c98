// Minimal Boost.Asio C++20 coroutine echo server: the library's own baseline
// for sockit's echo benchmark. Shaped like Asio's
// example/cpp20/coroutines/echo_server.cpp, with what a fair comparison needs:
// one io_context per thread, each with its own SO_REUSEPORT acceptor (the
// shape of sockit's Engine), TCP_NODELAY, and a 16 KiB buffer so a 16 KiB
// block is echoed in one read and one write.
//
// Usage: asio_echo [PORT] [THREADS] [BUFFER_BYTES]   (defaults: 0 2 16384)
// Prints `tcp://127.0.0.1:PORT` once bound; SIGTERM/SIGINT stop it.
#include <boost/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using asio::use_awaitable;
using asio::ip::tcp;

static std::size_t buffer_bytes = 16384;

static asio::awaitable<void> echo(tcp::socket socket) {
  auto data = std::make_unique<char[]>(buffer_bytes);
  for (;;) {
    auto [rerr, n] = co_await socket.async_read_some(asio::buffer(data.get(), buffer_bytes),
                                                     asio::as_tuple(use_awaitable));
    if (rerr) co_return;
    auto [werr, w] =
        co_await asio::async_write(socket, asio::buffer(data.get(), n), asio::as_tuple(use_awaitable));
    if (werr) co_return;
  }
}

static asio::awaitable<void> listener(tcp::acceptor acceptor) {
  auto ex = co_await asio::this_coro::executor;
  for (;;) {
    auto [err, socket] = co_await acceptor.async_accept(asio::as_tuple(use_awaitable));
    if (err) {
      if (err == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and the like: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(ex, echo(std::move(socket)), asio::detached);
  }
}

static tcp::acceptor make_acceptor(asio::io_context& io, unsigned short port) {
  tcp::acceptor a(io);
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  a.open(ep.protocol());
  a.set_option(tcp::acceptor::reuse_address(true));
  a.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
  a.bind(ep);
  a.listen(asio::socket_base::max_listen_connections);
  return a;
}

int main(int argc, char** argv) {
  try {
    unsigned short port = argc > 1 ? static_cast<unsigned short>(std::atoi(argv[1])) : 0;
    int threads = argc > 2 ? std::atoi(argv[2]) : 2;
    if (argc > 3) buffer_bytes = static_cast<std::size_t>(std::atol(argv[3]));
    if (threads < 1 || buffer_bytes < 1) {
      std::fprintf(stderr, "asio_echo: THREADS and BUFFER_BYTES must be positive\n");
      return 2;
    }
    std::vector<std::unique_ptr<asio::io_context>> ios;
    for (int i = 0; i < threads; ++i) ios.push_back(std::make_unique<asio::io_context>(1));
    for (int i = 0; i < threads; ++i) {
      tcp::acceptor a = make_acceptor(*ios[i], port);
      port = a.local_endpoint().port();
      asio::co_spawn(*ios[i], listener(std::move(a)), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
    }
    std::printf("tcp://127.0.0.1:%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);

    asio::signal_set signals(*ios[0], SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) {
      for (auto& io : ios) io->stop();
    });
    std::vector<std::thread> ts;
    for (int i = 1; i < threads; ++i) ts.emplace_back([&, i] { ios[i]->run(); });
    ios[0]->run();
    for (auto& t : ts) t.join();
  } catch (std::exception& e) {
    std::fprintf(stderr, "asio_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
