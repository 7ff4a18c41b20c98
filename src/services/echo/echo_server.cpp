#include "services/echo/echo_server.hpp"

#include "codec/message_splitter.hpp"
#include "codec/reply_template.hpp"
#include "net/answer_predictor.hpp"
#include "net/draining_buffer.hpp"
#include "net/listener.hpp"
#include "services/echo/transform.hpp"
#include "services/listener_set.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <array>
#include <cstring>
#include <optional>

namespace sockit::echo {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// The sizes of a connection's own read buffer (see StreamSession::read):
// small while messages are, bigger while blocks are. The +1 makes a 4 KiB or
// 16 KiB block a short read, which tells that the socket is drained.
constexpr std::size_t kSmallRead = 4 * 1024 + 1;
constexpr std::size_t kBigRead = 16 * 1024 + 1;
const std::string kWelcome = "Welcome!\n";

// EAGAIN from a non-blocking socket. Tests `ec` first: comparing an
// error_code with an enum is not free, and this runs twice per echo.
bool would_block(const error_code& ec) {
  return ec && (ec == asio::error::would_block || ec == asio::error::try_again);
}

// What every session of one service instance shares (read-only but counters).
struct Shared {
  EchoConfig config;
  std::optional<codec::ReplyTemplate> reply;  // hello and reply modes
  services::Counters counters;
  std::string log_name;  // "echo.main"
};

class StreamSession {
 public:
  StreamSession(std::shared_ptr<Shared> shared, net::Session session)
      : shared_(std::move(shared)), s_(std::move(session)) {}

  awaitable<void> run() {
    using namespace asio::experimental::awaitable_operators;
    auto& counters = shared_->counters;
    services::Counters::add(counters.connections);
    services::Counters::add(counters.active);
    spdlog::debug("peer={} service={} event=open", s_.peer, shared_->log_name);
    error_code ec;
    s_.socket.non_blocking(true, ec);
    net::enable_drain_hint(s_.socket);
    touch();
    auto mode = shared_->config.mode;
    if (mode == Mode::echo || mode == Mode::upper)
      co_await (serve_bytes() || watchdog());
    else
      co_await (serve_messages() || watchdog());
    s_.socket.close(ec);
    counters.active.fetch_sub(1, std::memory_order_relaxed);
    spdlog::debug("peer={} service={} event=close reason={}", s_.peer, shared_->log_name, close_reason_);
  }

 private:
  void touch() { deadline_ = Clock::now() + shared_->config.idle_timeout; }

  awaitable<void> watchdog() {
    asio::steady_timer timer(s_.socket.get_executor());
    while (deadline_ > Clock::now()) {
      timer.expires_at(deadline_);
      auto [ec] = co_await timer.async_wait(use_tuple);
      if (ec) co_return;  // the session ended first
    }
    close_reason_ = "idle_timeout";
    spdlog::info("peer={} service={} event=idle_timeout", s_.peer, shared_->log_name);
  }

  // Reads what is available and returns it (in the connection's own buffer
  // or the loop buffer; valid until the next suspension).
  //
  // Waiting for data is an async_read_some into a DrainingBuffer: Asio
  // queues it without a system call after a read that drained the socket,
  // so a cycle costs recv + send + epoll_wait. (async_wait would add an
  // epoll_ctl per wait: Asio re-arms the descriptor for every
  // non-speculative wait.) It lands in the loop's 64 KiB buffer, or in the
  // connection's own while that is taken; the own buffer is small while
  // messages are small and grows while blocks are big, so an idle connection
  // holds little. After a read that filled its buffer the socket may hold
  // more, so the next read goes straight to the loop buffer without waiting.
  // With `pause`, gives up after that much quiet and sets ec to timed_out.
  awaitable<std::span<char>> read(error_code& ec, std::optional<std::chrono::milliseconds> pause = {}) {
    using namespace asio::experimental::awaitable_operators;
    for (;;) {
      if (!maybe_readable_ && !pause) co_return co_await read_waiting(ec);
      if (!maybe_readable_) {
        asio::steady_timer timer(s_.socket.get_executor(), *pause);
        auto which = co_await (s_.socket.async_wait(asio::socket_base::wait_read, use_tuple) ||
                               timer.async_wait(use_tuple));
        maybe_readable_ = true;
        if (which.index() == 1) {
          ec = asio::error::timed_out;
          co_return std::span<char>{};
        }
      }
      auto data = read_now(ec);
      if (!data.empty() || ec) co_return data;
    }
  }

