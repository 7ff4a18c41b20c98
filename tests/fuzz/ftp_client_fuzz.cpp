// What `sockit ftp` parses from a server or a user: directory listings
// (MLSD, LIST, NLST), the shell's command lines, and the text of the
// replies it reads (PWD, FEAT, MDTM, SIZE). The first byte picks
// the parser. (ftp:// URLs are in the HTTP target, with the other URLs.)
#include "codec/ftp/client_reply.hpp"
#include "codec/ftp/remote_listing.hpp"
#include "codec/shell_words.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace sockit::codec;

namespace {

void listing(std::string_view input, ftp::ListingFormat format) {
  for (const auto& entry : ftp::parse_listing(input, format)) {
    // A name is never empty, "." or "..", and never spans lines.
    if (entry.name.empty() || entry.name == "." || entry.name == "..") std::abort();
    if (entry.name.find('\n') != std::string::npos) std::abort();
    if (entry.size && entry.kind != ftp::RemoteEntry::Kind::file) std::abort();
    if (format == ftp::ListingFormat::nlst && entry.name.find('/') != std::string::npos) std::abort();
  }
}

void command_line(std::string_view input) {
  for (const auto& command : split_commands(input)) {
    if (command.empty()) std::abort();
    std::string error;
    auto words = split_words(command, error);
    if (!words && error.empty()) std::abort();
    if (words)
      for (const auto& word : *words)
        if (word.size() > command.size()) std::abort();
  }
}

// The text of PWD, FEAT, MDTM and SIZE replies.
void reply_text(std::string_view input) {
  if (auto path = ftp::parse_pwd_reply(input))
    if (path->size() >= input.size()) std::abort();
  for (const auto& feature : ftp::parse_feat_reply(input))
    if (feature.empty() || feature.find(' ') != std::string::npos) std::abort();
  if (auto seconds = ftp::parse_mdtm_reply(input))
    if (*seconds < -62167219200 || *seconds > 253402300800) std::abort();  // years 0000 to 9999
  ftp::parse_size_reply(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      listing(input, ftp::ListingFormat::mlsd);
      break;
    case 1:
      listing(input, ftp::ListingFormat::list);
      break;
    case 2:
      listing(input, ftp::ListingFormat::nlst);
      break;
    case 3:
      command_line(input);
      break;
    default:
      reply_text(input);
  }
  return 0;
}
