#pragma once
// A small blocking HTTP client for the few outbound calls the server makes
// (webhooks, InfluxDB writes): one request per call, no redirects, HTTP(S)
// only, a hard time limit, a bounded response body.

#include "core/error.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace sai::core {

struct HttpResult {
    int status = 0;
    std::string body;  // at most 64 KiB kept
};

/// Thread-safe: each call uses its own connection.
class HttpClient {
public:
    using Headers = std::vector<std::pair<std::string, std::string>>;
    virtual ~HttpClient() = default;
    /// Timeout or Unavailable when no response came; any HTTP status is a result.
    virtual Result<HttpResult> post(const std::string& url, const Headers& headers, const std::string& body,
                                    std::chrono::milliseconds timeout) = 0;
};

/// libcurl.
std::unique_ptr<HttpClient> make_http_client();

}  // namespace sai::core
