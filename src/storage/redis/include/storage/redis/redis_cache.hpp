#pragma once
// Short-lived values shared by the nodes (JSON bodies of hot read endpoints),
// invalidated by topic on every node at once. Each topic has a generation
// counter in Redis (`<prefix>cache:gen:<topic>`) that is part of every key of the
// topic: invalidate() increments it and announces the new value on the
// "cache.invalidate" channel, so the old entries are never read again and expire
// by their TTL. While the subscriber is disconnected (invalidations could be
// missed) get() always misses; after each reconnection every known topic is
// invalidated once.

#include "storage/redis/redis_bus.hpp"
#include "storage/redis/redis_client.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace sai::storage::redis {

/// Thread-safe. Construct before bus.start() (it registers its channel); stop the bus before destroying it.
/// A failing Redis makes get() miss and put() do nothing: callers compute.
class RedisCache {
public:
    RedisCache(RedisClient& client, RedisBus& bus, std::chrono::seconds ttl);
    ~RedisCache();

    std::optional<std::string> get(std::string_view topic, std::string_view key);
    void put(std::string_view topic, std::string_view key, std::string_view value);
    /// Drops the topic's entries for every node.
    void invalidate(std::string_view topic);

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::storage::redis
