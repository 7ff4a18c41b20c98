// The FTP client's parsers: remote listings (MLSD, LIST in the ls -l and
// DOS forms, NLST), ftp:// URLs, the shell's command words, and the text
// of PWD, FEAT, MDTM and SIZE replies.
#include "codec/ftp/client_reply.hpp"
#include "codec/ftp/ftp_url.hpp"
#include "codec/ftp/remote_listing.hpp"
#include "codec/shell_words.hpp"

#include <gtest/gtest.h>

using namespace sockit::codec;
using ftp::ListingFormat;
using ftp::RemoteEntry;
using Kind = RemoteEntry::Kind;

TEST(RemoteListing, MlsdFacts) {
  auto e = ftp::parse_mlsd_line("type=file;size=1234;modify=20240305123400;perm=r;unix.mode=0644; a b.txt");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"a b.txt", Kind::file, 1234}));
  e = ftp::parse_mlsd_line("Type=dir;Modify=20240305123400; pub");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"pub", Kind::directory, std::nullopt}));
  e = ftp::parse_mlsd_line("type=OS.unix=symlink;size=9; link");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, Kind::link);
  EXPECT_FALSE(ftp::parse_mlsd_line("type=cdir; ."));
  EXPECT_FALSE(ftp::parse_mlsd_line("type=pdir; .."));
  EXPECT_FALSE(ftp::parse_mlsd_line("size=3; nofacttype"));
  EXPECT_FALSE(ftp::parse_mlsd_line("nospace"));
  // A name with a leading blank keeps it: only one blank separates.
  e = ftp::parse_mlsd_line("type=file;size=1;  lead");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, " lead");
}

TEST(RemoteListing, UnixLongForm) {
  auto e = ftp::parse_list_line("-rw-r--r--    1 0        0          300000 Nov 30 12:45 big.bin");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"big.bin", Kind::file, 300000}));
  e = ftp::parse_list_line("drwxr-xr-x    2 ftp      ftp          4096 Mar  5  2019 pub");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"pub", Kind::directory, std::nullopt}));
  // No group column, and a name with blanks.
  e = ftp::parse_list_line("-rw-r--r-- 1 owner 12 Jan 1 00:00 two  blanks.txt");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"two  blanks.txt", Kind::file, 12}));
  e = ftp::parse_list_line("lrwxrwxrwx 1 ftp ftp 7 Feb 29 10:00 current -> v1.2.3");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"current", Kind::link, std::nullopt}));
  // A name that is a date-like word still comes after the real date.
  e = ftp::parse_list_line("-rw-r--r-- 1 ftp ftp 5 Dec 24 2020 Jan 1 12:00");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->name, "Jan 1 12:00");
  EXPECT_EQ(e->size, 5u);
  EXPECT_FALSE(ftp::parse_list_line("total 12"));
  EXPECT_FALSE(ftp::parse_list_line("drwxr-xr-x 2 ftp ftp 4096 Mar 5 12:00 ."));
  EXPECT_FALSE(ftp::parse_list_line("-rw-r--r-- 1 ftp ftp notasize Mar 5 12:00 x"));
  EXPECT_FALSE(ftp::parse_list_line("-rw-r--r-- 1 ftp ftp 1 Mar 5 12:00"));
}

TEST(RemoteListing, DosForm) {
  auto e = ftp::parse_list_line("03-05-24  12:34PM       <DIR>          My Docs");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"My Docs", Kind::directory, std::nullopt}));
  e = ftp::parse_list_line("03-05-2024  01:02AM                 1234 report.pdf");
  ASSERT_TRUE(e);
  EXPECT_EQ(*e, (RemoteEntry{"report.pdf", Kind::file, 1234}));
}

TEST(RemoteListing, WholeListings) {
  auto list = ftp::parse_listing(
      "total 8\r\n-rw-r--r-- 1 ftp ftp 3 Nov 30 12:45 a.txt\r\n\r\ndrwxr-xr-x 2 ftp ftp 4096 Nov 30 12:45 "
      "sub\r\n",
      ListingFormat::list);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "a.txt");
  EXPECT_EQ(list[1].kind, Kind::directory);
  auto names = ftp::parse_listing("pub/a.txt\npub/b.bin\r\n.\n..\nc/\n", ListingFormat::nlst);
  ASSERT_EQ(names.size(), 3u);
  EXPECT_EQ(names[0], (RemoteEntry{"a.txt", Kind::unknown, std::nullopt}));
  EXPECT_EQ(names[1].name, "b.bin");
  EXPECT_EQ(names[2].name, "c");
  auto mlsd = ftp::parse_listing("type=cdir; .\r\ntype=file;size=2; x\r\n", ListingFormat::mlsd);
  ASSERT_EQ(mlsd.size(), 1u);
  EXPECT_EQ(mlsd[0].size, 2u);
}

