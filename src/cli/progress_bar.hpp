// ProgressBar: what a transfer shows on a terminal (one redrawn line: the
// current file and the total, with rate and ETA) and, when stderr is not a
// terminal, nothing until the one-line summary. Shared by every tool that
// moves files.
#pragma once

#include "services/transfer/transfer_session.hpp"

#include <chrono>
#include <cstdint>
#include <string>

namespace sockit::cli {

class ProgressBar final : public transfer::Progress {
 public:
  // `verb`: "sent" or "received", for the summary.
  ProgressBar(bool quiet, std::string verb);

  void begin(std::uint64_t files, std::uint64_t bytes) override;
  void file_started(std::string_view name, std::uint64_t size, std::uint64_t offset) override;
  void advanced(std::uint64_t bytes) override;
  void file_done(std::string_view name, codec::transfer::Outcome outcome, std::string_view reason) override;
  void end() override;

  // "sockit: LINE" on stderr, clearing the bar first (it is redrawn with
  // the next progress): for failures and notes while a bar may be drawn.
  void note(std::string_view line);
  // Whether the bar is drawn (stderr is a terminal and not quiet).
  bool live() const { return live_; }

  // "sent 3 files, 12.0 MiB in 0.41 s (29.3 MiB/s); 1 unchanged; 1 failed"
  void print_summary(const transfer::Summary& summary) const;

 private:
  void draw(bool force);
  void clear_line();

  bool quiet_;
  bool live_;  // stderr is a terminal
  std::string verb_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw_{};
  std::uint64_t total_bytes_ = 0;
  std::uint64_t total_files_ = 0;
  std::uint64_t done_bytes_ = 0;   // this run's bytes plus resumed ones
  std::uint64_t moved_bytes_ = 0;  // this run's bytes (for the rate)
  std::uint64_t files_done_ = 0;
  std::string file_;
  std::uint64_t file_size_ = 0;
  std::uint64_t file_done_bytes_ = 0;
  bool drawn_ = false;
};

// 1536 -> "1.5 KiB".
std::string human_bytes(double bytes);

}  // namespace sockit::cli
