#pragma once
// Access-token revocations shared by every node. A revocation is written to a
// sorted set (jti scored by its expiry, so it lives exactly as long as the token
// could) and announced on the "revoked" channel, so that other nodes add it to
// their in-memory set at once; after each (re)connection of the subscriber a node
// reads the whole set back, catching up on what it missed while Redis was away.

#include "storage/redis/redis_bus.hpp"
#include "storage/redis/redis_client.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace sai::storage::redis {

/// Owned by the composition root. Construct before bus.start() (it registers its
/// channel) and stop the bus before destroying it; `apply` runs on the subscriber thread for every revocation seen.
class RedisRevocations {
public:
    using Apply = std::function<void(std::string jti, std::int64_t expires_at)>;
    RedisRevocations(RedisClient& client, RedisBus& bus, Apply apply);

    /// Records and announces a revocation. `expires_at`: Unix seconds.
    core::Result<void> revoke(std::string_view jti, std::int64_t expires_at);
    /// Drops expired entries, then applies every live one; returns how many.
    core::Result<std::size_t> load(std::int64_t now);

private:
    RedisClient& client_;
    RedisBus& bus_;
    Apply apply_;
};

}  // namespace sai::storage::redis