TEST(FtpUrl, Parts) {
  std::string error;
  auto url = ftp::parse_ftp_url("ftp://bob:s%3Acret@Example.org:2121/pub/a%20b.txt", error);
  ASSERT_TRUE(url) << error;
  EXPECT_FALSE(url->implicit_tls);
  EXPECT_EQ(url->host, "Example.org");
  EXPECT_EQ(url->port, 2121);
  EXPECT_EQ(url->user, "bob");
  EXPECT_TRUE(url->has_password);
  EXPECT_EQ(url->password, "s:cret");
  EXPECT_EQ(url->path, "pub/a b.txt");

  url = ftp::parse_ftp_url("ftps://[::1]/", error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->implicit_tls);
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 990);
  EXPECT_FALSE(url->has_user);
  EXPECT_EQ(url->path, "");

  url = ftp::parse_ftp_url("alice@127.0.0.1", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->port, 21);
  EXPECT_TRUE(url->has_user);
  EXPECT_FALSE(url->has_password);
  url = ftp::parse_ftp_url("alice:@127.0.0.1", error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->has_password);
  EXPECT_EQ(url->password, "");
  url = ftp::parse_ftp_url("127.0.0.1:2121", error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->port, 2121);
}

TEST(FtpUrl, Refused) {
  std::string error;
  EXPECT_FALSE(ftp::parse_ftp_url("http://example.org/", error));
  EXPECT_NE(error.find("not an ftp://"), std::string::npos) << error;
  EXPECT_FALSE(ftp::parse_ftp_url("", error));
  EXPECT_FALSE(ftp::parse_ftp_url("ftp:///path", error));
  EXPECT_FALSE(ftp::parse_ftp_url("ftp://h:0/", error));
  EXPECT_FALSE(ftp::parse_ftp_url("ftp://h:99999/", error));
  // A CR LF would end the command line and start another.
  EXPECT_FALSE(ftp::parse_ftp_url("ftp://h/a%0d%0aDELE%20x", error));
  EXPECT_FALSE(ftp::parse_ftp_url("ftp://u%0a:p@h/", error));
  EXPECT_FALSE(ftp::parse_ftp_url("ftp://h/a%00b", error));
}

TEST(ShellWords, Commands) {
  EXPECT_EQ(split_commands("cd pub; get a.txt;;  ; ls"),
            (std::vector<std::string>{"cd pub", " get a.txt", " ls"}));
  EXPECT_EQ(split_commands("get 'a;b' \"c;d\" e\\;f\nbye"),
            (std::vector<std::string>{"get 'a;b' \"c;d\" e\\;f", "bye"}));
  EXPECT_TRUE(split_commands("  ;  ").empty());
}

TEST(ShellWords, Words) {
  std::string error;
  auto words = split_words("  get 'my file.txt'  \"b c\" d\\ e \"q\\\"x\" 'it'\\''s' \"a\\b\" ''", error);
  ASSERT_TRUE(words) << error;
  EXPECT_EQ(*words,
            (std::vector<std::string>{"get", "my file.txt", "b c", "d e", "q\"x", "it's", "a\\b", ""}));
  words = split_words("", error);
  ASSERT_TRUE(words);
  EXPECT_TRUE(words->empty());
  EXPECT_FALSE(split_words("get 'open", error));
  EXPECT_NE(error.find("unclosed"), std::string::npos);
  EXPECT_FALSE(split_words("get \"open", error));
  EXPECT_FALSE(split_words("get a\\", error));
  EXPECT_FALSE(split_words(std::string_view("get a\0b", 7), error));
}

TEST(ClientReplyText, PwdFeatMdtmSize) {
  EXPECT_EQ(ftp::parse_pwd_reply("\"/pub/a \"\"b\"\" c\" is the current directory"), "/pub/a \"b\" c");
  EXPECT_EQ(ftp::parse_pwd_reply("\"/\""), "/");
  EXPECT_FALSE(ftp::parse_pwd_reply("no quotes"));
  EXPECT_FALSE(ftp::parse_pwd_reply("\"unclosed"));

  auto features = ftp::parse_feat_reply("Features:\n EPSV\n mlst type*;size*;\n REST STREAM\n UTF8\nEnd");
  EXPECT_EQ(features, (std::set<std::string>{"EPSV", "MLST", "REST", "UTF8"}));
  EXPECT_TRUE(ftp::parse_feat_reply("Features:\nEnd").empty());
  EXPECT_TRUE(ftp::parse_feat_reply("").empty());

  EXPECT_EQ(ftp::parse_mdtm_reply("19700101000000"), 0);
  EXPECT_EQ(ftp::parse_mdtm_reply("20240305123400"), 1709642040);  // 2024-03-05 12:34:00 UTC
  EXPECT_EQ(ftp::parse_mdtm_reply("20240229235959.123"), 1709251199);
  EXPECT_FALSE(ftp::parse_mdtm_reply("2024030512340"));
  EXPECT_FALSE(ftp::parse_mdtm_reply("20241305123400"));
  EXPECT_FALSE(ftp::parse_mdtm_reply("2024030512340x"));
  EXPECT_FALSE(ftp::parse_mdtm_reply("20240305123400."));

  EXPECT_EQ(ftp::parse_size_reply("300000"), 300000u);
  EXPECT_EQ(ftp::parse_size_reply("12 bytes"), 12u);
  EXPECT_FALSE(ftp::parse_size_reply("-1"));
  EXPECT_FALSE(ftp::parse_size_reply("big"));
  EXPECT_FALSE(ftp::parse_size_reply("99999999999999999999999"));
}
