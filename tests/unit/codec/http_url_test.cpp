#include "codec/http/request.hpp"
#include "codec/http/response_rules.hpp"
#include "codec/http/url.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace sockit::codec::http;

namespace {

Url url(const char* text) {
  std::string error;
  auto parsed = parse_url(text, error);
  EXPECT_TRUE(parsed) << text << ": " << error;
  return parsed.value_or(Url{});
}

}  // namespace

TEST(HttpUrl, SchemeDefaultsToHttpAndPortsToTheSchemes) {
  auto plain = url("example.com/a/b?q=1");
  EXPECT_EQ(plain.scheme, "http");
  EXPECT_EQ(plain.host, "example.com");
  EXPECT_EQ(plain.port, 80);
  EXPECT_EQ(plain.target, "/a/b?q=1");
  EXPECT_EQ(plain.authority(), "example.com");
  auto secure = url("HTTPS://Example.COM:8443");
  EXPECT_EQ(secure.scheme, "https");
  EXPECT_EQ(secure.host, "example.com");
  EXPECT_EQ(secure.port, 8443);
  EXPECT_EQ(secure.target, "/");
  EXPECT_EQ(secure.authority(), "example.com:8443");
}

TEST(HttpUrl, Ipv6AndUserinfo) {
  auto v6 = url("http://[::1]:8080/x");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.authority(), "[::1]:8080");
  EXPECT_EQ(v6.text(), "http://[::1]:8080/x");
  auto user = url("http://ann:s%40cret@host/");
  EXPECT_TRUE(user.has_user);
  EXPECT_EQ(user.user, "ann");
  EXPECT_EQ(user.password, "s@cret");
  EXPECT_EQ(user.text(), "http://host/") << "userinfo never shows in messages";
}

TEST(HttpUrl, BadOnesSayWhy) {
  std::string error;
  EXPECT_FALSE(parse_url("http://host:99999/", error));
  EXPECT_NE(error.find("port"), std::string::npos) << error;
  EXPECT_FALSE(parse_url("http:///nohost", error));
  EXPECT_FALSE(parse_url("", error));
  EXPECT_FALSE(parse_url("http://exa mple.com/", error));
}

TEST(HttpUrl, LocationsResolveAgainstTheirBase) {
  auto base = url("https://a.example/dir/page?x=1");
  std::string error;
  EXPECT_EQ(resolve_location(base, "other", error)->text(), "https://a.example/dir/other");
  EXPECT_EQ(resolve_location(base, "/root", error)->text(), "https://a.example/root");
  EXPECT_EQ(resolve_location(base, "//b.example/p", error)->text(), "https://b.example/p");
  EXPECT_EQ(resolve_location(base, "http://c.example:81/q#frag", error)->text(), "http://c.example:81/q");
  EXPECT_EQ(resolve_location(base, "../up", error)->text(), "https://a.example/up");
  EXPECT_TRUE(url("http://h/").same_origin(url("http://h:80/other")));
  EXPECT_FALSE(url("http://h/").same_origin(url("https://h/")));
}

TEST(HttpUrl, FileNamesAreNeverPaths) {
  EXPECT_EQ(file_name_from_url(url("http://h/a/b/file%20name.iso?x=1")), "file name.iso");
  EXPECT_EQ(file_name_from_url(url("http://h/dir/")), "");
  EXPECT_EQ(file_name_from_url(url("http://h/a/..%2F..%2Fetc%2Fpasswd")), "passwd");
  EXPECT_EQ(file_name_from_url(url("http://h/%2E%2E")), "");
  EXPECT_EQ(file_name_from_disposition("attachment; filename=\"report.pdf\""), "report.pdf");
  EXPECT_EQ(file_name_from_disposition("attachment; filename=plain.txt; size=3"), "plain.txt");
  EXPECT_EQ(
      file_name_from_disposition("attachment; filename=\"a.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt"),
      "\xE2\x82\xAC rates.txt");
  EXPECT_EQ(file_name_from_disposition("attachment; filename=\"../../.bashrc\""), ".bashrc");
  EXPECT_EQ(file_name_from_disposition("attachment; filename=\"..\""), "");
  EXPECT_EQ(file_name_from_disposition("attachment; filename=\"a\\nb\""), "anb");
  EXPECT_EQ(file_name_from_disposition("inline"), "");
}

