#include "storage/redis/redis_cache.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"

#include <charconv>
#include <map>
#include <mutex>

namespace sai::storage::redis {
namespace {

bool parse_int(std::string_view text, std::int64_t& out) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

core::metrics::Counter& lookups(std::string_view result) {
    return core::metrics::default_registry().counter("securityai_redis_cache_lookups_total",
                                                     "Shared response cache lookups, by result.",
                                                     {{"result", std::string(result)}});
}

}  // namespace

struct RedisCache::Impl {
    RedisClient& client;
    RedisBus& bus;
    std::chrono::seconds ttl;
    std::mutex mutex;
    std::map<std::string, std::int64_t, std::less<>> generations;  // topic -> generation (known ones)
    core::metrics::Counter& hits = lookups("hit");
    core::metrics::Counter& misses = lookups("miss");

    Impl(RedisClient& c, RedisBus& b, std::chrono::seconds t) : client(c), bus(b), ttl(t) {}

    std::string gen_key(std::string_view topic) const { return client.options().key_prefix + "cache:gen:" + std::string(topic); }

    std::optional<std::int64_t> generation(std::string_view topic) {
        {
            std::lock_guard lock(mutex);
            if (auto it = generations.find(topic); it != generations.end()) return it->second;
        }
        auto r = client.command({"GET", gen_key(topic)});
        if (!r) return std::nullopt;
        std::int64_t g = 0;
        if (r->type == Reply::Type::String && !parse_int(r->text, g)) return std::nullopt;
        std::lock_guard lock(mutex);
        auto [it, inserted] = generations.emplace(std::string(topic), g);
        if (!inserted && it->second < g) it->second = g;
        return it->second;
    }

    void learn(std::string_view topic, std::int64_t g) {
        std::lock_guard lock(mutex);
        auto& known = generations[std::string(topic)];
        known = std::max(known, g);
    }

    std::string entry_key(std::string_view topic, std::int64_t g, std::string_view key) const {
        return client.options().key_prefix + "cache:" + std::string(topic) + ":" + std::to_string(g) + ":" +
               std::string(key);
    }
};

RedisCache::RedisCache(RedisClient& client, RedisBus& bus, std::chrono::seconds ttl)
    : impl_(std::make_unique<Impl>(client, bus, ttl)) {
    // Message: "<topic> <generation>".
    bus.subscribe("cache.invalidate", [d = impl_.get()](std::string_view payload) {
        const auto space = payload.find(' ');
        std::int64_t g = 0;
        if (space == std::string_view::npos || space == 0 || space > 64 || !parse_int(payload.substr(space + 1), g)) {
            return;
        }
        d->learn(payload.substr(0, space), g);
    });
    bus.on_connected([this] {
        // Invalidations sent while we were away are lost: start every known topic afresh.
        std::vector<std::string> topics;
        {
            std::lock_guard lock(impl_->mutex);
            for (const auto& [topic, g] : impl_->generations) topics.push_back(topic);
            impl_->generations.clear();
        }
        for (const auto& t : topics) invalidate(t);
    });
}

RedisCache::~RedisCache() = default;

std::optional<std::string> RedisCache::get(std::string_view topic, std::string_view key) {
    auto& d = *impl_;
    if (!d.bus.subscribed() || !d.client.available()) {
        d.misses.inc();
        return std::nullopt;
    }
    auto g = d.generation(topic);
    if (!g) {
        d.misses.inc();
        return std::nullopt;
    }
    auto r = d.client.command({"GET", d.entry_key(topic, *g, key)});
    if (!r || r->type != Reply::Type::String) {
        d.misses.inc();
        return std::nullopt;
    }
    d.hits.inc();
    return std::move(r->text);
}

void RedisCache::put(std::string_view topic, std::string_view key, std::string_view value) {
    auto& d = *impl_;
    if (!d.bus.subscribed() || !d.client.available()) return;
    auto g = d.generation(topic);
    if (!g) return;
    (void)d.client.command({"SET", d.entry_key(topic, *g, key), std::string(value), "EX", std::to_string(d.ttl.count())});
}

void RedisCache::invalidate(std::string_view topic) {
    auto& d = *impl_;
    auto r = d.client.command({"INCR", d.gen_key(topic)});
    if (!r || r->type != Reply::Type::Integer) {
        return;  // entries expire by their TTL; get() misses while Redis is away
    }
    d.learn(topic, r->integer);
    d.bus.publish("cache.invalidate", std::string(topic) + " " + std::to_string(r->integer));
}

}  // namespace sai::storage::redis
