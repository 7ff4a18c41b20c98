#include "net/answer_predictor.hpp"

#include <gtest/gtest.h>

using sockit::net::AnswerPredictor;

namespace {

// How many of the next `waits` calls say to yield.
int yields_in(AnswerPredictor& predictor, int waits) {
  int yields = 0;
  for (int i = 0; i < waits; ++i) yields += predictor.worth_yielding() ? 1 : 0;
  return yields;
}

TEST(AnswerPredictor, TriesFirst) {
  AnswerPredictor predictor;
  EXPECT_EQ(yields_in(predictor, 20), 20);
}

TEST(AnswerPredictor, KeepsTryingWhileYieldedReadsFindData) {
  AnswerPredictor predictor;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(predictor.worth_yielding());
    predictor.record(true);
  }
  // Saturated: one miss does not stop it, a second does.
  predictor.record(false);
  EXPECT_TRUE(predictor.worth_yielding());
  predictor.record(false);
  EXPECT_FALSE(predictor.worth_yielding());
}

TEST(AnswerPredictor, QuietPeerGetsOneProbeInEight) {
  AnswerPredictor predictor;
  // A peer that never answers in time (one connection on a quiet loop).
  int yields = 0;
  for (int i = 0; i < 800; ++i)
    if (predictor.worth_yielding()) {
      ++yields;
      predictor.record(false);
    }
  // One try before it learns, then every eighth wait.
  EXPECT_GE(yields, 100);
  EXPECT_LE(yields, 103);
}

TEST(AnswerPredictor, ProbesThatFindDataTurnItBackOn) {
  AnswerPredictor predictor;
  predictor.record(false);
  predictor.record(false);
  ASSERT_LE(yields_in(predictor, 8), 1);
  // The loop got busy: every yielded read now finds data. Two probes that
  // find it turn yielding back on for every wait.
  int waits = 0;
  int in_a_row = 0;
  while (in_a_row < 4 && waits < 100) {
    ++waits;
    if (predictor.worth_yielding()) {
      predictor.record(true);
      ++in_a_row;
    } else {
      in_a_row = 0;
    }
  }
  EXPECT_LE(waits, 20);
}

}  // namespace
