#include "codec/reply_template.hpp"

#include <stdexcept>

namespace sockit::codec {

ReplyTemplate ReplyTemplate::parse(std::string_view text) {
  ReplyTemplate result;
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) result.parts_.emplace_back(std::move(literal));
    literal.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      auto close = text.find('}', i);
      if (close == std::string_view::npos)
        throw std::invalid_argument("reply template: '{' without '}' (write {{ for a brace)");
      auto name = text.substr(i + 1, close - i - 1);
      flush_literal();
      if (name == "msg")
        result.parts_.emplace_back(Field::msg);
      else if (name == "peer")
        result.parts_.emplace_back(Field::peer);
      else
        throw std::invalid_argument("reply template: unknown placeholder {" + std::string(name) +
                                    "} (use {msg} or {peer})");
      i = close;
    } else if (c == '}') {
      throw std::invalid_argument("reply template: '}' without '{' (write }} for a brace)");
    } else {
      literal += c;
    }
  }
  flush_literal();
  return result;
}

void ReplyTemplate::render(std::string_view msg, std::string_view peer, std::string& out) const {
  for (const auto& part : parts_) {
    if (auto* literal = std::get_if<std::string>(&part))
      out += *literal;
    else if (std::get<Field>(part) == Field::msg)
      out += msg;
    else
      out += peer;
  }
}

}  // namespace sockit::codec
