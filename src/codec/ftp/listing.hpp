// Directory listings: LIST in the `ls -l` form every client parses, NLST
// names, MLSD/MLST facts (RFC 3659) and the MDTM time stamp. Pure: the
// caller stats the files and gives the current time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sockit::codec::ftp {

struct FileFacts {
  std::string name;
  enum class Kind { file, directory, symlink, other } kind = Kind::file;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch, UTC
  std::uint32_t mode = 0;  // permission bits (07777)
  std::uint64_t links = 1;
  std::string link_target;  // for symlinks, shown as "name -> target"
};

// "-rw-r--r--   1 ftp      ftp          1234 Mar  5 12:34 name": a date
// within six months of `now` shows the time, an older one the year, as ls.
// Owner and group are always "ftp": local user names are not the client's
// business.
std::string format_list_line(const FileFacts& facts, std::int64_t now);

// "type=file;size=1234;modify=20240305123400;perm=r;unix.mode=0644; name".
// `perm` is the RFC 3659 perm fact for this client (e.g. "r", "el", "adfrw").
// `type_override` replaces type (cdir/pdir for "." and "..").
std::string format_facts(const FileFacts& facts, std::string_view perm, std::string_view type_override = {});

// "20240305123400" (UTC), for MDTM and modify=.
std::string format_time(std::int64_t seconds);

}  // namespace sockit::codec::ftp
