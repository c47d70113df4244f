#include "api/live_routes.hpp"

#include "json_util.hpp"
#include "model/severity.hpp"
#include "model/json_write.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>

namespace sai::api {
namespace {

namespace bj = boost::json;

struct Filters {
    std::set<std::string> categories;  // empty: any
    std::set<std::string> hosts;       // empty: any
    std::int64_t severity_min = -1;
    bool events = true;
    bool alerts = false;
    bool metrics = false;

    bool matches(const model::Event& e) const {
        if (!events) return false;
        if (!categories.empty() && !categories.contains(e.category)) return false;
        if (!hosts.empty() && !hosts.contains(e.host_name)) return false;
        if (severity_min >= 0 && (!e.severity || *e.severity < severity_min)) return false;
        return true;
    }

    bool matches(const model::Alert& a) const {
        if (!alerts) return false;
        if (severity_min >= 0 && static_cast<std::int64_t>(a.severity) < severity_min) return false;
        if (!hosts.empty() && std::none_of(a.entities.hosts.begin(), a.entities.hosts.end(),
                                           [this](const std::string& h) { return hosts.contains(h); })) {
            return false;
        }
        return true;
    }
};

Frame frame(const bj::object& o) { return std::make_shared<const std::string>(model::to_json_text(o)); }

core::Result<Filters> parse_filters(const bj::value& v) {
    Filters f;
    if (v.is_null()) return f;
    if (!v.is_object()) return core::make_error(core::Errc::InvalidArgument, "filters must be an object");
    const auto& o = v.get_object();
    auto strings = [](const bj::value& list, std::set<std::string>& out, const char* name) -> core::Result<void> {
        if (!list.is_array() || list.get_array().size() > 256) {
            return core::make_error(core::Errc::InvalidArgument, std::string(name) + " must be an array of strings");
        }
        for (const auto& item : list.get_array()) {
            if (!item.is_string() || item.get_string().size() > 256) {
                return core::make_error(core::Errc::InvalidArgument, std::string(name) + " must be an array of strings");
            }
            out.emplace(item.get_string());
        }
        return {};
    };
    for (const auto& kv : o) {
        if (kv.key() == "categories") {
            if (auto r = strings(kv.value(), f.categories, "categories"); !r) return r.error();
        } else if (kv.key() == "hosts") {
            if (auto r = strings(kv.value(), f.hosts, "hosts"); !r) return r.error();
        } else if (kv.key() == "severity_min") {
            std::optional<model::Severity> s;
            if (kv.value().is_string()) s = model::parse_severity(kv.value().get_string());
            if (kv.value().is_int64() && kv.value().get_int64() >= 0 && kv.value().get_int64() <= 4) {
                s = static_cast<model::Severity>(kv.value().get_int64());
            }
            if (!s) return core::make_error(core::Errc::InvalidArgument, "severity_min must be 0-4 or a severity name");
            f.severity_min = static_cast<std::int64_t>(*s);
        } else if (kv.key() == "kinds") {
            std::set<std::string> kinds;
            if (auto r = strings(kv.value(), kinds, "kinds"); !r) return r.error();
            for (const auto& k : kinds) {
                if (k != "events" && k != "alerts" && k != "metrics") {
                    return core::make_error(core::Errc::InvalidArgument, "kinds may contain events, alerts, metrics");
                }
            }
            f.events = kinds.contains("events");
            f.alerts = kinds.contains("alerts");
            f.metrics = kinds.contains("metrics");
        } else {
            return core::make_error(core::Errc::InvalidArgument, "unknown filter '" + std::string(kv.key().substr(0, 64)) + "'");
        }
    }
    return f;
}

bj::object filters_json(const Filters& f) {
    bj::array cats(f.categories.begin(), f.categories.end());
    bj::array hosts(f.hosts.begin(), f.hosts.end());
    bj::array kinds;
    if (f.events) kinds.emplace_back("events");
    if (f.alerts) kinds.emplace_back("alerts");
    if (f.metrics) kinds.emplace_back("metrics");
    return {{"categories", std::move(cats)},
            {"hosts", std::move(hosts)},
            {"severity_min", f.severity_min < 0 ? bj::value(nullptr) : bj::value(f.severity_min)},
            {"kinds", std::move(kinds)}};
}

}  // namespace

struct HubLiveService::Impl {
    pipeline::LiveHub& hub;
    pipeline::Pipeline& pipeline;
    std::uint64_t subscription = 0;

