#pragma once
// A small synchronous Redis (RESP2) client over hiredis for the scale-out
// features: a pool of connections, each with connect and command timeouts, and a
// circuit breaker so that a dead Redis costs one timeout per cooldown, not one per
// call. Callers fall back to local behaviour whenever a call fails.

#include "core/circuit_breaker.hpp"
#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::storage::redis {

struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string username;  // ACL user (Redis 6+); empty: the default user
    std::string password;
    int database = 0;
    std::chrono::milliseconds connect_timeout{250};
    std::chrono::milliseconds command_timeout{250};
    std::string key_prefix = "sai:";  // every key and channel this node uses starts with it
    std::size_t max_connections = 16;  // pooled command connections (the subscriber has its own)
    std::chrono::milliseconds cooldown{1000};  // after a failure, calls go local this long
};

/// Parses redis://[[user]:password@]host[:port][/db] (no TLS: rediss:// is refused).
core::Result<RedisOptions> parse_redis_url(std::string_view url);

/// A reply, copied out of hiredis. Arrays nest.
struct Reply {
    enum class Type { Nil, Integer, String, Status, Array };
    Type type = Type::Nil;
    std::int64_t integer = 0;
    std::string text;  // String and Status
    std::vector<Reply> elements;
};

/// Thread-safe; owned by the composition root, outlives its users.
class RedisClient {
public:
    explicit RedisClient(RedisOptions options);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    const RedisOptions& options() const { return options_; }

    /// Runs one command (binary-safe arguments). Unavailable when Redis cannot be
    /// reached or the breaker is open; Internal for an error reply (detail: its text).
    core::Result<Reply> command(const std::vector<std::string>& args);
    /// EVALSHA of `script` (its SHA-1 computed once), falling back to EVAL on NOSCRIPT.
    core::Result<Reply> eval(std::string_view script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args);
    /// PING, bypassing the breaker (for health checks and recovery).
    core::Result<void> ping();
    /// False while the breaker is open after a failure.
    bool available() const;
    /// The last connection or command failure ("" when the last call succeeded).
    std::string last_error() const;

    struct Impl;

private:
    RedisOptions options_;
    std::unique_ptr<Impl> impl_;
};

/// Connection helper shared with the subscriber: connects with the timeouts,
/// authenticates and selects the database. The handle is a hiredis redisContext.
struct ContextDeleter {
    void operator()(void* context) const;
};
using ContextPtr = std::unique_ptr<void, ContextDeleter>;
core::Result<ContextPtr> connect(const RedisOptions& options);

}  // namespace sai::storage::redis
