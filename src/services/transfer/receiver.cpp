// The receiving half: answers each offered entry with what is already here
// (a verified part to resume from, an identical file, or a refusal), writes
// started files to their part names, and renames each only once its digest
// matches the sender's.
#include "codec/frame.hpp"
#include "services/transfer/destination.hpp"
#include "services/transfer/digest.hpp"
#include "services/transfer/stall_watchdog.hpp"
#include "services/transfer/transfer_session.hpp"
#include "services/transfer/write_behind.hpp"

#include "net/both.hpp"
#include "net/wake_signal.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <optional>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using namespace codec::transfer;

namespace {

// DATA payloads from this size on are written by the WriteBehind thread.
constexpr std::size_t kWriteBehindMin = 64 * 1024;
// A payload is handed over in its read buffer when at most this much of the
// next frames came with it (copied to the buffer reading goes on in).
constexpr std::size_t kKeepMaxBuffered = 64 * 1024;
// A new file up to this size is kept in memory until its END, checked, and
// then created, written and renamed by one WriteBehind job: for many small
// files the loop only decodes and answers while the other core does the
// file-system calls (about 7 per file), as `nc | tar x` splits the work
// over two processes. An interrupted one leaves nothing to resume.
constexpr std::uint64_t kWholeFileMax = 256 * 1024;
// Replies collected before they are queued at the latest.
constexpr std::size_t kRepliesMax = 64 * 1024;
// Digests of finished files kept for the next ones.
constexpr std::size_t kSpareDigests = 4;

// An answered file whose data has not started.
struct Pending {
  Entry entry;
  Verdict verdict = Verdict::send;
  std::uint64_t offset = 0;
  std::optional<Digest> digest;  // of the bytes before `offset`, when there are any
};

// The file whose DATA frames are arriving.
struct Current {
  Entry entry;
  std::uint64_t offset = 0;   // where the data starts
  std::uint64_t written = 0;  // since offset
  Digest digest;
  Fd part;
  bool checking_existing = false;  // `have`: no data, only the digest to compare
  bool discarding = false;         // failed already: drop its data until END
  bool in_memory = false;          // small and new: its data collects in `whole`
  std::vector<char> whole;
};

std::string reason_text(const std::error_code& ec) {
  if (ec.value() == EXDEV || ec.value() == ELOOP) return "it would be outside the receiving directory";
  if (ec.value() == ENOTDIR || ec.value() == EEXIST) return "a file of that name is in the way";
  if (ec.value() == EBUSY) return "another transfer is receiving it at this moment";
  return ec.message();
}

// Why a complete, verified file could not take its name.
std::string save_failure(const std::error_code& ec) {
  return ec.value() == EEXIST ? "a file of that name appeared meanwhile; not replaced"
                              : "cannot save it: " + reason_text(ec);
}

// A small file saved whole on the WriteBehind thread. The job fills in the
// outcome; the loop reads it once the job is finished. Its data is in the
// job's buffer, which goes back to the loop for the next file.
struct WholeFile {
  Entry entry;
  std::span<const char> data;
  std::uint64_t job = 0;  // WriteBehind's number for it
  int write_error = 0;    // ends the transfer (a full disk, most likely)
  std::string failure;    // this file only; empty: saved

  void save(Destination& destination) {
    std::error_code ec;
    if (!destination.overwrite()) {
      bool mode_is_set = false;
      Fd file = destination.open_unnamed(entry.path, entry.mode, mode_is_set, ec);
      if (file || ec) return save_unnamed(destination, std::move(file), mode_is_set, ec);
    }
    Fd part = destination.open_part(entry.path, 0, ec);
    if (ec) {
      failure = "cannot write it: " + reason_text(ec);
    } else if ((write_error = write_all(part.get(), 0, data)) != 0) {
      destination.remove_part(entry.path);
    } else if ((ec = destination.commit(entry.path, part.get(), entry.mode, entry.mtime_sec,
                                        entry.mtime_nsec))) {
      destination.remove_part(entry.path);
      failure = save_failure(ec);
    }
  }

  // Without a name until complete: nothing to remove when a step fails.
  void save_unnamed(Destination& destination, Fd file, bool mode_is_set, std::error_code ec) {
    if (ec) {
      failure = "cannot write it: " + reason_text(ec);
    } else if ((write_error = write_all(file.get(), 0, data)) == 0 &&
               (ec = destination.link_unnamed(entry.path, file.get(), entry.mode, mode_is_set,
                                              entry.mtime_sec, entry.mtime_nsec))) {
      failure = save_failure(ec);
    }
  }
};

class Receiver {
 public:
  Receiver(services::FrameConnection& connection, Destination& destination, const RoleMessage& sender,
           const SessionSettings& settings)
      : connection_(connection),
        destination_(destination),
        sender_(sender),
        settings_(settings),
        write_behind_(connection.stream().socket().get_executor()) {}