  // A read that does not wait, into the loop buffer (or the connection's own
  // while a pending completion holds that). Nothing and no error: the socket
  // is drained (maybe_readable_ is now false).
  std::span<char> read_now(error_code& ec) {
    auto into = net::free_loop_buffer();
    if (into.empty()) into = own_buffer();
    std::size_t n = s_.socket.read_some(asio::buffer(into.data(), into.size()), ec);
    if (would_block(ec)) {
      maybe_readable_ = false;
      ec = {};
      return {};
    }
    if (ec) return {};
    return received(into.first(n), into.size());
  }

  awaitable<std::span<char>> read_waiting(error_code& ec) {
    auto [read_ec, n] =
        co_await s_.socket.async_read_some(net::DrainingBuffer(own_buffer(), landed_), use_tuple);
    if (read_ec) {
      ec = read_ec;
      co_return std::span<char>{};
    }
    co_return received(net::claim_landed(landed_, n), landed_.size());
  }

  // The connection's own buffer for a read that waits, sized for what it
  // has been receiving.
  std::span<char> own_buffer() {
    std::size_t want = big_blocks_ ? kBigRead : kSmallRead;
    if (own_size_ != want) {
      own_ = std::make_unique<char[]>(want);
      own_size_ = want;
    }
    return {own_.get(), own_size_};
  }

  std::span<char> received(std::span<char> data, std::size_t asked) {
    maybe_readable_ = data.size() == asked;   // a short read drained the socket
    big_blocks_ = data.size() >= kSmallRead;  // sizes the next wait's buffer
    services::Counters::add(shared_->counters.bytes_in, data.size());
    touch();
    return data;
  }

  // Writes all of `data`. Tries once without blocking; what the kernel does
  // not take is copied out (data may be the loop buffer) and written as the
  // peer reads, which is where a slow reader gets back-pressure: nothing more
  // is read from it until this completes.
  awaitable<bool> write_all(std::string_view data) {
    error_code ec;
    std::size_t n = write_now(data, ec);
    if (ec) co_return fail(ec);
    if (n == data.size()) co_return true;
    bool written = co_await write_rest(data.substr(n));
    co_return written;
  }

  // One write that does not wait; how much the kernel took.
  std::size_t write_now(std::string_view data, error_code& ec) {
    std::size_t n = s_.socket.write_some(asio::buffer(data), ec);
    if (would_block(ec)) {
      n = 0;
      ec = {};
    }
    if (!ec) services::Counters::add(shared_->counters.bytes_out, n);
    return n;
  }

  // What write_now() left: copied out of `data` (which may be the loop
  // buffer) and written as the peer reads.
  awaitable<bool> write_rest(std::string_view data) {
    std::string rest(data);
    auto [write_ec, written] = co_await asio::async_write(s_.socket, asio::buffer(rest), use_tuple);
    maybe_readable_ = true;
    services::Counters::add(shared_->counters.bytes_out, written);
    if (write_ec) co_return fail(write_ec);
    touch();
    co_return true;
  }

  bool fail(const error_code& ec) {
    if (ec != asio::error::operation_aborted && ec != asio::error::connection_reset &&
        ec != asio::error::broken_pipe && ec != asio::error::eof) {
      services::Counters::add(shared_->counters.errors);
      spdlog::info("peer={} service={} event=error error=\"{}\"", s_.peer, shared_->log_name, ec.message());
    }
    close_reason_ = "error";
    return false;
  }

  // The peer half-closed: everything owed has been written (each read is
  // answered before the next), so finish our side too.
  void finish_after_eof() {
    error_code ignored;
    s_.socket.shutdown(asio::socket_base::shutdown_send, ignored);
    close_reason_ = "eof";
  }

