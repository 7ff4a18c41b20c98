// The start of every transfer connection (docs/protocol/transfer.md,
// "Handshake"): both sides send HELLO and ROLE at once and read the other's.
// Shared by the CLI peers and the drop-folder service.
#pragma once

#include "codec/transfer_messages.hpp"
#include "services/framing/frame_connection.hpp"

#include <string>

namespace sockit::transfer {

// What a listening side writes to a peer whose first byte is not a HELLO.
extern const std::string kNotFrames;

// Throws TransferFailure (the peer is not a transfer peer, has the same role,
// closed, or broke the protocol).
boost::asio::awaitable<codec::transfer::RoleMessage> exchange_roles(services::FrameConnection& connection,
                                                                    const codec::transfer::RoleMessage& mine);

}  // namespace sockit::transfer