TEST(HttpRules, RedirectMethods) {
  EXPECT_EQ(method_after_redirect(301, "POST"), "GET");
  EXPECT_EQ(method_after_redirect(302, "POST"), "GET");
  EXPECT_EQ(method_after_redirect(303, "PUT"), "GET");
  EXPECT_EQ(method_after_redirect(303, "HEAD"), "HEAD");
  EXPECT_EQ(method_after_redirect(307, "POST"), "POST");
  EXPECT_EQ(method_after_redirect(308, "PUT"), "PUT");
  EXPECT_EQ(method_after_redirect(301, "HEAD"), "HEAD");
  EXPECT_TRUE(body_follows_redirect(307));
  EXPECT_FALSE(body_follows_redirect(302));
  EXPECT_TRUE(is_redirect(308));
  EXPECT_FALSE(is_redirect(304));
}

TEST(HttpRules, ContentRange) {
  auto range = parse_content_range("bytes 100-199/1000");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->first, 100u);
  EXPECT_EQ(range->last, 199u);
  EXPECT_EQ(range->total, 1000u);
  EXPECT_FALSE(parse_content_range("bytes 100-199/*")->total);
  EXPECT_FALSE(parse_content_range("bytes 200-100/1000"));
  EXPECT_FALSE(parse_content_range("bytes 0-1000/1000"));
  EXPECT_FALSE(parse_content_range("items 0-1/2"));
  EXPECT_FALSE(parse_content_range("bytes -1-2/3"));
  EXPECT_EQ(parse_unsatisfied_range("bytes */4096"), 4096u);
  EXPECT_FALSE(parse_unsatisfied_range("bytes 0-1/2"));
}

TEST(HttpRequest, SerializesWithOursReplacedByTheUsers) {
  Request request;
  request.target = "/x?y=1";
  request.host = "example.com";
  request.headers = {{"User-Agent", "sockit/0.1"}, {"Accept", "*/*"}};
  set_header(request.headers, "user-agent", "mine/1.0");
  set_header(request.headers, "Accept", "");
  set_header(request.headers, "X-Extra", "1");
  request.method = "POST";
  request.body = "a=1";
  EXPECT_EQ(serialize(request),
            "POST /x?y=1 HTTP/1.1\r\nHost: example.com\r\nuser-agent: mine/1.0\r\nX-Extra: 1\r\n"
            "Content-Length: 3\r\n\r\na=1");
}

TEST(HttpRequest, NoHeaderCanSmuggleAnother) {
  std::string error;
  EXPECT_FALSE(parse_header_option("X-A: 1\r\nX-Evil: 2", error));
  EXPECT_FALSE(parse_header_option("No colon", error));
  EXPECT_FALSE(parse_header_option("Bad Name: 1", error));
  auto ok = parse_header_option("X-Ok:   spaced value  ", error);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->second, "spaced value");
  Request request;
  request.target = "/";
  request.host = "h";
  request.headers = {{"X", "a\nb"}};
  EXPECT_THROW(serialize(request), std::invalid_argument);
  request.headers.clear();
  request.method = "GET /evil";
  EXPECT_THROW(serialize(request), std::invalid_argument);
}

TEST(HttpRequest, BasicAuthorization) {
  EXPECT_EQ(basic_authorization("Aladdin:open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_authorization("a:b"), "Basic YTpi");
  EXPECT_EQ(basic_authorization("ab:cd"), "Basic YWI6Y2Q=");
}