  // echo and upper: no message boundaries, bytes straight back.
  awaitable<void> serve_bytes() {
    bool upper = shared_->config.mode == Mode::upper;
    // read() and write_all() inlined: each nested coroutine is a frame to
    // allocate and resume per block, which showed at 1,000 connections.
    for (;;) {
      error_code ec;
      std::span<char> data;
      if (maybe_readable_) {
        data = read_now(ec);
      } else if (!big_blocks_ && answers_.worth_yielding()) {
        // Let the loop's other ready sessions run; the peer's next message
        // has then often arrived (net/answer_predictor.hpp).
        co_await asio::post(asio::use_awaitable);
        data = read_now(ec);
        answers_.record(!data.empty() || ec);
      }
      if (data.empty() && !ec) {
        auto [read_ec, n] =
            co_await s_.socket.async_read_some(net::DrainingBuffer(own_buffer(), landed_), use_tuple);
        ec = read_ec;
        if (!ec) data = received(net::claim_landed(landed_, n), landed_.size());
      }
      if (ec) {
        if (ec == asio::error::eof) co_return finish_after_eof();
        co_return (void) fail(ec);
      }
      if (upper) upper_ascii(data);
      std::string_view out(data.data(), data.size());
      std::size_t n = write_now(out, ec);
      if (ec) co_return (void) fail(ec);
      if (n == out.size()) continue;
      bool written = co_await write_rest(out.substr(n));
      if (!written) co_return;
    }
  }

  // hello and reply: one answer per message (a line, or what came before a
  // pause).
  awaitable<void> serve_messages() {
    const auto& config = shared_->config;
    codec::MessageSplitter splitter(config.max_message);
    if (config.mode == Mode::hello && !co_await write_all(kWelcome)) co_return;
    for (;;) {
      error_code ec;
      std::optional<std::chrono::milliseconds> pause;
      if (splitter.has_partial()) pause = config.pause;
      auto data = co_await read(ec, pause);
      if (ec == asio::error::timed_out || ec == asio::error::eof) {
        if (auto partial = splitter.flush(); partial && !co_await answer(*partial)) co_return;
        if (ec == asio::error::eof) co_return finish_after_eof();
        continue;
      }
      if (ec) co_return (void) fail(ec);
      if (splitter.feed({data.data(), data.size()}) == codec::MessageSplitter::Status::too_long) {
        close_reason_ = "message_too_long";
        spdlog::info("peer={} service={} event=refused reason=message_too_long limit={}", s_.peer,
                     shared_->log_name, config.max_message);
        co_await write_all(fmt::format("error: message longer than {} bytes\n", config.max_message));
        co_return;
      }
      while (auto message = splitter.next())
        if (!co_await answer(*message)) co_return;
    }
  }

  awaitable<bool> answer(const codec::Message& message) {
    if (shared_->config.mode == Mode::hello && message.text == "exit") {
      close_reason_ = "exit";
      co_return false;
    }
    reply_.clear();
    shared_->reply->render(message.text, s_.peer, reply_);
    reply_ += message.ending;
    co_return co_await write_all(reply_);
  }