  awaitable<Summary> run() {
    if (settings_.progress) settings_.progress->begin(sender_.files, sender_.bytes);
    co_await run_watched(connection_, settings_.stall_timeout,
                         net::both(net::both(receive(), report_saved()), connection_.run_writer()),
                         [this] { return kept_part(); });
    if (settings_.progress) settings_.progress->end();
    co_return summary_;
  }

 private:
  // What the user can do about an interrupted file.
  std::string kept_part() const {
    if (!current_ || current_->discarding || current_->checking_existing || current_->in_memory) return {};
    return "; " + std::to_string(current_->offset + current_->written) + " bytes of " + current_->entry.path +
           " kept: the same command again resumes it";
  }

  // Replies (ANSWER, RESULT) collect in the outbox and are queued together
  // when the loop is about to wait (for the sender's next frame, for a
  // write to finish) or once they take kRepliesMax: one buffer for many,
  // rather than an allocation and a queue entry each.
  awaitable<void> send(Type type, std::string payload) {
    codec::append_frame(replies_, +type, payload);
    if (replies_.size() >= kRepliesMax) co_await flush_replies();
  }

  awaitable<void> flush_replies() {
    // (A named result: GCC 12 miscompiles `if (!co_await ...)` into a trap.)
    bool queued = co_await connection_.submit_encoded(replies_);
    if (!queued) throw TransferFailure("connection lost");
  }

  // Whether the next frame is here already (reading it will not wait).
  bool frame_waiting() const {
    const auto& decoder = connection_.decoder();
    return decoder.buffered() >= codec::kFrameHeaderSize && decoder.missing() == 0;
  }

  // Ends the transfer: tells the sender why, then fails.
  awaitable<void> stop(codec::ErrorCode code, const std::string& why) {
    if (!connection_.failed()) co_await flush_replies();
    co_await connection_.send(+codec::FrameType::error, codec::error_payload(code, why));
    connection_.finish();
    co_await connection_.flush();
    throw TransferFailure(why);
  }

  awaitable<void> receive() {
    for (;;) {
      if (!frame_waiting()) co_await flush_replies();
      error_code ec;
      auto frame = co_await connection_.read_frame(ec);
      if (!frame) {
        if (ec == asio::error::invalid_argument)
          co_await stop(connection_.decoder().error_code(),
                        "protocol error: " + connection_.decoder().error());
        if (ec == asio::error::eof)
          throw TransferFailure("the sender closed the connection before the end" + kept_part());
        throw TransferFailure("connection lost: " + ec.message() + kept_part());
      }
      switch (frame->type) {
        case +Type::entry:
          co_await on_entry(frame->text());
          break;
        case +Type::start:
          co_await on_start(frame->text());
          break;
        case +Type::data:
          co_await on_data(frame->payload);
          break;
        case +Type::end:
          co_await on_end(frame->text());
          break;
        case +Type::finish:
          co_await on_finish();
          co_return;
        case +codec::FrameType::error: {
          auto error = codec::parse_error(frame->text());
          throw TransferFailure("the sender stopped the transfer: " +
                                (error ? error->text : std::string("(no reason)")) + kept_part());
        }
        default:
          co_await stop(codec::ErrorCode::unexpected,
                        "protocol error: unexpected frame type " + std::to_string(frame->type));
      }
    }
  }

  awaitable<void> protocol_error(const std::string& what) {
    co_await stop(codec::ErrorCode::malformed, "protocol error: " + what);
  }

  awaitable<void> on_entry(std::string_view payload) {
    auto entry = parse_entry(payload);
    if (!entry) co_return co_await protocol_error("a malformed ENTRY");
    if (next_id_ && entry->id < *next_id_) co_return co_await protocol_error("ENTRY ids must increase");
    next_id_ = entry->id + 1;
    if (pending_.size() >= kMaxPendingEntries)
      co_return co_await protocol_error("more than 1024 entries offered ahead");
    Answer answer{entry->id, Verdict::send, 0, {}, {}};
    auto refuse = [&](std::string reason) {
      answer.verdict = Verdict::refused;
      answer.reason = std::move(reason);
      count(entry->path, Outcome::failed, answer.reason);
    };
    if (auto problem = path_problem(entry->path); !problem.empty()) {
      refuse("refused: the name " + problem);
    } else if (entry->kind == EntryKind::directory) {
      if (auto ec = destination_.make_directory(entry->path))
        refuse("cannot create the directory: " + reason_text(ec));
      else {
        ++summary_.directories;
        directories_.push_back(*entry);
      }
    } else {
      std::optional<Digest> digest;
      examine(*entry, answer, digest, refuse);
      if (answer.verdict != Verdict::refused)
        pending_.push_back(Pending{*entry, answer.verdict, answer.offset, std::move(digest)});
    }
    co_await send(Type::answer, answer_payload(answer));
  }

