#pragma once
// Token-bucket rate limiting per caller, and the login brute-force guard.
// In-memory, bounded: idle buckets are evicted. The Redis-backed limiter for
// several nodes implements the same RateLimiter interface.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sai::auth {

struct RateDecision {
    bool allowed = true;
    int limit = 0;                // requests per window
    int remaining = 0;            // whole requests left now
    int reset_seconds = 0;        // until the bucket is full again
    int retry_after_seconds = 0;  // when refused: until one request is allowed
};

class RateLimiter {
public:
    virtual ~RateLimiter() = default;
    /// Takes one token from the bucket `key` (refilled at per_minute / 60 per
    /// second, capacity per_minute). `now` is monotonic time.
    virtual RateDecision take(std::string_view key, int per_minute, std::chrono::steady_clock::time_point now) = 0;
};

/// Thread-safe (sharded locks). Holds at most about `max_buckets` keys; beyond that
/// refilled buckets go first, then the fullest.
std::unique_ptr<RateLimiter> make_memory_rate_limiter(std::size_t max_buckets = 100'000);

/// Login brute-force protection: after `max_user_failures` failed logins for one
/// username (or `max_ip_failures` from one client address) within `window`, every
/// attempt for that username (address) is refused for `lockout`. Thread-safe, bounded.
class LoginGuard {
public:
    struct Options {
        int max_user_failures = 5;
        int max_ip_failures = 20;
        std::chrono::seconds window{15 * 60};
        std::chrono::seconds lockout{15 * 60};
        std::size_t max_entries = 100'000;
    };

    explicit LoginGuard(Options options);
    ~LoginGuard();

    /// Seconds until attempts are allowed again; 0 when they are allowed now.
    int locked_for(std::string_view username, std::string_view ip, std::chrono::steady_clock::time_point now);
    void record_failure(std::string_view username, std::string_view ip, std::chrono::steady_clock::time_point now);
    /// A successful login clears the username's failures (not the address's).
    void record_success(std::string_view username);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::auth