    struct Conn;
    mutable std::mutex mutex;
    std::set<Conn*> connections;

    struct Conn final : LiveConnection {
        Impl& impl;
        std::shared_ptr<LiveChannel> channel;
        std::mutex filters_mutex;
        Filters filters;

        Conn(Impl& i, std::shared_ptr<LiveChannel> c) : impl(i), channel(std::move(c)) {}
        ~Conn() override {
            std::lock_guard lock(impl.mutex);
            impl.connections.erase(this);
        }
        Filters current() {
            std::lock_guard lock(filters_mutex);
            return filters;
        }
        void on_message(std::string_view text) override {
            boost::system::error_code ec;
            auto v = bj::parse(text, ec);
            if (ec || !v.is_object()) {
                channel->send({frame({{"type", "error"}, {"message", "messages must be JSON objects"}})});
                return;
            }
            const auto& o = v.get_object();
            const auto* type = o.if_contains("type");
            if (type && type->is_string() && type->get_string() == "subscribe") {
                auto f = parse_filters(o.contains("filters") ? o.at("filters") : bj::value(nullptr));
                if (!f) {
                    channel->send({frame({{"type", "error"}, {"message", f.error().detail}})});
                    return;
                }
                {
                    std::lock_guard lock(filters_mutex);
                    filters = *f;
                }
                channel->send({frame({{"type", "subscribed"}, {"filters", filters_json(*f)}})});
            } else if (type && type->is_string() && type->get_string() == "ping") {
                channel->send({frame({{"type", "pong"}})});
            } else {
                channel->send({frame({{"type", "error"}, {"message", "unknown message type; send subscribe or ping"}})});
            }
        }
    };

    Impl(pipeline::LiveHub& h, pipeline::Pipeline& p) : hub(h), pipeline(p) {}