  std::shared_ptr<Shared> shared_;
  net::Session s_;
  Clock::time_point deadline_;
  bool maybe_readable_ = true;
  bool big_blocks_ = false;
  net::AnswerPredictor answers_;  // serve_bytes: yield before waiting?
  std::unique_ptr<char[]> own_;   // allocated on the first wait
  std::span<char> landed_;        // where a waiting read put its bytes
  std::size_t own_size_ = 0;
  const char* close_reason_ = "closed";
  std::string reply_;
};

awaitable<void> stream_session(std::shared_ptr<Shared> shared, net::Session session) {
  StreamSession stream(std::move(shared), std::move(session));
  co_await stream.run();
}

// UDP: each datagram is a message; answers go back to its sender. A full
// send buffer drops the answer, as UDP may.
awaitable<void> udp_loop(std::shared_ptr<Shared> shared, std::shared_ptr<net::UdpSocket> socket) {
  std::vector<char> buffer(65536);
  std::string reply;
  asio::ip::udp::endpoint peer;
  auto& counters = shared->counters;
  error_code ec;
  socket->non_blocking(true, ec);
  for (;;) {
    auto [receive_ec, n] = co_await socket->async_receive_from(asio::buffer(buffer), peer, use_tuple);
    if (receive_ec == asio::error::operation_aborted || !socket->is_open()) co_return;
    if (receive_ec) continue;  // e.g. ICMP unreachable from an earlier answer
    services::Counters::add(counters.bytes_in, n);
    std::string_view message(buffer.data(), n);
    switch (shared->config.mode) {
      case Mode::echo:
        break;
      case Mode::upper:
        upper_ascii({buffer.data(), n});
        break;
      case Mode::hello:
      case Mode::reply: {
        std::string_view ending;
        if (message.ends_with("\r\n"))
          ending = "\r\n";
        else if (message.ends_with('\n'))
          ending = "\n";
        message.remove_suffix(ending.size());
        reply.clear();
        if (message.size() > shared->config.max_message) {
          reply = fmt::format("error: message longer than {} bytes\n", shared->config.max_message);
          message = reply;
          break;
        }
        shared->reply->render(message, net::describe_peer(peer), reply);
        reply += ending;
        message = reply;
        break;
      }
    }
    std::size_t sent = socket->send_to(asio::buffer(message), peer, 0, ec);
    if (!ec) services::Counters::add(counters.bytes_out, sent);
  }
}

// A command that reaches `bound` from this machine.
std::string try_command(const net::Endpoint& bound) {
  return "sockit echo " + net::client_address(bound);
}

class EchoServer final : public services::Service {
 public:
  explicit EchoServer(EchoConfig config) : shared_(std::make_shared<Shared>()) {
    validate(config);
    shared_->log_name = "echo." + config.name;
    if (config.mode == Mode::hello) shared_->reply = codec::ReplyTemplate::parse("Hello, {msg}!");
    if (config.mode == Mode::reply) shared_->reply = codec::ReplyTemplate::parse(config.reply_template);
    shared_->config = std::move(config);
  }

  const std::string& name() const override { return shared_->log_name; }
  const services::Counters& counters() const override { return shared_->counters; }
  std::vector<services::BoundAddress> addresses() const override { return addresses_; }

  void start(net::Engine& engine) override {
    const auto& config = shared_->config;
    auto handler = [shared = shared_](net::Session session) {
      return stream_session(shared, std::move(session));
    };
    listeners_.emplace(shared_->log_name, shared_->counters,
                       services::ListenLimits{config.max_connections, config.max_per_ip, config.backlog},
                       handler);
    auto listen = [&](const net::Endpoint& endpoint) { announce(listeners_->listen(engine, endpoint)); };
    for (const auto& text : config.tcp) {
      auto endpoint = net::parse_endpoint_or_throw(text, net::Transport::tcp);
      if (endpoint.transport == net::Transport::udp)
        throw std::invalid_argument("tcp address '" + text + "' names udp");
      listen(endpoint);
    }
    for (const auto& path : config.unix_paths)
      listen(net::parse_endpoint_or_throw(path.starts_with("unix:") ? path : "unix:" + path));
    for (const auto& text : config.udp) {
      net::Endpoint bound;
      auto socket = std::make_shared<net::UdpSocket>(
          net::bind_udp(engine, net::parse_endpoint_or_throw(text, net::Transport::udp), bound));
      announce(bound);
      net::spawn_logged(socket->get_executor(), udp_loop(shared_, socket), "service=" + shared_->log_name);
      udp_sockets_.push_back(std::move(socket));
    }
  }

  void stop() override {
    if (listeners_) listeners_->stop();
    for (auto& socket : udp_sockets_)
      asio::post(socket->get_executor(), [socket] {
        error_code ignored;
        socket->close(ignored);
      });
  }

 private:
  void announce(const net::Endpoint& bound) {
    spdlog::info("service={} event=listening address={} mode={}", shared_->log_name, bound.to_string(),
                 mode_name(shared_->config.mode));
    addresses_.push_back({bound.to_string(), try_command(bound)});
  }

  std::shared_ptr<Shared> shared_;
  std::optional<services::ListenerSet> listeners_;
  std::vector<std::shared_ptr<net::UdpSocket>> udp_sockets_;
  std::vector<services::BoundAddress> addresses_;
};

}  // namespace

std::unique_ptr<services::Service> make_echo_server(EchoConfig config) {
  return std::make_unique<EchoServer>(std::move(config));
}

}  // namespace sockit::echo
