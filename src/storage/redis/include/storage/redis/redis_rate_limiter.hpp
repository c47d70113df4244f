#pragma once
// The rate limiter shared by every node: the same token bucket as the memory
// limiter, kept in Redis and updated by one atomic Lua script (Redis's clock, so
// nodes need not agree on time). When Redis fails the node falls back to its
// local limiter (degraded: each node then allows the full rate on its own).

#include "auth/rate_limiter.hpp"
#include "storage/redis/redis_client.hpp"

#include <memory>

namespace sai::storage::redis {

/// Thread-safe. `client` must outlive the limiter; `fallback` serves while Redis
/// is unavailable (a call never waits longer than the client's timeouts).
std::unique_ptr<auth::RateLimiter> make_redis_rate_limiter(RedisClient& client,
                                                           std::unique_ptr<auth::RateLimiter> fallback);

}  // namespace sai::storage::redis
