#include "auth/rate_limiter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace sai::auth {
namespace {

using Clock = std::chrono::steady_clock;

struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
    int per_minute = 0;
};

class MemoryRateLimiter final : public RateLimiter {
public:
    explicit MemoryRateLimiter(std::size_t max_buckets) : max_per_shard_(std::max<std::size_t>(1, max_buckets / kShards)) {}

    RateDecision take(std::string_view key, int per_minute, Clock::time_point now) override {
        RateDecision d;
        d.limit = per_minute;
        if (per_minute <= 0) {
            d.remaining = 0;
            return d;  // unlimited
        }
        const double rate = per_minute / 60.0;  // tokens per second
        auto& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
        std::lock_guard lock(shard.mutex);
        auto it = shard.buckets.find(std::string(key));
        if (it == shard.buckets.end()) {
            if (shard.buckets.size() >= max_per_shard_) {
                evict(shard, now);
            }
            it = shard.buckets.emplace(std::string(key), Bucket{static_cast<double>(per_minute), now, per_minute}).first;
        }
        Bucket& b = it->second;
        if (b.per_minute != per_minute) {
            b.tokens = std::min(b.tokens, static_cast<double>(per_minute));
            b.per_minute = per_minute;
        }
        const double elapsed = std::chrono::duration<double>(now - b.updated).count();
        b.tokens = std::min(static_cast<double>(per_minute), b.tokens + std::max(0.0, elapsed) * rate);
        b.updated = now;
        if (b.tokens >= 1.0) {
            b.tokens -= 1.0;
            d.allowed = true;
        } else {
            d.allowed = false;
            d.retry_after_seconds = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate)));
        }
        d.remaining = static_cast<int>(std::floor(b.tokens));
        d.reset_seconds = static_cast<int>(std::ceil((per_minute - b.tokens) / rate));
        return d;
    }

private:
    static constexpr std::size_t kShards = 16;
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, Bucket> buckets;
    };

    static double level(const Bucket& b, Clock::time_point now) {
        const double elapsed = std::chrono::duration<double>(now - b.updated).count();
        return std::min(1.0, (b.tokens + std::max(0.0, elapsed) * b.per_minute / 60.0) / b.per_minute);
    }

    // Drops buckets that have refilled completely (forgetting them changes nothing),
    // then, if the shard is still full, the fuller half: forgetting a nearly full
    // bucket changes little, while an exhausted one is exactly what a flood of new
    // keys would like to see forgotten.
    void evict(Shard& shard, Clock::time_point now) {
        std::erase_if(shard.buckets, [&](const auto& kv) { return level(kv.second, now) >= 1.0; });
        if (shard.buckets.size() < max_per_shard_) {
            return;
        }
        std::vector<double> levels;
        levels.reserve(shard.buckets.size());
        for (const auto& kv : shard.buckets) {
            levels.push_back(level(kv.second, now));
        }
        auto mid = levels.begin() + static_cast<std::ptrdiff_t>(levels.size() / 2);
        std::nth_element(levels.begin(), mid, levels.end());
        const double cutoff = *mid;
        std::erase_if(shard.buckets, [&](const auto& kv) { return level(kv.second, now) >= cutoff; });
    }

    std::size_t max_per_shard_;
    std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<RateLimiter> make_memory_rate_limiter(std::size_t max_buckets) {
    return std::make_unique<MemoryRateLimiter>(max_buckets);
}

struct LoginGuard::Impl {
    struct Entry {
        int failures = 0;
        Clock::time_point window_start;
        Clock::time_point locked_until;
    };
    Options options;
    std::mutex mutex;
    std::unordered_map<std::string, Entry> users;
    std::unordered_map<std::string, Entry> ips;

    void prune(std::unordered_map<std::string, Entry>& map, Clock::time_point now) {
        if (map.size() < options.max_entries) {
            return;
        }
        std::erase_if(map, [&](const auto& kv) {
            return kv.second.locked_until <= now && now - kv.second.window_start >= options.window;
        });
        if (map.size() >= options.max_entries) {
            map.clear();  // a flood of distinct keys: forget rather than grow without bound
        }
    }

    void fail(std::unordered_map<std::string, Entry>& map, const std::string& key, int max, Clock::time_point now) {
        prune(map, now);
        Entry& e = map[key];
        if (e.failures == 0 || now - e.window_start >= options.window) {
            e.failures = 0;
            e.window_start = now;
        }
        if (++e.failures >= max) {
            e.locked_until = now + options.lockout;
            e.failures = 0;
            e.window_start = now;
        }
    }

    int remaining(std::unordered_map<std::string, Entry>& map, const std::string& key, Clock::time_point now) {
        auto it = map.find(key);
        if (it == map.end() || it->second.locked_until <= now) {
            return 0;
        }
        return static_cast<int>(std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now).count());
    }
};

namespace {

std::string fold(std::string_view username) {
    std::string out(username);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c + 32);
        }
    }
    return out;
}

}  // namespace

LoginGuard::LoginGuard(Options options) : impl_(std::make_unique<Impl>()) { impl_->options = options; }
LoginGuard::~LoginGuard() = default;

int LoginGuard::locked_for(std::string_view username, std::string_view ip, Clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    return std::max(impl_->remaining(impl_->users, fold(username), now),
                    impl_->remaining(impl_->ips, std::string(ip), now));
}

void LoginGuard::record_failure(std::string_view username, std::string_view ip, Clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    impl_->fail(impl_->users, fold(username), impl_->options.max_user_failures, now);
    impl_->fail(impl_->ips, std::string(ip), impl_->options.max_ip_failures, now);
}

void LoginGuard::record_success(std::string_view username) {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->users.find(fold(username));
    if (it != impl_->users.end() && it->second.locked_until <= Clock::now()) {
        impl_->users.erase(it);
    }
}

}  // namespace sai::auth
