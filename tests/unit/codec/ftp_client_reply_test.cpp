#include "codec/ftp/client_reply.hpp"

#include <gtest/gtest.h>

using sockit::codec::ftp::FtpReplyReader;

TEST(FtpReplyReader, OneLineAndManyInAnyPieces) {
  const std::string bytes = "220 Welcome\r\n211-Features:\r\n EPSV\r\n SIZE\r\n211 End\r\n226 Done\r\n";
  for (std::size_t step : {1, 2, 7, 100}) {
    FtpReplyReader reader;
    std::vector<std::pair<int, std::string>> got;
    std::string error;
    for (std::size_t at = 0; at < bytes.size(); at += step) {
      reader.feed(std::string_view(bytes).substr(at, step));
      while (auto reply = reader.next(error)) got.emplace_back(reply->code, reply->text);
    }
    ASSERT_EQ(error, "");
    ASSERT_EQ(got.size(), 3u) << step;
    EXPECT_EQ(got[0], std::make_pair(220, std::string("Welcome")));
    EXPECT_EQ(got[1], std::make_pair(211, std::string("Features:\n EPSV\n SIZE\nEnd")));
    EXPECT_EQ(got[2], std::make_pair(226, std::string("Done")));
  }
}

TEST(FtpReplyReader, InnerLinesThatLookLikeCodesDoNotEndIt) {
  FtpReplyReader reader;
  std::string error;
  reader.feed("230-Hi\r\n230-still\r\n220 other code\r\n230 ok\r\n");
  auto reply = reader.next(error);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->code, 230);
  EXPECT_EQ(reply->text, "Hi\n230-still\n220 other code\nok");
}

TEST(FtpReplyReader, GarbageAndOversizedLinesAreErrors) {
  FtpReplyReader garbage;
  std::string error;
  garbage.feed("SSH-2.0-OpenSSH\r\n");
  EXPECT_FALSE(garbage.next(error));
  EXPECT_NE(error.find("not an FTP reply"), std::string::npos);
  FtpReplyReader endless;
  error.clear();
  endless.feed(std::string(20000, 'x'));
  EXPECT_FALSE(endless.next(error));
  EXPECT_NE(error.find("longer than 8 KiB"), std::string::npos);
}
