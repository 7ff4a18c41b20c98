// Byte transformations of the echo modes. Pure functions, unit-tested.
#pragma once

#include <span>

namespace sockit::echo {

// ASCII a-z to A-Z; every other byte (UTF-8 sequences included) unchanged,
// so a message split anywhere transforms the same as whole.
inline void upper_ascii(std::span<char> bytes) {
  for (char& c : bytes)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - ('a' - 'A'));
}

}  // namespace sockit::echo
