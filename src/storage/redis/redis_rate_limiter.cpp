#include "storage/redis/redis_rate_limiter.hpp"

#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace sai::storage::redis {
namespace {

// KEYS[1]: the bucket (hash: t = tokens, ts = last update, seconds).
// ARGV[1]: capacity = requests per minute. Returns {allowed (0/1), tokens left as text}.
// The bucket expires once it would have refilled, so idle keys cost nothing.
constexpr std::string_view kTakeScript = R"lua(
local cap = tonumber(ARGV[1])
local rate = cap / 60.0
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil or ts == nil then
  tokens = cap
  ts = now
end
if tokens > cap then tokens = cap end
tokens = math.min(cap, tokens + math.max(0, now - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tokens) / rate * 1000) + 1000)
return {allowed, string.format('%.6f', tokens)}
)lua";

class RedisRateLimiter final : public auth::RateLimiter {
public:
    RedisRateLimiter(RedisClient& client, std::unique_ptr<auth::RateLimiter> fallback)
        : client_(client),
          fallback_(std::move(fallback)),
          fallbacks_(core::metrics::default_registry().counter(
              "securityai_redis_fallbacks_total", "Calls served locally because Redis was unavailable, by feature.",
              {{"feature", "rate_limit"}})) {}

    auth::RateDecision take(std::string_view key, int per_minute, std::chrono::steady_clock::time_point now) override {
        if (per_minute <= 0) {
            return fallback_->take(key, per_minute, now);
        }
        auto r = client_.eval(kTakeScript, {client_.options().key_prefix + "rl:" + std::string(key)},
                              {std::to_string(per_minute)});
        double tokens = 0;
        if (!r || r->type != Reply::Type::Array || r->elements.size() != 2 || !parse(r->elements[1].text, tokens)) {
            fallbacks_.inc();
            return fallback_->take(key, per_minute, now);
        }
        const double rate = per_minute / 60.0;
        auth::RateDecision d;
        d.limit = per_minute;
        d.allowed = r->elements[0].integer == 1;
        if (!d.allowed) {
            d.retry_after_seconds = std::max(1, static_cast<int>(std::ceil((1.0 - tokens) / rate)));
        }
        d.remaining = static_cast<int>(std::floor(tokens));
        d.reset_seconds = static_cast<int>(std::ceil((per_minute - tokens) / rate));
        return d;
    }

private:
    static bool parse(const std::string& text, double& out) {
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return ec == std::errc() && p == text.data() + text.size();
    }

    RedisClient& client_;
    std::unique_ptr<auth::RateLimiter> fallback_;
    core::metrics::Counter& fallbacks_;
};

}  // namespace

std::unique_ptr<auth::RateLimiter> make_redis_rate_limiter(RedisClient& client,
                                                           std::unique_ptr<auth::RateLimiter> fallback) {
    return std::make_unique<RedisRateLimiter>(client, std::move(fallback));
}

}  // namespace sai::storage::redis