  // What is here already for a file entry: decides the answer.
  template <class Refuse>
  void examine(const Entry& entry, Answer& answer, std::optional<Digest>& digest, Refuse& refuse) {
    std::error_code ec;
    Found found = destination_.find(entry.path, ec);
    if (ec) return refuse("cannot write it: " + reason_text(ec));
    switch (found.kind) {
      case Found::Kind::other:
        return refuse("a directory or special file of that name is in the way");
      case Found::Kind::final_file:
        if (found.size != entry.size)
          return refuse("a different file of that name exists (--overwrite replaces it)");
        answer.verdict = Verdict::have;
        break;
      case Found::Kind::part:
        if (found.size > entry.size) return;  // not a prefix of this file: start over
        break;
      case Found::Kind::nothing:
        return;
    }
    // Hash what is here: the sender compares it with its own bytes.
    digest.emplace(sender_.digest);
    if (digest_file_prefix(found.file.get(), found.size, *digest)) {
      digest.reset();
      if (answer.verdict == Verdict::have) refuse("a file of that name exists and cannot be read");
      return;
    }
    answer.offset = found.size;
    answer.digest = found.size > 0 ? digest->value() : std::string();
  }

  // A digest for the next file: a spare one when there is (a digest's state
  // is allocated; one per small file would cost an allocation each).
  Digest fresh_digest() {
    if (spare_digests_.empty()) return Digest(sender_.digest);
    Digest digest = std::move(spare_digests_.back());
    spare_digests_.pop_back();
    digest.reset();
    return digest;
  }

  awaitable<void> on_start(std::string_view payload) {
    auto start = parse_start(payload);
    if (!start || current_) co_return co_await protocol_error("an unexpected START");
    drop_skipped(start->id);
    if (pending_.empty() || pending_.front().entry.id != start->id)
      co_return co_await protocol_error("START of an entry not offered");
    Pending pending = std::move(pending_.front());
    pending_.pop_front();
    const Entry& entry = pending.entry;
    bool resumes = start->offset > 0 && start->offset == pending.offset;
    if (start->offset != 0 && !resumes) co_return co_await protocol_error("START at an offset not offered");
    current_.emplace(Current{entry,
                             start->offset,
                             0,
                             resumes && pending.digest ? std::move(*pending.digest) : fresh_digest(),
                             Fd(),
                             false,
                             false,
                             false,
                             {}});
    if (pending.verdict == Verdict::have) {
      if (start->offset != entry.size) co_return co_await protocol_error("START inside an existing file");
      current_->checking_existing = true;
      co_return;
    }
    if (start->offset == 0 && entry.size <= kWholeFileMax) {
      current_->in_memory = true;
      // A buffer a finished job gave back: no allocation per file.
      current_->whole = write_behind_.spare();
      current_->whole.clear();
      current_->whole.reserve(entry.size);
      if (settings_.progress) settings_.progress->file_started(entry.path, entry.size, 0);
      co_return;
    }
    std::error_code ec;
    current_->part = destination_.open_part(entry.path, start->offset, ec);
    if (ec) {
      current_->discarding = true;
      co_await report(entry.path, entry.id, Outcome::failed, "cannot write it: " + reason_text(ec));
      co_return;
    }
    summary_.resumed_bytes += start->offset;
    if (settings_.progress) settings_.progress->file_started(entry.path, entry.size, start->offset);
  }

