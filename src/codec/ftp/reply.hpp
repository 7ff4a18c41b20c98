// FTP replies (RFC 959 section 4.2): "NNN text" on one line, or
// "NNN-first" ... "NNN last" over several. Every line ends in CRLF, and no
// line the client sees can contain a CR or LF from a file name.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sockit::codec::ftp {

// "230 Login successful.\r\n". `text` may hold newlines: then a multi-line
// reply, each inner line starting with a space so no line looks like an end.
std::string format_reply(int code, std::string_view text);

// 211-/213-/214-style: the first line, body lines (each sent with a leading
// space, RFC 3659 for MLST), and the closing line.
std::string format_multiline(int code, std::string_view first, const std::vector<std::string>& body,
                             std::string_view last);

// A name as it may appear inside a reply: CR and LF become spaces, and a
// double quote is doubled (RFC 959 for 257 "PATH").
std::string quote_path(std::string_view path);
std::string one_line(std::string_view text);

}  // namespace sockit::codec::ftp
