#include "codec/ftp/address.hpp"
#include "codec/ftp/command.hpp"
#include "codec/ftp/listing.hpp"
#include "codec/ftp/path.hpp"
#include "codec/ftp/reply.hpp"

#include <gtest/gtest.h>

namespace ftp = sockit::codec::ftp;

TEST(FtpCommand, ParsesVerbAndArgument) {
  EXPECT_EQ(ftp::parse_command_line("retr a b.txt\r\n"), (ftp::Command{"RETR", "a b.txt"}));
  EXPECT_EQ(ftp::parse_command_line("PWD\n"), (ftp::Command{"PWD", ""}));
  EXPECT_EQ(ftp::parse_command_line("CWD  x"), (ftp::Command{"CWD", " x"}));
}

TEST(FtpCommand, ReaderSplitsLinesAndStripsTelnet) {
  ftp::CommandReader reader(64);
  EXPECT_EQ(reader.feed("USER an"), ftp::CommandReader::Status::ok);
  EXPECT_FALSE(reader.next());
  reader.feed(
      "onymous\r\nPASS x\n\xff\xf4\xff\xf2"
      "ABOR\r\n\xff\xfb\x01NOOP\r\n");
  EXPECT_EQ(reader.next()->verb, "USER");
  EXPECT_EQ(reader.next()->arg, "x");
  EXPECT_EQ(reader.next()->verb, "ABOR");
  EXPECT_EQ(reader.next()->verb, "NOOP");
  EXPECT_FALSE(reader.next());
  reader.feed("STOR \xff\xff\r\n");  // IAC IAC is one 0xFF byte
  EXPECT_EQ(reader.next()->arg, "\xff");
}

TEST(FtpCommand, ReaderCapsLineLength) {
  ftp::CommandReader reader(64);
  EXPECT_EQ(reader.feed(std::string(64, 'a')), ftp::CommandReader::Status::ok);
  EXPECT_EQ(reader.feed("a"), ftp::CommandReader::Status::too_long);
  EXPECT_TRUE(reader.failed());
  // IAC IAC is one byte of the line and counts against the cap too.
  ftp::CommandReader doubled(64);
  std::string iacs;
  for (int i = 0; i < 65; ++i) iacs += "\xff\xff";
  EXPECT_EQ(doubled.feed(iacs), ftp::CommandReader::Status::too_long);
}

TEST(FtpCommand, ReaderCountsWhatIsBuffered) {
  ftp::CommandReader reader(64);
  reader.feed("AUTH TLS\r\n");
  EXPECT_EQ(reader.buffered(), 10u);
  EXPECT_EQ(reader.next()->verb, "AUTH");
  EXPECT_EQ(reader.buffered(), 0u);  // nothing after AUTH: safe to start TLS
  // A command pipelined behind AUTH (injected plaintext) is still there.
  reader.feed("AUTH TLS\r\nUSER x\r\n");
  reader.next();
  EXPECT_EQ(reader.buffered(), 8u);
  reader.next();
  reader.feed("US");
  EXPECT_EQ(reader.buffered(), 2u);
  ftp::CommandReader telnet(64);
  telnet.feed("NOOP\r\n\xff");  // half a Telnet sequence
  telnet.next();
  EXPECT_EQ(telnet.buffered(), 1u);
}

TEST(FtpCommand, SecurityArguments) {
  EXPECT_EQ(ftp::parse_auth("TLS"), ftp::AuthMechanism::tls);
  EXPECT_EQ(ftp::parse_auth("tls-c"), ftp::AuthMechanism::tls);
  EXPECT_EQ(ftp::parse_auth("SSL"), ftp::AuthMechanism::tls_protect_data);
  EXPECT_EQ(ftp::parse_auth("Tls-P"), ftp::AuthMechanism::tls_protect_data);
  EXPECT_EQ(ftp::parse_auth("KERBEROS_V4"), ftp::AuthMechanism::unknown);
  EXPECT_EQ(ftp::parse_auth("TLS "), ftp::AuthMechanism::unknown);
  EXPECT_EQ(ftp::parse_auth(""), ftp::AuthMechanism::unknown);
  EXPECT_EQ(ftp::parse_pbsz("0"), 0u);
  EXPECT_EQ(ftp::parse_pbsz("16384"), 16384u);
  EXPECT_EQ(ftp::parse_pbsz("4294967295"), 4294967295u);
  EXPECT_FALSE(ftp::parse_pbsz("4294967296"));
  EXPECT_FALSE(ftp::parse_pbsz(""));
  EXPECT_FALSE(ftp::parse_pbsz("-1"));
  EXPECT_FALSE(ftp::parse_pbsz("+1"));
  EXPECT_FALSE(ftp::parse_pbsz(" 0"));
  EXPECT_FALSE(ftp::parse_pbsz("0x10"));
  EXPECT_EQ(ftp::parse_prot("P"), 'P');
  EXPECT_EQ(ftp::parse_prot("c"), 'C');
  EXPECT_EQ(ftp::parse_prot("S"), 'S');
  EXPECT_EQ(ftp::parse_prot("e"), 'E');
  EXPECT_EQ(ftp::parse_prot("X"), '?');
  EXPECT_EQ(ftp::parse_prot("PP"), '?');
  EXPECT_EQ(ftp::parse_prot(""), '?');
}

