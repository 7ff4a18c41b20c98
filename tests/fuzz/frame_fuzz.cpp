// A stream cut into reads at any points decodes to the same frames, or the
// same error, as the stream in one read; every frame is within the limit and
// re-encodes to exactly its bytes; every payload that parses re-builds to
// exactly itself.
//
// Input: byte 0 picks the maximum payload, bytes 1-4 are read sizes (cycled;
// an odd one reads through prepare()/commit(), an even one through feed()),
// the rest is the stream.
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "codec/exec_messages.hpp"
#include "codec/frame.hpp"

namespace codec = sockit::codec;
namespace exec = sockit::codec::exec;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

struct Result {
  std::vector<std::string> frames;  // each frame's bytes, header included
  bool failed = false;
  codec::ErrorCode code = codec::ErrorCode::internal;
  std::string error;
};

void check_payload(std::uint8_t type, std::string_view payload) {
  // Every parser sees every payload: none may crash, and what parses must
  // be exactly what its builder makes.
  if (auto hello = codec::parse_hello(payload)) {
    check(!hello->service.empty());
    check(codec::hello_payload(*hello) == payload);
  }
  if (auto error = codec::parse_error(payload))
    check(codec::error_payload(error->code, error->text) == payload);
  if (auto run = exec::parse_run(payload)) {
    check(!run->args.empty() && !run->args[0].empty());
    check(run->form == exec::RunForm::argv || run->args.size() == 1);
    check(exec::run_payload(*run) == payload);
  }
  if (auto exit = exec::parse_exit(payload)) check(exec::exit_payload(*exit) == payload);
  if (auto signal = exec::parse_signal(payload)) {
    check(exec::is_forwardable_signal(*signal));
    check(exec::signal_payload(*signal) == payload);
  }
  if (auto ack = exec::parse_stdin_ack(payload)) check(*ack > 0 && exec::stdin_ack_payload(*ack) == payload);
}

Result decode(std::string_view stream, std::size_t max_payload, const unsigned char* sizes, bool whole) {
  codec::FrameDecoder decoder(max_payload);
  Result result;
  std::size_t pos = 0;   // bytes given to the decoder
  std::size_t done = 0;  // bytes returned as frames
  for (std::size_t read = 0; pos < stream.size() && !result.failed; ++read) {
    unsigned size = sizes[read % 4];
    std::size_t n = whole ? stream.size() : std::min<std::size_t>(size / 2 + 1, stream.size() - pos);
    if (!whole && size % 2 == 1) {
      auto space = decoder.prepare(size);
      check(space.size() >= size);
      n = std::min(n, space.size());
      std::memcpy(space.data(), stream.data() + pos, n);
      decoder.commit(n);
    } else {
      decoder.feed(stream.substr(pos, n));
    }
    pos += n;
    codec::Frame frame;
    for (;;) {
      auto status = decoder.next(frame);
      if (status == codec::FrameDecoder::Status::need_more) break;
      if (status == codec::FrameDecoder::Status::error) {
        result.failed = true;
        result.code = decoder.error_code();
        result.error = decoder.error();
        // Sticky, and nothing is kept after it.
        check(decoder.next(frame) == codec::FrameDecoder::Status::error);
        check(decoder.error() == result.error);
        check(decoder.buffered() == 0);
        break;
      }
      check(frame.payload.size() <= max_payload);
      check(frame.type != 0 && frame.type < 0x80);
      std::string bytes;
      codec::append_frame(bytes, frame.type, frame.text());
      check(bytes.size() == codec::kFrameHeaderSize + frame.payload.size());
      check(stream.substr(done, bytes.size()) == bytes);
      done += bytes.size();
      check_payload(frame.type, frame.text());
      result.frames.push_back(std::move(bytes));
    }
    if (!result.failed) check(decoder.buffered() == pos - done);
  }
  if (result.failed) {
    // The error names the header at `done`, judged from the header alone.
    check(!result.error.empty() && result.error.find('\n') == std::string::npos);
    auto type = static_cast<unsigned char>(stream[done]);
    if (result.code == codec::ErrorCode::malformed) {
      check(type == 0 || type >= 0x80);
    } else {
      check(result.code == codec::ErrorCode::too_large);
      check(stream.size() - done >= codec::kFrameHeaderSize);
      std::uint32_t length = 0;
      for (int i = 1; i <= 4; ++i) length = length << 8 | static_cast<unsigned char>(stream[done + i]);
      check(length > max_payload);
    }
  }
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, size_t size) {
  if (size < 5) return 0;
  static constexpr std::size_t kLimits[] = {0, 7, 300, codec::kDefaultMaxPayload};
  std::size_t max_payload = kLimits[data[0] % 4];
  std::string_view stream(reinterpret_cast<const char*>(data) + 5, size - 5);
  auto whole = decode(stream, max_payload, data + 1, true);
  auto pieces = decode(stream, max_payload, data + 1, false);
  check(whole.frames == pieces.frames);
  check(whole.failed == pieces.failed);
  check(whole.error == pieces.error);
  if (whole.failed) check(whole.code == pieces.code);
  return 0;
}
