// What an FTP client reads in a server's directory listing: MLSD lines
// (RFC 3659 facts, the one exact form), LIST lines in the `ls -l` form most
// servers send (and the DOS form IIS sends), and NLST names. Sans-I/O; a
// line that is not understood is skipped, never guessed at.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::codec::ftp {

struct RemoteEntry {
  std::string name;
  enum class Kind { file, directory, link, other, unknown } kind = Kind::file;  // unknown: NLST
  std::optional<std::uint64_t> size;
  friend bool operator==(const RemoteEntry&, const RemoteEntry&) = default;
};

enum class ListingFormat { mlsd, list, nlst };

// "type=file;size=12;modify=20240305123400; name". Nothing for a line
// without facts, or for the cdir/pdir entries ("." and "..").
std::optional<RemoteEntry> parse_mlsd_line(std::string_view line);
// "-rw-r--r--   1 ftp ftp  1234 Mar  5 12:34 name" (group optional; "l"
// entries lose their " -> target"), or "03-05-24  12:34PM  <DIR>  name".
std::optional<RemoteEntry> parse_list_line(std::string_view line);

// Every entry of a listing (CRLF or LF lines), "." and ".." left out. NLST
// names may carry a directory prefix ("pub/a.txt"): only the last part is
// kept, as the name inside the listed directory.
std::vector<RemoteEntry> parse_listing(std::string_view text, ListingFormat format);

}  // namespace sockit::codec::ftp
