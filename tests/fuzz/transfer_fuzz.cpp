// Every transfer payload parser on arbitrary bytes: none may crash, what
// parses re-builds to exactly the same bytes, and a name path_problem()
// accepts can never climb out of the receiving directory.
//
// Input: byte 0 picks the parser, the rest is the payload.
#include <string>
#include <string_view>

#include "codec/transfer_messages.hpp"

namespace t = sockit::codec::transfer;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_name(std::string_view path) {
  if (!t::path_problem(path).empty()) return;
  check(!path.empty() && path.front() != '/' && path.size() <= t::kMaxPathBytes);
  std::string_view rest = path;
  for (;;) {
    auto slash = rest.find('/');
    auto part = rest.substr(0, slash);
    check(!part.empty() && part != "." && part != "..");
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  for (char c : path) check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view payload(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      if (auto m = t::parse_role(payload)) check(t::role_payload(*m) == payload);
      break;
    case 1:
      if (auto m = t::parse_entry(payload)) {
        check(t::entry_payload(*m) == payload);
        check_name(m->path);
      }
      break;
    case 2:
      if (auto m = t::parse_answer(payload)) check(t::answer_payload(*m) == payload);
      break;
    case 3:
      if (auto m = t::parse_start(payload)) check(t::start_payload(*m) == payload);
      break;
    case 4:
      if (auto m = t::parse_end(payload)) check(t::end_payload(*m) == payload);
      break;
    case 5:
      if (auto m = t::parse_result(payload)) check(t::result_payload(*m) == payload);
      break;
    case 6:
      check_name(payload);
      break;
  }
  return 0;
}
