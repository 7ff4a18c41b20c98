// The sending half: offers entries ahead of the receiver's answers (so many
// small files cost no round trip each), then streams each accepted file
// from where the receiver's verified part ends.
#include "codec/frame.hpp"
#include "services/transfer/destination.hpp"
#include "services/transfer/digest.hpp"
#include "services/transfer/source_tree.hpp"
#include "services/transfer/stall_watchdog.hpp"
#include "services/transfer/transfer_session.hpp"

#include "net/both.hpp"
#include "net/wake_signal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using namespace codec::transfer;

namespace {

// Offers sent ahead of the file being sent: well under the receiver's limit.
constexpr std::size_t kOfferAhead = kMaxPendingEntries / 2;
// Chunks from this size on go by sendfile(2) on a plain connection; smaller
// ones cost less copied than as a header plus a system call of their own.
constexpr std::size_t kSendFileMin = 64 * 1024;
// The digest of a sendfile chunk reads it in pieces of this size: small
// enough to stay in the CPU's L2 cache between read and hash.
constexpr std::size_t kDigestPiece = 256 * 1024;
// Offers waiting in the outbox are queued once they take this much.
constexpr std::size_t kOutboxMax = 64 * 1024;
// END's payload at most: u32 id, text16 digest (SHA-256's 32 bytes).
constexpr std::size_t kMaxEndPayload = 4 + 2 + 32;

// pread() until `length` bytes are in `into` or the file ends or fails: how
// many it read.
std::size_t read_fully(int fd, char* into, std::size_t length, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(fd, into + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// Writes a frame header and `payload` at `at`; returns the end.
char* put_frame(char* at, Type type, std::string_view payload) {
  auto header = codec::frame_header(+type, payload.size());
  std::memcpy(at, header.data(), header.size());
  if (!payload.empty()) std::memcpy(at + header.size(), payload.data(), payload.size());
  return at + header.size() + payload.size();
}

class Sender {
 public:
  Sender(services::FrameConnection& connection, const SourceList& sources, const SessionSettings& settings)
      : connection_(connection),
        sources_(sources),
        settings_(settings),
        answered_(connection.stream().socket().get_executor()),
        digest_(settings.digest) {}

  awaitable<Summary> run() {
    if (settings_.progress) settings_.progress->begin(sources_.files, sources_.bytes);
    co_await run_watched(connection_, settings_.stall_timeout,
                         net::both(net::both(produce(), connection_.run_writer()), read_replies()),
                         [] { return std::string(); });
    if (settings_.progress) settings_.progress->end();
    co_return summary_;
  }

 private:
  // (The payload by value: GCC 12 mishandles temporaries bound to a
  // coroutine's reference parameters.)
  awaitable<void> send(Type type, std::string payload) {
    // (A named result: GCC 12 miscompiles `if (!co_await ...)` into a trap.)
    bool queued = co_await connection_.send(+type, payload);
    if (!queued) throw TransferFailure("connection lost");
  }

  // Offers (ENTRY frames) collect in the outbox and leave with the next
  // small file's frames, in one buffer; before waiting for an answer (which
  // needs its ENTRY sent), and before a large file, they are queued alone.
  awaitable<void> produce() {
    const auto& entries = sources_.entries;
    std::size_t offered = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      for (; offered < entries.size() && offered < i + kOfferAhead; ++offered)
        codec::append_frame(outbox_, +Type::entry, entry_payload(entries[offered].entry));
      if (outbox_.size() >= kOutboxMax) co_await flush_outbox();
      while (answers_.empty()) {
        co_await flush_outbox();
        co_await answered_.wait();
      }
      Answer answer = std::move(answers_.front());
      answers_.pop_front();
      if (answer.id != entries[i].entry.id) throw TransferFailure("protocol error: answers out of order");
      co_await handle(entries[i], answer);
    }
    co_await flush_outbox();
    co_await send(Type::finish, std::string());
    connection_.finish();
  }

  awaitable<void> flush_outbox() {
    bool queued = co_await connection_.submit_encoded(outbox_);
    if (!queued) throw TransferFailure("connection lost");
  }

  // The file opened relative to its directory (kept open while the files
  // of one directory follow each other): no path walk from the top per file.
  Fd open_source(const std::string& local_path) {
    auto slash = local_path.rfind('/');
    if (slash == std::string::npos) return Fd(::open(local_path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string_view dir(local_path.data(), slash == 0 ? 1 : slash);
    if (!source_dir_ || dir != source_dir_path_) {
      source_dir_path_ = dir;
      source_dir_ = Fd(::open(source_dir_path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!source_dir_) return Fd();
    }
    return Fd(::openat(source_dir_.get(), local_path.c_str() + slash + 1, O_RDONLY | O_CLOEXEC));
  }

  awaitable<void> handle(const SourceEntry& source, const Answer& answer) {
    const auto& entry = source.entry;
    if (answer.verdict == Verdict::refused) {
      fail(entry.path, answer.reason);
      co_return;
    }
    if (entry.kind == EntryKind::directory) {
      ++summary_.directories;
      co_return;
    }
    // (Its size, mode and mtime are those collect_sources() found: no fstat.)
    Fd file = open_source(source.local_path);
    if (!file) {
      fail(entry.path, std::string("cannot read it here: ") + std::strerror(errno));
      co_return;
    }
    Digest& digest = digest_;
    digest.reset();
    std::uint64_t offset = 0;
    if (answer.offset > 0 && answer.offset <= entry.size) {
      // The receiver has this much: compare digests before trusting it.
      if (digest_file_prefix(file.get(), answer.offset, digest)) {
        fail(entry.path, "cannot read it here");
        co_return;
      }
      if (digest.value() == answer.digest)
        offset = answer.offset;
      else
        digest.reset();
    }
    if (answer.verdict == Verdict::have && offset != entry.size) {
      fail(entry.path, "a different file of that name exists on the receiver (it can use --overwrite)");
      co_return;
    }
    if (settings_.progress) settings_.progress->file_started(entry.path, entry.size, offset);
    if (answer.verdict == Verdict::send) summary_.resumed_bytes += offset;
    std::uint64_t remaining = entry.size - offset;
    if (remaining < kSendFileMin || (!connection_.can_send_file() && remaining <= kChunkBytes)) {
      co_await send_whole(entry.id, file.get(), offset, static_cast<std::size_t>(remaining));
      co_return;
    }
    co_await flush_outbox();
    Start start{entry.id, offset};
    co_await send(Type::start, start_payload(start));
    bool complete = co_await stream_data(file.get(), offset, entry.size, digest);
    // An empty digest tells the receiver the source failed mid-way.
    End end{entry.id, complete ? digest.value() : std::string()};
    co_await send(Type::end, end_payload(end));
  }

  // START, DATA and END of what is left of a file that fits in one DATA
  // frame (and goes without sendfile), after the offers in the outbox, all
  // in one buffer: the file read straight into its frame, one queue entry
  // per file instead of four frames each allocated and queued.
  awaitable<void> send_whole(std::uint32_t id, int fd, std::uint64_t offset, std::size_t length) {
    auto start = start_payload(Start{id, offset});
    std::size_t most = outbox_.size() + codec::kFrameHeaderSize + start.size() +
                       (length > 0 ? codec::kFrameHeaderSize + length : 0) + codec::kFrameHeaderSize +
                       kMaxEndPayload;
    auto buffer = connection_.acquire(most - codec::kFrameHeaderSize);
    char* at = buffer.data();
    if (!outbox_.empty()) std::memcpy(at, outbox_.data(), outbox_.size());
    at += outbox_.size();
    outbox_.clear();
    at = put_frame(at, Type::start, start);
    std::size_t got = 0;
    if (length > 0) {
      char* data = at + codec::kFrameHeaderSize;
      got = read_fully(fd, data, length, offset);
      if (got > 0) {
        digest_.update({data, got});
        auto header = codec::frame_header(+Type::data, got);
        std::memcpy(at, header.data(), header.size());
        at = data + got;
      }
    }
    // An empty digest tells the receiver the source failed mid-way.
    End end{id, got == length ? digest_.value() : std::string()};
    at = put_frame(at, Type::end, end_payload(end));
    summary_.bytes += got;
    if (settings_.progress && got > 0) settings_.progress->advanced(got);
    auto size = static_cast<std::size_t>(at - buffer.data());
    bool queued = co_await connection_.submit_encoded(std::move(buffer), size);
    if (!queued) throw TransferFailure("connection lost");
  }

  // Sends [offset, size) of the file; false if it could not be read (it
  // changed size, or an I/O error): the receiver drops it.
  awaitable<bool> stream_data(int fd, std::uint64_t offset, std::uint64_t size, Digest& digest) {
    bool from_file = false;
    bool complete = true;
    while (offset < size) {
      auto want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size - offset));
      std::size_t got;
      if (connection_.can_send_file() && want >= kSendFileMin) {
        // The kernel sends the chunk from the page cache (no copy through
        // here); the digest reads it in pieces that stay in the CPU cache.
        got = digest_chunk(fd, offset, want, digest);
        if (got == 0) {
          complete = false;
          break;
        }
        from_file = true;
        bool queued = co_await connection_.submit_file(+Type::data, fd, offset, got);
        if (!queued) throw TransferFailure("connection lost");
      } else {
        auto buffer = connection_.acquire(want);
        auto area = services::FrameConnection::payload_area(buffer);
        got = read_fully(fd, area.data(), want, offset);
        if (got == 0) {
          complete = false;
          break;
        }
        digest.update(area.first(got));
        bool queued = co_await connection_.submit(std::move(buffer), +Type::data, got);
        if (!queued) throw TransferFailure("connection lost");
      }
      offset += got;
      summary_.bytes += got;
      if (settings_.progress) settings_.progress->advanced(got);
    }
    // Queued frames still read from the file: it stays open until they
    // are sent.
    if (from_file) co_await connection_.flush();
    co_return complete;
  }

  // Feeds the digest [offset, offset + length) of the file; how many bytes
  // it could read (fewer if the file ended or failed).
  std::size_t digest_chunk(int fd, std::uint64_t offset, std::size_t length, Digest& digest) {
    if (!scratch_) scratch_ = std::make_unique_for_overwrite<char[]>(kDigestPiece);
    std::size_t done = 0;
    while (done < length) {
      std::size_t want = std::min(kDigestPiece, length - done);
      std::size_t n = read_fully(fd, scratch_.get(), want, offset + done);
      digest.update({scratch_.get(), n});
      done += n;
      if (n < want) break;  // the file ended or failed
    }
    return done;
  }

  awaitable<void> read_replies() {
    for (;;) {
      error_code ec;
      auto frame = co_await connection_.read_frame(ec);
      if (!frame) {
        if (ec == asio::error::eof)
          throw TransferFailure("the receiver closed the connection before the end");
        throw TransferFailure(ec == asio::error::invalid_argument
                                  ? "protocol error from the receiver: " + connection_.decoder().error()
                                  : "connection lost: " + ec.message());
      }
      switch (frame->type) {
        case +Type::answer: {
          auto answer = parse_answer(frame->text());
          if (!answer) throw TransferFailure("protocol error: a malformed ANSWER");
          answers_.push_back(std::move(*answer));
          answered_.notify();
          break;
        }
        case +Type::result: {
          auto result = parse_result(frame->text());
          if (!result || result->id >= sources_.entries.size())
            throw TransferFailure("protocol error: a malformed RESULT");
          record(sources_.entries[result->id].entry.path, *result);
          break;
        }
        case +Type::finish:
          co_return;
        case +codec::FrameType::error: {
          auto error = codec::parse_error(frame->text());
          throw TransferFailure("the receiver stopped the transfer: " +
                                (error ? error->text : std::string("(no reason)")));
        }
        default:
          throw TransferFailure("protocol error: unexpected frame type " + std::to_string(frame->type));
      }
    }
  }

  void record(const std::string& path, const Result& result) {
    switch (result.outcome) {
      case Outcome::saved:
        ++summary_.saved;
        break;
      case Outcome::unchanged:
        ++summary_.unchanged;
        break;
      case Outcome::failed:
        ++summary_.failed;
        summary_.failures.push_back(path + ": " + result.reason);
        break;
    }
    if (settings_.progress) settings_.progress->file_done(path, result.outcome, result.reason);
  }

  void fail(const std::string& path, const std::string& reason) {
    record(path, Result{0, Outcome::failed, reason});
  }

  services::FrameConnection& connection_;
  const SourceList& sources_;
  const SessionSettings& settings_;
  std::deque<Answer> answers_;
  net::WakeSignal answered_;
  Summary summary_;
  Digest digest_;       // of the file being sent (reset for each)
  std::string outbox_;  // encoded ENTRY frames not yet queued
  std::string source_dir_path_;
  Fd source_dir_;                    // open_source()'s directory
  std::unique_ptr<char[]> scratch_;  // digest_chunk()'s
};

}  // namespace

awaitable<Summary> send_files(services::FrameConnection& connection, const SourceList& sources,
                              const SessionSettings& settings) {
  Sender sender(connection, sources, settings);
  co_return co_await sender.run();
}

}  // namespace sockit::transfer
