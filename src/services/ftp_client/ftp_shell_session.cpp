// The shell's connection: open (connect, TLS, log in, go to the URL's
// directory), user, and connecting again after the server dropped an idle
// session.
#include "services/ftp_client/ftp_shell_impl.hpp"

#include <fmt/format.h>

namespace sockit::ftp_client {
using boost::asio::awaitable;

awaitable<void> Shell::connect_to(const codec::ftp::FtpUrl& url) {
  ClientOptions client = options_.client;
  client.host = url.host;
  client.port = url.port;
  client.passive = passive_;
  client.security = url.implicit_tls        ? Security::implicit_tls
                    : options_.explicit_tls ? Security::explicit_tls
                                            : Security::none;
  if (client.security != Security::none) {
    if (!tls_) tls_ = net::make_web_client_tls(options_.cacert, options_.insecure);
    client.tls = tls_.get();
  }
  client.trace = [this](const std::string& line) {
    if (verbose_) fmt::print(stderr, "{}\n", line);
  };
  auto fresh = std::make_unique<FtpClient>(client);
  auto greeting = co_await fresh->connect();
  say(fmt::format("Connected to {}{}: {}", fresh->origin(), fresh->secure() ? " (TLS)" : "", greeting.text));
  client_ = std::move(fresh);  // kept after a refused login: 'user' may try again
  user_.clear();
}

awaitable<void> Shell::log_in(const std::string& user, const std::string& password) {
  co_await client_->login(user, password);
  co_await client_->set_type(binary_);
  user_ = user;
  if (session_) {
    session_->user = user;
    session_->password = password;
  }
  say("Logged in as " + user + ".");
}

awaitable<void> Shell::open(const std::string& target, bool login) {
  std::string error;
  auto url = codec::ftp::parse_ftp_url(target, error);
  if (!url) throw ShellFailure(error, 2);
  if (client_) co_await client_->quit();
  close_now();
  co_await connect_to(*url);
  session_ = Session{target, {}, {}, {}};
  if (!login) co_return;
  std::string user = url->has_user && !url->user.empty() ? url->user : "anonymous";
  std::string password = "sockit@";
  if (user != "anonymous" && user != "ftp") {
    if (url->has_password) {
      password = url->password;
    } else {
      auto asked = options_.ask_secret
                       ? options_.ask_secret(fmt::format("Password for {}@{}: ", user, url->host))
                       : std::nullopt;
      if (!asked)
        throw ShellFailure(
            fmt::format("no password for {} (put it in the URL: ftp://{}:PASSWORD@...)", user, user), 2);
      password = *asked;
    }
  } else if (url->has_password) {
    password = url->password;
  }
  co_await log_in(user, password);
  if (!url->path.empty()) {
    co_await client_->cwd(url->path);
    session_->cwd = co_await client_->pwd();
  }
}

awaitable<void> Shell::reconnect_if_dropped() {
  // Only a connection the server dropped (an idle timeout, a restart): one
  // the user closed stays closed.
  if (!client_ || client_->check_connection() || !session_) co_return;
  std::string error;
  auto url = codec::ftp::parse_ftp_url(session_->target, error);
  if (!url) co_return;
  if (options_.interactive) fmt::print(stderr, "sockit: the connection was closed; connecting again\n");
  Session saved = *session_;
  co_await connect_to(*url);
  if (!saved.user.empty()) co_await log_in(saved.user, saved.password);
  if (!saved.cwd.empty()) co_await client_->cwd(saved.cwd);
}

awaitable<void> Shell::remember_directory() {
  auto here = co_await connected().pwd();
  if (session_) session_->cwd = here;
  say("Remote directory now " + here);
}

awaitable<void> Shell::leave() {
  if (client_) co_await client_->quit();
  close_now();
}

}  // namespace sockit::ftp_client
