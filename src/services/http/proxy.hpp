// Which proxy a URL goes through, from the environment as curl and wget
// read it: http_proxy for http://, https_proxy for https://, and no_proxy
// (comma-separated host names, domain suffixes, or * for all) to go direct.
#pragma once

#include "codec/http/url.hpp"
#include "services/http/fetch_types.hpp"

#include <optional>
#include <string_view>

namespace sockit::http {

// Nothing: connect directly. Throws FetchError for a proxy URL that cannot
// be parsed.
std::optional<codec::http::Url> proxy_for(const codec::http::Url& url, const NetworkOptions& options);

// no_proxy matching alone (unit-tested).
bool bypasses_proxy(std::string_view host, std::string_view no_proxy);

}  // namespace sockit::http