    void on_batch(const pipeline::Batch& batch) {
        std::vector<std::pair<Conn*, Filters>> targets;
        {
            std::lock_guard lock(mutex);
            if (connections.empty()) return;
            for (Conn* c : connections) targets.emplace_back(c, c->current());
        }
        // Each event is serialised once, whatever the number of subscribers.
        std::vector<Frame> frames(batch->size());
        for (auto& [conn, filters] : targets) {
            std::vector<Frame> out;
            for (std::size_t i = 0; i < batch->size(); ++i) {
                if (!filters.matches((*batch)[i])) continue;
                if (!frames[i]) {
                    frames[i] = frame({{"type", "event"}, {"data", model::event_to_json((*batch)[i])}});
                }
                out.push_back(frames[i]);
            }
            if (!out.empty()) {
                std::lock_guard lock(mutex);  // conn stays alive while registered
                if (connections.contains(conn)) conn->channel->send(std::move(out));
            }
        }
    }
};

HubLiveService::HubLiveService(pipeline::LiveHub& hub, pipeline::Pipeline& pipeline)
    : impl_(std::make_unique<Impl>(hub, pipeline)) {
    impl_->subscription = hub.subscribe([p = impl_.get()](const pipeline::Batch& b) { p->on_batch(b); });
}

HubLiveService::~HubLiveService() { impl_->hub.unsubscribe(impl_->subscription); }

std::shared_ptr<LiveConnection> HubLiveService::open(const Request&, std::shared_ptr<LiveChannel> channel) {
    auto conn = std::make_shared<Impl::Conn>(*impl_, std::move(channel));
    {
        std::lock_guard lock(impl_->mutex);
        impl_->connections.insert(conn.get());
    }
    conn->channel->send({frame({{"type", "subscribed"}, {"filters", filters_json(conn->filters)}})});
    return conn;
}

void HubLiveService::push_metrics() {
    const auto s = impl_->pipeline.stats();
    const Frame f = frame({{"type", "metrics"},
                           {"data", bj::object{{"queue_depth", s.queue_depth},
                                               {"committed", s.committed},
                                               {"rejected", s.rejected},
                                               {"dropped", s.dropped},
                                               {"ingest_rate_per_second", bj::object{{"1m", s.rate.per_second_1m},
                                                                                     {"5m", s.rate.per_second_5m},
                                                                                     {"15m", s.rate.per_second_15m}}}}}});
    std::lock_guard lock(impl_->mutex);
    for (auto* c : impl_->connections) {
        if (c->current().metrics) c->channel->send({f});
    }
}

namespace {

void send_alerts(HubLiveService::Impl& d, const std::vector<alerts::AlertUpdate>& updates,
                 const std::vector<const bj::object*>& data);

}  // namespace

void HubLiveService::push_alerts(const std::vector<alerts::AlertUpdate>& updates) {
    std::vector<bj::object> data;
    data.reserve(updates.size());
    for (const auto& u : updates) data.push_back(model::alert_to_json(u.alert));
    std::vector<const bj::object*> refs;
    for (const auto& o : data) refs.push_back(&o);
    send_alerts(*impl_, updates, refs);
}

void HubLiveService::push_relayed_alerts(const std::vector<std::pair<alerts::AlertUpdate, bj::object>>& updates) {
    std::vector<alerts::AlertUpdate> views;
    std::vector<const bj::object*> refs;
    for (const auto& [u, o] : updates) {
        views.push_back(u);
        refs.push_back(&o);
    }
    send_alerts(*impl_, views, refs);
}

void HubLiveService::push_relayed_events(const std::vector<std::pair<model::Event, bj::object>>& events) {
    auto& d = *impl_;
    std::vector<std::pair<Impl::Conn*, Filters>> targets;
    {
        std::lock_guard lock(d.mutex);
        if (d.connections.empty()) return;
        for (Impl::Conn* c : d.connections) targets.emplace_back(c, c->current());
    }
    std::vector<Frame> frames(events.size());
    for (auto& [conn, filters] : targets) {
        std::vector<Frame> out;
        for (std::size_t i = 0; i < events.size(); ++i) {
            if (!filters.matches(events[i].first)) continue;
            if (!frames[i]) frames[i] = frame({{"type", "event"}, {"data", events[i].second}});
            out.push_back(frames[i]);
        }
        if (!out.empty()) {
            std::lock_guard lock(d.mutex);
            if (d.connections.contains(conn)) conn->channel->send(std::move(out));
        }
    }
}

namespace {

void send_alerts(HubLiveService::Impl& d, const std::vector<alerts::AlertUpdate>& updates,
                 const std::vector<const bj::object*>& data) {
    std::lock_guard lock(d.mutex);
    if (d.connections.empty()) return;
    std::vector<Frame> frames;
    for (std::size_t i = 0; i < updates.size(); ++i) {
        frames.push_back(frame({{"type", "alert"}, {"change", updates[i].created ? "created" : "updated"}, {"data", *data[i]}}));
    }
    for (auto* c : d.connections) {
        const Filters f = c->current();
        std::vector<Frame> out;
        for (std::size_t i = 0; i < updates.size(); ++i) {
            if (f.matches(updates[i].alert)) out.push_back(frames[i]);
        }
        if (!out.empty()) c->channel->send(std::move(out));
    }
}

}  // namespace

std::size_t HubLiveService::connections() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->connections.size();
}

void add_live_routes(Router& router) {
    router.add(Method::Get, "/api/v1/monitor/ws", [](Request& r) {
        Response res = error_response(r.request_id, 426, "upgrade_required",
                                      "this is a WebSocket endpoint: connect with Upgrade: websocket");
        res.set_header("Upgrade", "websocket");
        return res;
    });
}

}  // namespace sai::api
