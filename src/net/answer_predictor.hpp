// AnswerPredictor: whether a request/response session should yield to the
// loop and read again before it waits for epoll.
//
// Why: after answering a small message, a session that waits at once has
// its next read performed from an epoll event (a recvmsg with the TCP_INQ
// hint, after the reactor's dispatch). If it first lets the loop's other
// ready sessions run (one post), a busy loop comes back to it after its peer
// has usually answered, and one plain recv finds the message: at 64 B x
// 1,000 connections 94% of such reads find data; +3% round trips/s there,
// +9% and +13% for 4 KiB blocks at 1,000 and 100 connections (paired A/B,
// docs/benchmarks.md, session 10). Asio's own echo does this implicitly
// (its write completion is posted). On a quiet loop the post returns at
// once, the recv gets EAGAIN, and the session pays a system call for nothing
// (-9% at one connection): so each session keeps a 2-bit
// saturating counter of whether its yielded reads found data, tries only
// while they did, and otherwise probes one wait in 8 to notice when the loop
// gets busy. The echo server does not yield after reads of more than 4 KiB:
// at 16 KiB x 1,000 the extra trip through the queue cost 16%
// (docs/engineering-notes.md).
#pragma once

#include <cstdint>

namespace sockit::net {

class AnswerPredictor {
 public:
  // Called where the session would wait; true: yield and read first.
  bool worth_yielding() {
    if (score_ >= kTry) return true;
    return ++waits_since_probe_ % kProbeEvery == 0;
  }
  // What a yielded read found: data (or end of stream), or nothing yet.
  void record(bool found) {
    if (found && score_ < kMax) ++score_;
    if (!found && score_ > 0) --score_;
  }

 private:
  static constexpr std::uint8_t kMax = 3;
  static constexpr std::uint8_t kTry = 2;
  static constexpr std::uint8_t kProbeEvery = 8;
  std::uint8_t score_ = kTry;
  std::uint8_t waits_since_probe_ = 0;
};

}  // namespace sockit::net
