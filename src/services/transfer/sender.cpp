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

class Sender {
 public:
  Sender(services::FrameConnection& connection, const SourceList& sources, const SessionSettings& settings)
      : connection_(connection),
        sources_(sources),
        settings_(settings),
        answered_(connection.stream().socket().get_executor()) {}

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

  awaitable<void> produce() {
    const auto& entries = sources_.entries;
    std::size_t offered = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      for (; offered < entries.size() && offered < i + kOfferAhead; ++offered)
        co_await send(Type::entry, entry_payload(entries[offered].entry));
      while (answers_.empty()) co_await answered_.wait();
      Answer answer = std::move(answers_.front());
      answers_.pop_front();
      if (answer.id != entries[i].entry.id) throw TransferFailure("protocol error: answers out of order");
      co_await handle(entries[i], answer);
    }
    co_await send(Type::finish, std::string());
    connection_.finish();
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
    Fd file(::open(source.local_path.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!file || ::fstat(file.get(), &st) != 0) {
      fail(entry.path, std::string("cannot read it here: ") + std::strerror(errno));
      co_return;
    }
    Digest digest(settings_.digest);
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
        digest = Digest(settings_.digest);
    }
    if (answer.verdict == Verdict::have && offset != entry.size) {
      fail(entry.path, "a different file of that name exists on the receiver (it can use --overwrite)");
      co_return;
    }
    if (settings_.progress) settings_.progress->file_started(entry.path, entry.size, offset);
    if (answer.verdict == Verdict::send) summary_.resumed_bytes += offset;
    Start start{entry.id, offset};
    co_await send(Type::start, start_payload(start));
    bool complete = co_await stream_data(file.get(), offset, entry.size, digest);
    // An empty digest tells the receiver the source failed mid-way.
    End end{entry.id, complete ? digest.value() : std::string()};
    co_await send(Type::end, end_payload(end));
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
        ssize_t n;
        do n = ::pread(fd, area.data(), want, static_cast<off_t>(offset));
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
          complete = false;
          break;
        }
        got = static_cast<std::size_t>(n);
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
      ssize_t n = ::pread(fd, scratch_.get(), std::min(kDigestPiece, length - done),
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      digest.update({scratch_.get(), static_cast<std::size_t>(n)});
      done += static_cast<std::size_t>(n);
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
  std::unique_ptr<char[]> scratch_;  // digest_chunk()'s
};

}  // namespace

awaitable<Summary> send_files(services::FrameConnection& connection, const SourceList& sources,
                              const SessionSettings& settings) {
  Sender sender(connection, sources, settings);
  co_return co_await sender.run();
}

}  // namespace sockit::transfer
