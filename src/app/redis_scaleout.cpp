#include "redis_scaleout.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "model/event.hpp"
#include "storage/redis/redis_rate_limiter.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

namespace sai::app {
namespace {

namespace bj = boost::json;
using storage::redis::RedisBus;

constexpr std::size_t kEventsPerMessage = 500;        // bounds one PUBLISH
constexpr std::size_t kMaxQueuedBatches = 64;         // waiting for the relay thread
constexpr std::size_t kMaxMessageBytes = 32u << 20;    // refuse anything larger from the channel

std::optional<bj::object> parse_object(std::string_view text) {
    if (text.size() > kMaxMessageBytes) return std::nullopt;
    boost::system::error_code ec;
    auto v = bj::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

/// The fields live filters look at, read back from alert_to_json().
alerts::AlertUpdate alert_view(const bj::object& data, bool created) {
    alerts::AlertUpdate u;
    u.created = created;
    if (auto* s = data.if_contains("severity"); s && s->is_string()) {
        u.alert.severity = model::parse_severity(s->get_string()).value_or(model::Severity::Info);
    }
    if (auto* e = data.if_contains("entities"); e && e->is_object()) {
        if (auto* hosts = e->get_object().if_contains("hosts"); hosts && hosts->is_array()) {
            for (const auto& h : hosts->get_array()) {
                if (h.is_string()) u.alert.entities.hosts.emplace_back(h.get_string());
            }
        }
    }
    return u;
}

class SharedResponseCache final : public api::ResponseCache {
public:
    explicit SharedResponseCache(storage::redis::RedisCache& cache) : cache_(cache) {}
    std::optional<std::string> get(std::string_view topic, std::string_view key) override { return cache_.get(topic, key); }
    void put(std::string_view topic, std::string_view key, std::string_view body) override { cache_.put(topic, key, body); }

private:
    storage::redis::RedisCache& cache_;
};

}  // namespace

core::Result<std::unique_ptr<RedisScaleOut>> RedisScaleOut::open(const core::RedisConfig& config,
                                                                 auth::AuthService& auth) {
    auto options = storage::redis::parse_redis_url(config.url);
    if (!options) {
        return options.error();
    }
    options->connect_timeout = std::chrono::milliseconds(config.timeout_ms);
    options->command_timeout = std::chrono::milliseconds(config.timeout_ms);
    options->key_prefix = config.key_prefix;
    auto s = std::unique_ptr<RedisScaleOut>(new RedisScaleOut());
    s->client_ = std::make_unique<storage::redis::RedisClient>(*options);
    s->bus_ = std::make_unique<RedisBus>(*s->client_, core::new_uuid_v7());
    s->revocations_ = std::make_unique<storage::redis::RedisRevocations>(
        *s->client_, *s->bus_, [&auth](std::string jti, std::int64_t exp) { auth.note_revoked(std::move(jti), exp); });
    if (config.cache_ttl_s > 0) {
        s->cache_ = std::make_unique<storage::redis::RedisCache>(*s->client_, *s->bus_,
                                                                 std::chrono::seconds(config.cache_ttl_s));
        s->response_cache_ = std::make_unique<SharedResponseCache>(*s->cache_);
    }
    auth.set_revocation_listener([r = s->revocations_.get()](const std::string& jti, std::int64_t exp) {
        // The store has it already; Redis makes it immediate on the other nodes.
        if (auto done = r->revoke(jti, exp); !done) {
            core::log::warn("could not share a revocation through Redis", {{"error", done.error().detail}});
        }
    });
    // Users and API keys changed on another node: reload them now, not at the next
    // periodic reload; and after every reconnection, for what was missed meanwhile.
    s->auth_ = &auth;
    auth.set_change_listener([b = s->bus_.get()] { b->publish("auth.changed", "1"); });
    s->bus_->subscribe("auth.changed", [p = s.get()](std::string_view) { p->request_reload(); });
    s->bus_->on_connected([p = s.get()] { p->request_reload(); });
    if (auto up = s->client_->ping(); !up) {
        // Not fatal: the node starts degraded and the bus keeps trying.
        core::log::warn("redis unreachable at start; running degraded", {{"error", up.error().detail}});
    }
    core::metrics::default_registry().add_collector([c = s->client_.get(), b = s->bus_.get()](core::metrics::Writer& w) {
        w.family("securityai_redis_up", "1 while Redis answers and the subscriber is connected.", "gauge");
        w.sample("securityai_redis_up", {}, c->available() && b->subscribed() ? 1.0 : 0.0);
    });
    return s;
}

RedisScaleOut::~RedisScaleOut() { stop(); }

std::unique_ptr<auth::RateLimiter> RedisScaleOut::make_limiter(std::unique_ptr<auth::RateLimiter> fallback) {
    return storage::redis::make_redis_rate_limiter(*client_, std::move(fallback));
}

void RedisScaleOut::attach_live(pipeline::LiveHub& hub, api::HubLiveService& live,
                                alerts::AlertManager& alert_manager) {
    hub_ = &hub;
    // Committed here -> the relay thread -> the channel (the pipeline thread only queues).
    hub_subscription_ = hub.subscribe([this](const pipeline::Batch& batch) {
        {
            std::lock_guard lock(relay_mutex_);
            if (!relay_running_ || relay_queue_.size() >= kMaxQueuedBatches) {
                core::metrics::default_registry()
                    .counter("securityai_redis_messages_total", "Pub/sub messages between nodes.", {{"direction", "dropped"}})
                    .inc();
                return;
            }
            relay_queue_.push_back(batch);
        }
        relay_wake_.notify_one();
    });
    alert_manager.add_listener([b = bus_.get(), c = cache_.get()](const std::vector<alerts::AlertUpdate>& updates) {
        if (c) c->invalidate("alerts");  // the alert summary changed, on every node
        bj::array alerts;
        for (const auto& u : updates) {
            alerts.push_back(bj::object{{"created", u.created}, {"data", model::alert_to_json(u.alert)}});
        }
        b->publish("live.alerts", model::to_json_text(bj::object{{"alerts", std::move(alerts)}}));
    });
    // Committed elsewhere -> local WebSocket clients (the bus skips our own messages).
    bus_->subscribe("live.events", [&live](std::string_view payload) {
        auto o = parse_object(payload);
        const auto* events = o ? o->if_contains("events") : nullptr;
        if (!events || !events->is_array()) return;
        const auto now = core::now_unix_ms();
        std::vector<std::pair<model::Event, bj::object>> relayed;
        for (const auto& v : events->get_array()) {
            if (!v.is_object()) continue;
            auto e = model::event_from_json(v.get_object(), now);
            if (e) relayed.emplace_back(std::move(*e), v.get_object());
        }
        if (!relayed.empty()) live.push_relayed_events(relayed);
    });
    bus_->subscribe("live.alerts", [&live](std::string_view payload) {
        auto o = parse_object(payload);
        const auto* alerts = o ? o->if_contains("alerts") : nullptr;
        if (!alerts || !alerts->is_array()) return;
        std::vector<std::pair<alerts::AlertUpdate, bj::object>> relayed;
        for (const auto& v : alerts->get_array()) {
            const auto* item = v.if_object();
            const auto* data = item ? item->if_contains("data") : nullptr;
            const auto* created = item ? item->if_contains("created") : nullptr;
            if (!data || !data->is_object()) continue;
            relayed.emplace_back(alert_view(data->get_object(), created && created->is_bool() && created->get_bool()),
                                 data->get_object());
        }
        if (!relayed.empty()) live.push_relayed_alerts(relayed);
    });
}

api::ResponseCache* RedisScaleOut::response_cache() { return response_cache_.get(); }

void RedisScaleOut::request_reload() {
    {
        std::lock_guard lock(relay_mutex_);
        reload_wanted_ = true;
    }
    relay_wake_.notify_one();
}

void RedisScaleOut::relay_loop() {
    std::unique_lock lock(relay_mutex_);
    for (;;) {
        relay_wake_.wait(lock, [&] { return !relay_running_ || !relay_queue_.empty() || reload_wanted_; });
        if (reload_wanted_ && relay_running_) {
            reload_wanted_ = false;
            lock.unlock();
            if (auto r = auth_->reload(); !r) {
                core::log::warn("reloading credentials failed", {{"error", r.error().detail}});
            }
            lock.lock();
            continue;
        }
        if (relay_queue_.empty()) return;  // stopped and drained
        pipeline::Batch batch = std::move(relay_queue_.front());
        relay_queue_.pop_front();
        lock.unlock();
        for (std::size_t from = 0; from < batch->size(); from += kEventsPerMessage) {
            bj::array events;
            const std::size_t to = std::min(batch->size(), from + kEventsPerMessage);
            events.reserve(to - from);
            for (std::size_t i = from; i < to; ++i) events.push_back(model::event_to_json((*batch)[i]));
            bus_->publish("live.events", model::to_json_text(bj::object{{"events", std::move(events)}}));
        }
        lock.lock();
    }
}

void RedisScaleOut::start() {
    {
        std::lock_guard lock(relay_mutex_);
        relay_running_ = true;
    }
    relay_thread_ = std::thread([this] { relay_loop(); });
    bus_->start();
    core::log::info("sharing through Redis", {{"node_id", bus_->node_id()},
                                              {"host", client_->options().host},
                                              {"port", client_->options().port},
                                              {"features", "rate limits, revocations, live fan-out"}});
}

void RedisScaleOut::stop() {
    if (stopped_) return;
    stopped_ = true;
    if (hub_) hub_->unsubscribe(hub_subscription_);
    {
        std::lock_guard lock(relay_mutex_);
        relay_running_ = false;
    }
    relay_wake_.notify_all();
    if (relay_thread_.joinable()) relay_thread_.join();
    bus_->stop();
}

core::Result<void> RedisScaleOut::health() { return bus_->health(); }

}  // namespace sai::app
