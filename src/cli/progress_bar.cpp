#include "cli/progress_bar.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>

namespace sockit::cli {

using codec::transfer::Outcome;

namespace {

constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

std::string duration_text(double seconds) {
  if (seconds < 0 || seconds > 99 * 3600) return "--:--";
  auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{}:{:02}", s / 60, s % 60);
}

// Names come from the peer: keep the line one line, whatever they hold.
std::string fit(std::string_view name, std::size_t width) {
  std::string out(name);
  if (out.size() > width) out = "..." + out.substr(out.size() - (width - 3));
  return out;
}

}  // namespace

std::string human_bytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

ProgressBar::ProgressBar(bool quiet, std::string verb)
    : quiet_(quiet), live_(!quiet && ::isatty(STDERR_FILENO)), verb_(std::move(verb)) {}

void ProgressBar::begin(std::uint64_t files, std::uint64_t bytes) {
  // A listener that keeps listening starts over for each transfer.
  total_files_ = files;
  total_bytes_ = bytes;
  done_bytes_ = moved_bytes_ = files_done_ = 0;
  file_.clear();
  file_size_ = file_done_bytes_ = 0;
  started_ = std::chrono::steady_clock::now();
}

void ProgressBar::file_started(std::string_view name, std::uint64_t size, std::uint64_t offset) {
  file_ = name;
  file_size_ = size;
  file_done_bytes_ = offset;
  done_bytes_ += offset;
  draw(false);
}

void ProgressBar::advanced(std::uint64_t bytes) {
  file_done_bytes_ += bytes;
  done_bytes_ += bytes;
  moved_bytes_ += bytes;
  draw(false);
}

void ProgressBar::file_done(std::string_view name, Outcome outcome, std::string_view reason) {
  ++files_done_;
  if (outcome == Outcome::failed) note(fmt::format("{}: {}", name, reason));
  draw(false);
}

void ProgressBar::note(std::string_view line) {
  clear_line();
  fmt::print(stderr, "sockit: {}\n", line);
}

void ProgressBar::end() {
  draw(true);
  clear_line();
}

void ProgressBar::clear_line() {
  if (drawn_) fmt::print(stderr, "\r\033[K");
  drawn_ = false;
}

void ProgressBar::draw(bool force) {
  if (!live_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < kRedrawEvery) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - started_).count();
  double rate = elapsed > 0 ? static_cast<double>(moved_bytes_) / elapsed : 0;
  double left = total_bytes_ > done_bytes_ ? static_cast<double>(total_bytes_ - done_bytes_) : 0;
  int file_percent = file_size_ ? static_cast<int>(100 * file_done_bytes_ / file_size_) : 100;
  std::string total;
  if (total_bytes_ > 0) {
    int percent = static_cast<int>(100 * std::min(done_bytes_, total_bytes_) / total_bytes_);
    total = fmt::format(" | {}/{} files {:3}% {}/s ETA {}", files_done_, total_files_, percent,
                        human_bytes(rate), duration_text(rate > 0 ? left / rate : -1));
  } else {
    // No total known up front (a download): the current file's size, once
    // its head gave one, still makes an ETA.
    std::string eta;
    if (file_size_ > file_done_bytes_ && rate > 0)
      eta = " ETA " + duration_text(static_cast<double>(file_size_ - file_done_bytes_) / rate);
    total =
        fmt::format(" | {} {}/s{}", human_bytes(static_cast<double>(done_bytes_)), human_bytes(rate), eta);
  }
  fmt::print(stderr, "\r\033[K{} {:3}%{}", fit(file_, 32), file_percent, total);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::print_summary(const transfer::Summary& summary) const {
  if (quiet_) return;
  double elapsed = summary.seconds;
  double rate = elapsed > 0 ? static_cast<double>(summary.bytes) / elapsed : 0;
  std::string line = fmt::format("sockit: {} {} file{}, {} in {:.2f} s ({}/s)", verb_, summary.saved,
                                 summary.saved == 1 ? "" : "s",
                                 human_bytes(static_cast<double>(summary.bytes)), elapsed, human_bytes(rate));
  if (summary.resumed_bytes)
    line += fmt::format("; {} resumed", human_bytes(static_cast<double>(summary.resumed_bytes)));
  if (summary.unchanged) line += fmt::format("; {} already there", summary.unchanged);
  if (summary.failed) line += fmt::format("; {} FAILED", summary.failed);
  fmt::print(stderr, "{}\n", line);
}

}  // namespace sockit::cli
