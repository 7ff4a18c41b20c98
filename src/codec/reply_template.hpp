// ReplyTemplate: the answer a line service sends for each message, e.g.
//   "Received msg: {msg} from {peer}"   "Hello, {msg}!"
// "{{" and "}}" are literal braces; any other {name} is an error at start-up.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sockit::codec {

class ReplyTemplate {
 public:
  // Throws std::invalid_argument with a one-line message naming the problem.
  static ReplyTemplate parse(std::string_view text);

  // Appends the reply for `msg` from `peer` to `out`.
  void render(std::string_view msg, std::string_view peer, std::string& out) const;

 private:
  enum class Field { msg, peer };
  std::vector<std::variant<std::string, Field>> parts_;
};

}  // namespace sockit::codec