  awaitable<void> on_data(std::span<const char> data) {
    if (!current_ || current_->checking_existing) co_return co_await protocol_error("DATA outside a file");
    auto& file = *current_;
    if (data.size() > file.entry.size - file.offset - file.written)
      co_return co_await protocol_error("more data than the file's size");
    if (file.discarding) co_return;
    auto at = static_cast<off_t>(file.offset + file.written);
    if (file.in_memory) {
      file.whole.insert(file.whole.end(), data.begin(), data.end());
      file.digest.update(data);
    } else if (data.size() >= kWriteBehindMin || !write_behind_.idle()) {
      if (int error = write_behind_.error()) co_return co_await write_failed(error);
      // A large payload is kept where it was read (the connection reads on
      // in another buffer); a small one behind large ones is copied, to
      // stay in order.
      std::vector<char> buffer;
      std::span<const char> kept = data;
      if (data.size() >= kWriteBehindMin && connection_.decoder().buffered() <= kKeepMaxBuffered) {
        buffer = connection_.keep_frame_buffer(write_behind_.spare());
      } else {
        buffer = write_behind_.spare();
        if (buffer.size() < data.size()) buffer.resize(data.size());
        std::memcpy(buffer.data(), data.data(), data.size());
        kept = {buffer.data(), data.size()};
      }
      co_await write_behind_.write(file.part.get(), at, std::move(buffer), kept, file.digest);
    } else {
      if (int error = write_all(file.part.get(), at, data)) co_return co_await write_failed(error);
      file.digest.update(data);
    }
    file.written += data.size();
    summary_.bytes += data.size();
    if (settings_.progress) settings_.progress->advanced(data.size());
  }

  // Nothing half-written stays: a full disk needs the space back, and the
  // final name was never touched.
  awaitable<void> write_failed(int error) {
    co_await write_behind_.drain();  // its jobs use the file
    std::string path = current_->entry.path;
    destination_.remove_part(path);
    current_.reset();
    co_await stop_writing(path, error);
  }

  awaitable<void> stop_writing(std::string path, int error) {
    std::string what = error == ENOSPC ? "the receiving disk is full" : std::strerror(error);
    co_await stop(codec::ErrorCode::internal,
                  "cannot write " + path + " in " + destination_.dir() + ": " + what);
  }

  awaitable<void> on_end(std::string_view payload) {
    auto end = parse_end(payload);
    if (!end || !current_ || end->id != current_->entry.id)
      co_return co_await protocol_error("an unexpected END");
    if (current_->in_memory) co_return co_await save_whole(end->digest);
    // The file's data is all written, and its digest complete, only then.
    int error = co_await write_behind_.drain();
    if (error && !current_->discarding) co_return co_await write_failed(error);
    Current file = std::move(*current_);
    current_.reset();
    const auto& path = file.entry.path;
    if (file.discarding) co_return;  // reported at START
    if (file.checking_existing) {
      bool same = end->digest == file.digest.value();
      co_await report(path, file.entry.id, same ? Outcome::unchanged : Outcome::failed,
                      same ? "" : "a different file of that name exists (--overwrite replaces it)");
      co_return;
    }
    if (end->digest.empty()) {
      destination_.remove_part(path);
      co_return co_await report(path, file.entry.id, Outcome::failed, "the sender could not read all of it");
    }
    if (file.offset + file.written != file.entry.size)
      co_return co_await protocol_error("END before all of " + path);
    if (end->digest != file.digest.value()) {
      destination_.remove_part(path);
      co_return co_await report(path, file.entry.id, Outcome::failed,
                                std::string(digest_name(sender_.digest)) +
                                    " checksum mismatch: the data was damaged on the way; not kept");
    }
    if (auto ec = destination_.commit(path, file.part.get(), file.entry.mode, file.entry.mtime_sec,
                                      file.entry.mtime_nsec)) {
      destination_.remove_part(path);
      co_return co_await report(path, file.entry.id, Outcome::failed, save_failure(ec));
    }
    co_await report(path, file.entry.id, Outcome::saved, "");
  }

  // END of a file kept in memory: checked here, saved by a WriteBehind job,
  // reported by report_saved() once the job is done.
  awaitable<void> save_whole(std::string sender_digest) {
    Current file = std::move(*current_);
    current_.reset();
    const auto& path = file.entry.path;
    if (sender_digest.empty())
      co_return co_await report(path, file.entry.id, Outcome::failed, "the sender could not read all of it");
    if (file.written != file.entry.size) co_return co_await protocol_error("END before all of " + path);
    if (sender_digest != file.digest.value())
      co_return co_await report(path, file.entry.id, Outcome::failed,
                                std::string(digest_name(sender_.digest)) +
                                    " checksum mismatch: the data was damaged on the way; not kept");
    if (spare_digests_.size() < kSpareDigests) spare_digests_.push_back(std::move(file.digest));
    // (The span stays valid: moving a vector keeps its storage.)
    std::span<const char> data(file.whole.data(), file.whole.size());
    auto job = std::make_shared<WholeFile>(WholeFile{std::move(file.entry), data, 0, 0, {}});
    if (!worker_destination_) worker_destination_.emplace(destination_.for_another_thread());
    Destination& destination = *worker_destination_;
    // A named std::function: GCC 12 destroys a temporary in a co_await
    // expression twice (here: the lambda's copy of `job`).
    std::function<void()> work = [job, &destination] { job->save(destination); };
    co_await write_behind_.run(std::move(file.whole), std::move(work));
    job->job = write_behind_.queued();
    saving_.push_back(std::move(job));
    saving_changed_.notify();
  }