TEST(FtpReply, SingleAndMultiLine) {
  EXPECT_EQ(ftp::format_reply(230, "Login successful."), "230 Login successful.\r\n");
  EXPECT_EQ(ftp::format_reply(211, "a\nb\nc"), "211-a\r\n b\r\n211 c\r\n");
  EXPECT_EQ(ftp::format_reply(550, "bad\rname"), "550 bad name\r\n");
  EXPECT_EQ(ftp::format_multiline(211, "Features:", {"EPSV", "UTF8"}, "End"),
            "211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n");
  EXPECT_EQ(ftp::quote_path("/a\"b"), "/a\"\"b");
}

TEST(FtpAddress, PortAndPasv) {
  auto a = ftp::parse_port("127,0,0,1,4,1");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 1025);
  EXPECT_FALSE(ftp::parse_port("127,0,0,1,4"));
  EXPECT_FALSE(ftp::parse_port("127,0,0,1,4,256"));
  EXPECT_FALSE(ftp::parse_port("127,0,0,1,4,1,"));
  EXPECT_FALSE(ftp::parse_port("-1,0,0,1,4,1"));
  EXPECT_EQ(ftp::format_pasv("127.0.0.2", 1025), "127,0,0,2,4,1");
  EXPECT_EQ(ftp::parse_pasv_reply("227 Entering Passive Mode (127,0,0,2,4,1).")->port, 1025);
}

TEST(FtpAddress, EprtAndEpsv) {
  auto a = ftp::parse_eprt("|2|::1|5000|");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->ipv6);
  EXPECT_EQ(a->port, 5000);
  EXPECT_EQ(ftp::parse_eprt("!1!127.0.0.1!21!")->host, "127.0.0.1");
  EXPECT_FALSE(ftp::parse_eprt("|1|::1|5000|"));
  EXPECT_FALSE(ftp::parse_eprt("|3|1.2.3.4|5000|"));
  EXPECT_FALSE(ftp::parse_eprt("|1|1.2.3.4|70000|"));
  using namespace std::string_view_literals;
  EXPECT_FALSE(ftp::parse_eprt("!1!127.0.0.1\0|2|::1|5000|!21!"sv))
      << "inet_pton stops at a NUL; we must not";
  EXPECT_EQ(ftp::format_epsv(5000), "|||5000|");
  EXPECT_EQ(ftp::format_eprt(*a), "|2|::1|5000|");
  EXPECT_EQ(ftp::parse_epsv_reply("229 Entering Extended Passive Mode (|||5000|)"), 5000);
}

TEST(FtpListing, LsLineAndFacts) {
  ftp::FileFacts f;
  f.name = "a.txt";
  f.size = 1234;
  f.mode = 0644;
  f.mtime = 1700000000;  // 2023-11-14 22:13:20 UTC
  EXPECT_EQ(ftp::format_list_line(f, 1700000000 + 60),
            "-rw-r--r--   1 ftp      ftp              1234 Nov 14 22:13 a.txt");
  EXPECT_EQ(ftp::format_list_line(f, 1700000000 + 400LL * 86400),
            "-rw-r--r--   1 ftp      ftp              1234 Nov 14  2023 a.txt");
  EXPECT_EQ(ftp::format_facts(f, "r"),
            "type=file;size=1234;modify=20231114221320;perm=r;unix.mode=0644; a.txt");
  f.kind = ftp::FileFacts::Kind::directory;
  f.mode = 0755;
  f.name = "bad\nname";
  EXPECT_EQ(ftp::format_list_line(f, 1700000000).substr(0, 10), "drwxr-xr-x");
  EXPECT_NE(ftp::format_list_line(f, 1700000000).find("bad?name"), std::string::npos);
  EXPECT_EQ(ftp::format_time(0), "19700101000000");
}

TEST(FtpPath, NeverClimbsAboveRoot) {
  EXPECT_EQ(ftp::resolve_path("/", "a/b"), "/a/b");
  EXPECT_EQ(ftp::resolve_path("/a", "../../../etc/passwd"), "/etc/passwd");
  EXPECT_EQ(ftp::resolve_path("/a/b", ".."), "/a");
  EXPECT_EQ(ftp::resolve_path("/a/b", "/x//./y/"), "/x/y");
  EXPECT_EQ(ftp::resolve_path("/a", ""), "/a");
  EXPECT_EQ(ftp::resolve_path("/", "/.."), "/");
  EXPECT_FALSE(ftp::resolve_path("/", std::string("a\0b", 3)));
  EXPECT_FALSE(ftp::resolve_path("/", std::string(5000, 'a')));
  EXPECT_EQ(ftp::relative_to_root("/"), ".");
  EXPECT_EQ(ftp::relative_to_root("/a/b"), "a/b");
  EXPECT_EQ(ftp::parent_path("/a/b"), "/a");
  EXPECT_EQ(ftp::parent_path("/a"), "/");
  EXPECT_EQ(ftp::leaf_name("/a/b"), "b");
  EXPECT_TRUE(ftp::is_within("/in/x", "/in"));
  EXPECT_FALSE(ftp::is_within("/inbox", "/in"));
}
