#include "services/chat/chat_console.hpp"

#include "codec/chat/text_encoding.hpp"
#include "codec/message_splitter.hpp"
#include "services/chat/chat_peer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <langinfo.h>
#include <unistd.h>

#include <atomic>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <future>
#include <thread>

namespace sockit::chat {
namespace asio = boost::asio;
using asio::awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr std::size_t kMaxInputLine = 64 * 1024;

std::string clock_now() {
  std::time_t t = std::time(nullptr);
  std::tm local{};
  localtime_r(&t, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return text;
}

class Console final : public ChatEvents {
 public:
  Console(bool script, std::string to) : script_(script), to_(std::move(to)) {}

  void attach(ChatPeer& peer) { peer_ = &peer; }
  bool any_failed() const { return any_failed_; }
  const std::string& recipient() const { return to_; }

  void received(const std::string& from, const std::string& address, const std::string& text) override {
    last_sender_ = from;
    if (script_) return emit(fmt::format("received {} {}", from, codec::chat::escape_line(text)));
    std::string who = from == address ? fmt::format("[{}]", address) : fmt::format("{} [{}]", from, address);
    auto shown = codec::chat::printable(text);
    // Continuation lines indented, so a message cannot pass for an event.
    for (std::size_t at = shown.find('\n'); at != std::string::npos; at = shown.find('\n', at + 3))
      shown.replace(at, 1, "\n    ");
    emit(fmt::format("[{}] from {}: {}", clock_now(), who, shown));
  }
  void delivered(std::uint64_t id, const std::string& to) override {
    emit(script_ ? fmt::format("delivered {} {}", id, to)
                 : fmt::format("[{}] #{} delivered to {}", clock_now(), id, to));
  }
  void sent(std::uint64_t id, const std::string& to) override {
    emit(script_ ? fmt::format("sent {} {}", id, to)
                 : fmt::format("[{}] #{} sent to {} (plain text: no acknowledgement)", clock_now(), id, to));
  }
  void failed(std::uint64_t id, const std::string& to, const std::string& reason) override {
    any_failed_ = true;
    emit(script_
             ? fmt::format("failed {} {} {}", id, to.empty() ? "-" : to, reason)
             : fmt::format("[{}] #{} to {} failed: {}", clock_now(), id, to.empty() ? "nobody" : to, reason));
  }
  void joined(const std::string& name, const std::string& address) override {
    emit(script_ ? fmt::format("joined {} {}", name, address)
                 : fmt::format("[{}] * {} joined ({})", clock_now(), name, address));
  }
  void left(const std::string& name, const std::string& address) override {
    emit(script_ ? fmt::format("left {} {}", name, address)
                 : fmt::format("[{}] * {} left ({})", clock_now(), name, address));
  }

  // One input line. Returns false for /quit.
  bool handle_line(const std::string& line) {
    if (line.empty()) return true;
    if (line.starts_with("//")) return message(to_, line.substr(1));
    if (!line.starts_with('/')) return message(to_.empty() ? last_sender_ : to_, line);
    auto space = line.find(' ');
    auto command = line.substr(0, space);
    auto argument = space == std::string::npos ? std::string() : line.substr(space + 1);
    if (command == "/quit" || command == "/exit") return false;
    if (command == "/to") {
      if (argument.empty()) return note(to_.empty() ? "no recipient chosen" : "to " + to_);
      to_ = argument;
      return note("to " + to_);
    }
    if (command == "/msg") {
      auto split = argument.find(' ');
      if (split == std::string::npos) return error("usage: /msg NAME TEXT");
      return message(argument.substr(0, split), argument.substr(split + 1));
    }
    if (command == "/who" || command == "/contacts") {
      bool contacts = command == "/contacts";
      for (const auto& p : peer_->peers()) {
        if (contacts != p.contact && !(contacts == false && p.present)) continue;
        if (contacts)
          emit(fmt::format("contact {} {}{}", p.name, p.address, p.plain ? " plain" : ""));
        else
          emit(fmt::format("peer {} {} {}{}", p.name, p.address, p.present ? "present" : "known",
                           p.plain ? " plain" : ""));
      }
      return note(contacts ? "end of contacts" : "end of peers");
    }
    if (command == "/help") {
      return note("/to NAME|ip:port (recipient), /msg NAME TEXT, /who, /contacts, /quit; //text sends /text");
    }
    return error("unknown command " + command + " (try /help)");
  }

  void emit(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }

 private:
  bool message(const std::string& to, const std::string& text) {
    peer_->send(to, text);
    return true;
  }
  bool note(const std::string& text) {
    emit(script_ ? text : "  " + text);
    return true;
  }
  bool error(const std::string& text) {
    emit(script_ ? "error " + text : "  error: " + text);
    return true;
  }

  bool script_;
  std::string to_;
  std::string last_sender_;
  ChatPeer* peer_ = nullptr;
  bool any_failed_ = false;
};

// Script mode: lines from stdin until its end, then until nothing is pending.
awaitable<void> read_script(ChatPeer& peer, Console& console) {
  auto executor = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor input(executor, ::dup(STDIN_FILENO));
  codec::MessageSplitter lines(kMaxInputLine);
  std::vector<char> buffer(64 * 1024);
  bool quit = false;
  while (!quit) {
    auto [ec, n] = co_await input.async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) break;
    if (lines.feed({buffer.data(), n}) == codec::MessageSplitter::Status::too_long) {
      console.emit(
          fmt::format("error an input line is longer than {} bytes: input ignored from here", kMaxInputLine));
      break;
    }
    while (auto m = lines.next()) {
      quit = !console.handle_line(std::string(m->text));
      if (quit) break;
    }
  }
  if (!quit)
    if (auto m = lines.flush()) quit = !console.handle_line(std::string(m->text));
  asio::steady_timer poll(executor);
  while (peer.pending() > 0) {
    poll.expires_after(std::chrono::milliseconds(10));
    co_await poll.async_wait(use_tuple);
  }
  peer.stop();
}

}  // namespace