  // Runs beside receive(): sends the RESULT of each file saved whole as
  // soon as its job is done (a sender may wait for it), in order. Ends
  // once FINISH came and every one is reported.
  awaitable<void> report_saved() {
    for (;;) {
      while (saving_.empty() && !finish_received_) {
        co_await flush_replies();
        co_await saving_changed_.wait();
      }
      if (saving_.empty()) co_return;
      if (!write_behind_.finished(saving_.front()->job)) co_await flush_replies();
      co_await write_behind_.until_finished(saving_.front()->job);
      const WholeFile& saved = *saving_.front();
      if (saved.write_error) {
        co_await write_behind_.drain();
        co_await stop_writing(saved.entry.path, saved.write_error);
      }
      co_await report(saved.entry.path, saved.entry.id,
                      saved.failure.empty() ? Outcome::saved : Outcome::failed, saved.failure);
      saving_.pop_front();  // only now: on_finish() waits for every RESULT to be queued
      saving_changed_.notify();
    }
  }

  awaitable<void> on_finish() {
    if (current_) co_return co_await protocol_error("FINISH in the middle of a file");
    // Every RESULT goes before FINISH.
    finish_received_ = true;
    saving_changed_.notify();
    while (!saving_.empty()) co_await saving_changed_.wait();
    drop_skipped(std::numeric_limits<std::uint64_t>::max());
    // Deepest first: setting a directory's mtime before its children are
    // done would be undone by them.
    for (auto it = directories_.rbegin(); it != directories_.rend(); ++it)
      destination_.finish_directory(it->path, it->mode, it->mtime_sec, it->mtime_nsec);
    co_await send(Type::finish, std::string());
    co_await flush_replies();
    connection_.finish();
  }

  // Entries before `id` that the sender skipped: it could not read the
  // file, or the file here differs from its own. Ids only grow, so they
  // will never start. The sender counted them as failed already (no RESULT
  // goes back); they are failures here too.
  void drop_skipped(std::uint64_t id) {
    while (!pending_.empty() && pending_.front().entry.id < id) {
      const Pending& skipped = pending_.front();
      count(skipped.entry.path, Outcome::failed,
            skipped.verdict == Verdict::have
                ? "a different file of that name exists (--overwrite replaces it)"
                : "the sender did not send it (it could not read it)");
      pending_.pop_front();
    }
  }

  void count(const std::string& path, Outcome outcome, const std::string& reason) {
    switch (outcome) {
      case Outcome::saved:
        ++summary_.saved;
        break;
      case Outcome::unchanged:
        ++summary_.unchanged;
        break;
      case Outcome::failed:
        ++summary_.failed;
        summary_.failures.push_back(path + ": " + reason);
        break;
    }
    if (settings_.progress) settings_.progress->file_done(path, outcome, reason);
  }

  awaitable<void> report(const std::string& path, std::uint32_t id, Outcome outcome,
                         const std::string& reason) {
    count(path, outcome, reason);
    Result result{id, outcome, reason};
    co_await send(Type::result, result_payload(result));
  }

  services::FrameConnection& connection_;
  Destination& destination_;
  const RoleMessage& sender_;
  const SessionSettings& settings_;
  std::deque<Pending> pending_;
  std::vector<Entry> directories_;
  std::optional<Current> current_;
  std::optional<Destination> worker_destination_;  // the WriteBehind thread's
  std::deque<std::shared_ptr<WholeFile>> saving_;  // queued or done, not yet reported
  net::WakeSignal saving_changed_{connection_.stream().socket().get_executor()};
  bool finish_received_ = false;
  WriteBehind write_behind_;  // after current_: gone first, its jobs done, while current_'s file is open
  std::optional<std::uint32_t> next_id_;
  std::vector<Digest> spare_digests_;  // fresh_digest()'s
  std::string replies_;                // encoded, not yet queued (send())
  Summary summary_;
};

}  // namespace

awaitable<Summary> receive_files(services::FrameConnection& connection, Destination& destination,
                                 const RoleMessage& sender, const SessionSettings& settings) {
  Receiver receiver(connection, destination, sender, settings);
  co_return co_await receiver.run();
}

}  // namespace sockit::transfer
