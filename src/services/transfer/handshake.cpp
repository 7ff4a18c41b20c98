#include "services/transfer/handshake.hpp"

#include "codec/frame.hpp"
#include "services/transfer/transfer_session.hpp"

#include <boost/asio/error.hpp>

namespace sockit::transfer {
namespace asio = boost::asio;
using asio::awaitable;
using boost::system::error_code;
using namespace codec::transfer;

const std::string kNotFrames =
    "error: this is sockit's file transfer, which speaks frames (docs/protocol/transfer.md); "
    "use sockit send/recv, or sockit recv --raw to take bytes from nc\n";

namespace {

const char* role_name(Role role) {
  return role == Role::sender ? "sender" : "receiver";
}

// Reads one frame of `type` or fails with a message.
awaitable<codec::Frame> expect(services::FrameConnection& connection, std::uint8_t type, const char* what) {
  error_code ec;
  auto frame = co_await connection.read_frame(ec);
  if (!frame) {
    if (ec == asio::error::invalid_argument)
      throw TransferFailure("the peer does not speak the transfer protocol: " + connection.decoder().error());
    throw TransferFailure(std::string("connection lost before the ") + what + ": " + ec.message());
  }
  if (frame->type == +codec::FrameType::error) {
    auto error = codec::parse_error(frame->text());
    throw TransferFailure("the peer refused: " + (error ? error->text : std::string("(no reason)")));
  }
  if (frame->type != type) throw TransferFailure(std::string("protocol error: expected ") + what);
  co_return *frame;
}

// Both sides send HELLO and ROLE at once, then read the other's: one round
// trip, the same code whichever side connected.
}  // namespace

awaitable<RoleMessage> exchange_roles(services::FrameConnection& connection, const RoleMessage& mine) {
  std::string out;
  codec::append_frame(out, +codec::FrameType::hello, codec::hello_payload({kVersion, std::string(kService)}));
  codec::append_frame(out, +Type::role, role_payload(mine));
  std::span<const char> piece(out.data(), out.size());
  error_code ec;
  co_await connection.stream().write(std::span(&piece, 1), ec);
  if (ec) throw TransferFailure("connection lost: " + ec.message());
  auto hello_frame = co_await expect(connection, +codec::FrameType::hello, "HELLO");
  auto hello = codec::parse_hello(hello_frame.text());
  if (!hello) throw TransferFailure("protocol error: a malformed HELLO");
  if (hello->service != kService)
    throw TransferFailure("the peer is a sockit " + hello->service + " server, not a transfer peer");
  auto role_frame = co_await expect(connection, +Type::role, "ROLE");
  auto theirs = parse_role(role_frame.text());
  if (!theirs) throw TransferFailure("protocol error: a malformed ROLE");
  if (theirs->role == mine.role)
    throw TransferFailure(std::string("both sides are ") + role_name(mine.role) + "s: run sockit " +
                          (mine.role == Role::sender ? "recv" : "send") + " on the other side");
  co_return *theirs;
}

}  // namespace sockit::transfer
