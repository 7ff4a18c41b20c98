#include "net/draining_buffer.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using sockit::net::claim_landed;
using sockit::net::DrainingBuffer;
using sockit::net::free_loop_buffer;
using sockit::net::StreamSocket;

namespace {

// A loopback TCP connection: `client` as a peer writes, `server` reads as a
// session does (non-blocking, TCP_INQ on).
struct Connection {
  explicit Connection(asio::io_context& context) : client(context), server(context) {
    tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    tcp::socket accepted = acceptor.accept();
    server = StreamSocket(context, asio::generic::stream_protocol(AF_INET, IPPROTO_TCP), accepted.release());
    server.non_blocking(true);
    sockit::net::enable_drain_hint(server);
  }

  // Sends `bytes` and returns once the server side can read them.
  void send(std::string_view bytes) {
    asio::write(client, asio::buffer(bytes));
    server.wait(asio::socket_base::wait_read);
  }

  tcp::socket client;
  StreamSocket server;
};

struct Read {
  std::array<char, 16> own{};
  std::span<char> landed;
  error_code ec;
  std::size_t bytes = 0;
  bool done = false;
  bool loop_buffer_free_in_handler = true;

  void start(StreamSocket& socket) {
    socket.async_read_some(DrainingBuffer(own, landed), [this](error_code e, std::size_t n) {
      ec = e;
      bytes = n;
      done = true;
      loop_buffer_free_in_handler = !free_loop_buffer().empty();
    });
  }
  bool in_own() const { return landed.data() == own.data(); }
};

std::string text(std::span<char> bytes) {
  return {bytes.data(), bytes.size()};
}

}  // namespace

TEST(DrainingBuffer, ReadLandsInTheLoopBufferWhichStaysTakenUntilClaimed) {
  asio::io_context context;
  Connection connection(context);
  connection.send("hello");
  Read read;
  read.start(connection.server);
  context.run();
  ASSERT_TRUE(read.done);
  ASSERT_FALSE(read.ec) << read.ec.message();
  EXPECT_FALSE(read.in_own()) << "the loop buffer was free";
  EXPECT_EQ(read.landed.size(), 64u * 1024) << "a read into the loop buffer may take up to all of it";
  EXPECT_FALSE(read.loop_buffer_free_in_handler)
      << "another read could overwrite the bytes before their claim";
  EXPECT_TRUE(free_loop_buffer().empty());
  auto bytes = claim_landed(read.landed, read.bytes);
  EXPECT_EQ(text(bytes), "hello");
  ASSERT_FALSE(free_loop_buffer().empty()) << "claiming frees the loop buffer";
  EXPECT_EQ(free_loop_buffer().data(), bytes.data());
}

TEST(DrainingBuffer, WhileTheLoopBufferIsTakenReadsLandInTheirOwnBuffers) {
  asio::io_context context;
  Connection first(context), second(context);
  first.send("first");
  second.send("second");
  Read a, b;
  a.start(first.server);
  context.run();
  context.restart();
  ASSERT_TRUE(a.done && !a.ec);
  ASSERT_FALSE(a.in_own());
  b.start(second.server);  // before `a` claims its bytes, as when Asio posts a's completion
  context.run();
  ASSERT_TRUE(b.done && !b.ec);
  EXPECT_TRUE(b.in_own());
  EXPECT_EQ(text(claim_landed(b.landed, b.bytes)), "second");
  EXPECT_TRUE(free_loop_buffer().empty()) << "claiming bytes from an own buffer frees nothing";
  EXPECT_EQ(text(claim_landed(a.landed, a.bytes)), "first") << "a's bytes were overwritten";
  EXPECT_FALSE(free_loop_buffer().empty());
}

TEST(DrainingBuffer, EndOfStreamDoesNotTakeTheLoopBuffer) {
  asio::io_context context;
  Connection connection(context);
  connection.client.shutdown(tcp::socket::shutdown_send);
  connection.server.wait(asio::socket_base::wait_read);
  Read read;
  read.start(connection.server);
  context.run();
  ASSERT_TRUE(read.done);
  EXPECT_EQ(read.ec, asio::error::eof);
  EXPECT_EQ(read.bytes, 0u);
  EXPECT_TRUE(read.loop_buffer_free_in_handler);
  EXPECT_FALSE(free_loop_buffer().empty());
}

// Bytes larger than the loop buffer come in pieces, each claimed in turn.
TEST(DrainingBuffer, MoreThanTheLoopBufferArrivesWhole) {
  asio::io_context context;
  Connection connection(context);
  std::string sent(100 * 1000, 'x');
  for (std::size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<char>('a' + i % 26);
  asio::write(connection.client, asio::buffer(sent));
  connection.client.shutdown(tcp::socket::shutdown_send);
  std::string got;
  for (;;) {
    Read read;
    read.start(connection.server);
    context.run();
    context.restart();
    ASSERT_TRUE(read.done);
    if (read.ec == asio::error::eof) break;
    ASSERT_FALSE(read.ec) << read.ec.message();
    got += text(claim_landed(read.landed, read.bytes));
  }
  EXPECT_EQ(got, sent);
  EXPECT_FALSE(free_loop_buffer().empty());
}
