#include "net/endpoint.hpp"

#include <gtest/gtest.h>

using sockit::net::parse_endpoint;
using sockit::net::Transport;

TEST(Endpoint, HostPortDefaultsToTcp) {
  auto e = parse_endpoint("127.0.0.1:7007").endpoint;
  ASSERT_TRUE(e);
  EXPECT_EQ(e->transport, Transport::tcp);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 7007);
  EXPECT_EQ(e->to_string(), "tcp://127.0.0.1:7007");
}

TEST(Endpoint, SchemesAndV6) {
  EXPECT_EQ(parse_endpoint("udp://localhost:0").endpoint->transport, Transport::udp);
  auto v6 = parse_endpoint("[::1]:65535").endpoint;
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->to_string(), "tcp://[::1]:65535");
  auto unix_socket = parse_endpoint("unix:/tmp/x.sock").endpoint;
  ASSERT_TRUE(unix_socket);
  EXPECT_EQ(unix_socket->transport, Transport::unix_stream);
  EXPECT_EQ(unix_socket->path, "/tmp/x.sock");
  EXPECT_EQ(parse_endpoint("/run/a.sock").endpoint->path, "/run/a.sock");
  EXPECT_EQ(parse_endpoint("h:1", Transport::udp).endpoint->transport, Transport::udp);
}

TEST(Endpoint, ErrorsNameTheBadPart) {
  auto port = parse_endpoint("127.0.0.1:70000");
  EXPECT_FALSE(port.endpoint);
  EXPECT_NE(port.error.find("'70000'"), std::string::npos) << port.error;
  EXPECT_NE(parse_endpoint("localhost").error.find("missing ':port'"), std::string::npos);
  EXPECT_NE(parse_endpoint("::1:80").error.find("brackets"), std::string::npos);
  EXPECT_NE(parse_endpoint("ftp://h:1").error.find("unknown scheme"), std::string::npos);
  EXPECT_NE(parse_endpoint("bad host:1").error.find("bad host name"), std::string::npos);
  EXPECT_NE(parse_endpoint("h:").error.find("bad port"), std::string::npos);
  EXPECT_NE(parse_endpoint("h:-1").error.find("bad port"), std::string::npos);
  EXPECT_NE(parse_endpoint("unix:").error.find("empty"), std::string::npos);
  EXPECT_NE(parse_endpoint("unix:/" + std::string(200, 'a')).error.find("107"), std::string::npos);
  EXPECT_FALSE(parse_endpoint("").endpoint);
  EXPECT_FALSE(parse_endpoint("[::1]80").endpoint);
  EXPECT_FALSE(parse_endpoint("[%]:6").endpoint) << "found by fuzz_endpoint";
  EXPECT_FALSE(parse_endpoint("[]:6").endpoint);
}

TEST(Endpoint, ErrorsStayOnOneLine) {
  auto parsed = parse_endpoint("bad\nhost:1");
  EXPECT_FALSE(parsed.endpoint);
  EXPECT_EQ(parsed.error.find('\n'), std::string::npos) << parsed.error;
}

// Found by fuzz_endpoint: a path starting with "//" must survive printing.
TEST(Endpoint, UnixPathsRoundTrip) {
  for (auto text : {"//txm.sock", "/tmp/a", "unix:///tmp/a", "./rel.sock"}) {
    auto first = parse_endpoint(text).endpoint;
    ASSERT_TRUE(first) << text;
    auto again = parse_endpoint(first->to_string()).endpoint;
    ASSERT_TRUE(again) << first->to_string();
    EXPECT_EQ(*again, *first) << text;
  }
}
