#pragma once
// A cache of the JSON bodies of hot read endpoints (the alert summary), shared by
// the nodes when Redis is configured. The key must name everything the body
// depends on: cache only bodies that do not depend on the caller (the route's
// access check runs before the handler, so who may read it is not the cache's concern).

#include <optional>
#include <string>
#include <string_view>

namespace sai::api {

/// Thread-safe; may block for a short, bounded time (handlers run on the blocking pool).
/// `topic` groups keys invalidated together ("alerts"): implementations drop a
/// topic's entries when its data changes, on every node.
class ResponseCache {
public:
    virtual ~ResponseCache() = default;
    virtual std::optional<std::string> get(std::string_view topic, std::string_view key) = 0;
    virtual void put(std::string_view topic, std::string_view key, std::string_view body) = 0;
};

}  // namespace sai::api
