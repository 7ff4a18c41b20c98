#include "services/chat/chat_config.hpp"

#include "net/endpoint.hpp"

#include "services/toml_config.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sockit::chat {

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (unsigned char c : name)
    if (c <= ' ' || c == ':' || c == 0x7F) return false;
  return true;
}

std::optional<PeerAddress> parse_peer_address(std::string_view text) {
  PeerAddress address;
  if (text.starts_with("plain:")) {
    address.plain = true;
    text.remove_prefix(6);
  }
  if (text.empty() || text.find("://") != std::string_view::npos) return std::nullopt;
  auto parsed = net::parse_endpoint(net::with_default_port(std::string(text), codec::chat::kDefaultPort),
                                    net::Transport::udp);
  if (!parsed.endpoint || parsed.endpoint->transport != net::Transport::udp) return std::nullopt;
  address.host = parsed.endpoint->host;
  address.port = parsed.endpoint->port;
  // A bare word is a name, not a host: names are looked up among peers.
  bool numeric = address.host.find_first_not_of("0123456789.") == std::string::npos ||
                 address.host.find(':') != std::string::npos;
  if (!numeric && text.find(':') == std::string_view::npos) return std::nullopt;
  return address;
}

namespace {

std::vector<Contact> read_contacts(std::string_view toml_text, std::string_view source_name) {
  auto root = services::parse_toml(toml_text, source_name);
  auto fail = [&](const toml::node* node, const std::string& key, const std::string& what) {
    std::string where(source_name);
    if (node) where += ":" + std::to_string(node->source().begin.line);
    throw std::invalid_argument(where + ": " + key + ": " + what);
  };
  for (const auto& [key, node] : root)
    if (key.str() != "contacts")
      fail(&node, std::string(key.str()), "unknown key (contacts go under [contacts])");
  std::vector<Contact> contacts;
  const auto* table = root["contacts"].as_table();
  if (!table) {
    if (root.contains("contacts")) fail(root.get("contacts"), "contacts", "expected a table");
    return contacts;
  }
  for (const auto& [key, node] : *table) {
    std::string name(key.str());
    std::string where = "contacts." + name;
    if (!is_valid_name(name)) fail(&node, where, "a name must have no spaces or ':' and at most 64 bytes");
    std::string address;
    bool plain = false;
    if (auto text = node.value<std::string>(); node.is_string() && text) {
      address = *text;
    } else if (const auto* entry = node.as_table()) {
      for (const auto& [k, v] : *entry) {
        if (k.str() == "address" && v.is_string())
          address = *v.value<std::string>();
        else if (k.str() == "plain" && v.is_boolean())
          plain = *v.value<bool>();
        else
          fail(&v, where + "." + std::string(k.str()),
               "unknown key or wrong type (address = \"ip:port\", plain = true)");
      }
    } else {
      fail(&node, where, "expected \"host:port\" or { address = \"host:port\", plain = true }");
    }
    auto parsed =
        net::parse_endpoint(net::with_default_port(address, codec::chat::kDefaultPort), net::Transport::udp);
    if (address.empty() || !parsed.endpoint || parsed.endpoint->transport != net::Transport::udp)
      fail(&node, where,
           "'" + address + "' is not a host:port address" +
               (parsed.error.empty() ? "" : " (" + parsed.error + ")"));
    contacts.push_back({name, parsed.endpoint->host, parsed.endpoint->port, plain});
  }
  return contacts;
}

}  // namespace

std::vector<Contact> parse_contacts(std::string_view toml_text, std::string_view source_name) {
  return services::with_one_line_errors([&] { return read_contacts(toml_text, source_name); });
}

std::vector<Contact> load_contacts(const std::string& path) {
  return parse_contacts(services::read_config_file(path, "contacts file"), path);
}

}  // namespace sockit::chat
