#pragma once
// What a node shares through Redis when redis.url is set: the rate limiter,
// access-token revocations, a cache of hot read endpoints (the alert summary,
// invalidated on every alert change), and the live stream (events and alerts committed on
// any node reach WebSocket clients on every node). A down Redis degrades the node
// (local limits, local revocations, no cross-node fan-out) and never stops it;
// the bus reconnects by itself.

#include "alerts/alert_manager.hpp"
#include "api/live_routes.hpp"
#include "auth/auth_service.hpp"
#include "core/config.hpp"
#include "pipeline/pipeline.hpp"
#include "api/response_cache.hpp"
#include "storage/redis/redis_bus.hpp"
#include "storage/redis/redis_cache.hpp"
#include "storage/redis/redis_client.hpp"
#include "storage/redis/redis_revocations.hpp"

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace sai::app {

/// Owned by serve(). open() early (before the limiter is needed), attach_live()
/// once the live service exists, then start(); stop() before the live service dies.
class RedisScaleOut {
public:
    static core::Result<std::unique_ptr<RedisScaleOut>> open(const core::RedisConfig& config, auth::AuthService& auth);
    ~RedisScaleOut();

    std::unique_ptr<auth::RateLimiter> make_limiter(std::unique_ptr<auth::RateLimiter> fallback);
    void attach_live(pipeline::LiveHub& hub, api::HubLiveService& live, alerts::AlertManager& alert_manager);
    /// Null when the cache is disabled (redis.cache_ttl_s = 0).
    api::ResponseCache* response_cache();
    void start();
    void stop();
    /// For /health: Unavailable with the reason while Redis or the subscriber is down.
    core::Result<void> health();
    const std::string& node_id() const { return bus_->node_id(); }

private:
    RedisScaleOut() = default;
    std::unique_ptr<storage::redis::RedisClient> client_;
    std::unique_ptr<storage::redis::RedisBus> bus_;
    std::unique_ptr<storage::redis::RedisRevocations> revocations_;
    std::unique_ptr<storage::redis::RedisCache> cache_;
    std::unique_ptr<api::ResponseCache> response_cache_;
    pipeline::LiveHub* hub_ = nullptr;
    std::uint64_t hub_subscription_ = 0;
    bool stopped_ = false;

    // Committed batches wait here for the relay thread, which serialises them
    // (about 5 µs per event: kept off the pipeline thread) and hands them to the bus.
    // The same thread reloads credentials when another node changed users or keys.
    void relay_loop();
    void request_reload();
    auth::AuthService* auth_ = nullptr;
    bool reload_wanted_ = false;
    std::mutex relay_mutex_;
    std::condition_variable relay_wake_;
    std::deque<pipeline::Batch> relay_queue_;
    bool relay_running_ = false;
    std::thread relay_thread_;
};

}  // namespace sai::app