int run_chat(ChatConfig config, const ConsoleOptions& options, services::Prompt& prompt) {
  bool script = options.script.value_or(!::isatty(STDIN_FILENO));
  asio::io_context io;
  Console console(script, options.to);
  ChatPeer peer(io.get_executor(), std::move(config), console);
  console.attach(peer);
  auto local = address_text(peer.local_endpoint());
  if (script)
    console.emit("listening " + local);
  else
    console.emit(
        fmt::format("sockit chat on {}: type a message, /to NAME or ip:port to choose who gets it, "
                    "/who, /contacts, /quit",
                    local));

  std::exception_ptr failure;
  asio::co_spawn(io, peer.run(), [&](std::exception_ptr e) {
    if (e && !failure) failure = e;
    io.stop();
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (!ec) peer.stop();
  });

  // Terminal: libedit blocks, so it reads on its own thread and hands each
  // line to the loop, waiting for the next prompt (or the end) in return.
  std::thread reader;
  std::atomic<bool> reader_done{false};
  if (script) {
    asio::co_spawn(io, read_script(peer, console), [&](std::exception_ptr e) {
      if (e && !failure) failure = e;
      peer.stop();
    });
  } else {
    // libedit reads multibyte characters only in a UTF-8 locale: without
    // one (LANG unset) it drops 你好 from the line.
    if (!std::setlocale(LC_CTYPE, "") || std::string_view(nl_langinfo(CODESET)) != "UTF-8")
      std::setlocale(LC_CTYPE, "C.UTF-8");
    reader = std::thread([&] {
      std::string prompt_text = console.recipient().empty() ? "> " : "to " + console.recipient() + "> ";
      for (;;) {
        auto line = prompt.read_line(prompt_text);
        std::promise<std::optional<std::string>> next;
        auto answer = next.get_future();
        asio::post(io, [&, line] {
          bool go_on = line && console.handle_line(*line);
          if (!go_on) peer.stop();
          next.set_value(go_on ? std::optional<std::string>(
                                     console.recipient().empty() ? "> " : "to " + console.recipient() + "> ")
                               : std::nullopt);
        });
        auto text = answer.get();
        if (!text) {
          reader_done = true;
          return;
        }
        prompt_text = *text;
      }
    });
  }
  io.run();
  if (reader.joinable()) {
    // After /quit the reader is returning now; give it a moment.
    for (int i = 0; i < 50 && !reader_done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (!reader_done) {
      // Stopped by a signal while libedit waits for a line: it cannot be
      // interrupted, so leave without waiting for it.
      std::fflush(stdout);
      std::_Exit(console.any_failed() ? 1 : 0);
    }
    reader.join();
  }
  if (failure) std::rethrow_exception(failure);
  return console.any_failed() ? 1 : 0;
}

}  // namespace sockit::chat
