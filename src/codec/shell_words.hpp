// The command lines of the interactive clients (`sockit ftp`): a script
// split into commands at ';', a command into words as a shell would ('...'
// and "..." quote, a backslash escapes the next character). Sans-I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sockit::codec {

// "cd pub; get 'a;b'" -> {"cd pub", " get 'a;b'"}: split at each ';' (or
// newline) outside quotes; empty commands dropped.
std::vector<std::string> split_commands(std::string_view script);

// "get 'my file.txt' \"b c\" d\\ e" -> {"get", "my file.txt", "b c", "d e"}.
// Nothing, with `error` set, for an unclosed quote or a NUL.
std::optional<std::vector<std::string>> split_words(std::string_view line, std::string& error);

}  // namespace sockit::codec
