#include "services/http/proxy.hpp"

#include <gtest/gtest.h>

using namespace sockit::http;

TEST(HttpProxy, NoProxyMatchesHostsAndDomainSuffixes) {
  EXPECT_TRUE(bypasses_proxy("example.com", "example.com"));
  EXPECT_TRUE(bypasses_proxy("www.example.com", "example.com"));
  EXPECT_TRUE(bypasses_proxy("www.example.com", " other.org , .example.com"));
  EXPECT_FALSE(bypasses_proxy("badexample.com", "example.com"));
  EXPECT_TRUE(bypasses_proxy("anything", "*"));
  EXPECT_TRUE(bypasses_proxy("127.0.0.1", "localhost,127.0.0.1:8080"));
  EXPECT_TRUE(bypasses_proxy("::1", "[::1]"));
  EXPECT_FALSE(bypasses_proxy("example.com", ""));
}

TEST(HttpProxy, ChosenBySchemeUnlessBypassed) {
  NetworkOptions options;
  options.http_proxy = "http://proxy.local:3128";
  options.no_proxy = "internal.lan";
  std::string error;
  auto plain = sockit::codec::http::parse_url("http://example.com/", error);
  auto secure = sockit::codec::http::parse_url("https://example.com/", error);
  auto inside = sockit::codec::http::parse_url("http://wiki.internal.lan/", error);
  auto proxy = proxy_for(*plain, options);
  ASSERT_TRUE(proxy);
  EXPECT_EQ(proxy->authority(), "proxy.local:3128");
  EXPECT_FALSE(proxy_for(*secure, options)) << "https_proxy is not set";
  EXPECT_FALSE(proxy_for(*inside, options));
  options.https_proxy = "socks5://p:1080";
  EXPECT_THROW(proxy_for(*secure, options), FetchError);
}
