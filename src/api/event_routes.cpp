#include "api/event_routes.hpp"

#include "core/crypto.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "json_util.hpp"
#include "model/severity.hpp"

#include <charconv>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

struct Rejection {
    std::size_t index;
    std::string reason;
};

/// Splits a body into JSON values: NDJSON (one per line) or one JSON value (an
/// object or an array of objects). Items that do not parse are rejected by index.
core::Result<std::vector<bj::value>> split_body(const Request& r, std::vector<Rejection>& rejected) {
    std::vector<bj::value> items;
    const std::string_view type = r.header("Content-Type");
    bj::parse_options options;
    options.max_depth = 16;
    json::TextParser parser(options);
    if (type.starts_with("application/x-ndjson") || type.starts_with("application/jsonl") ||
        type.starts_with("application/json-seq")) {
        std::string_view body = r.body;
        std::size_t index = 0;
        while (!body.empty()) {
            const auto nl = body.find('\n');
            std::string_view line = body.substr(0, nl);
            body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
            while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
                line.remove_suffix(1);
            }
            if (line.empty()) {
                continue;
            }
            if (items.size() + rejected.size() >= kMaxIngestEvents) {
                return make_error(Errc::PayloadTooLarge, "more than 100000 events in one request");
            }
            if (auto v = parser.parse(line)) {
                items.push_back(std::move(*v));
            } else {
                rejected.push_back({index, v.error().detail});
                items.emplace_back(nullptr);
            }
            ++index;
        }
        return items;
    }
    if (!type.empty() && !type.starts_with("application/json")) {
        return make_error(Errc::InvalidArgument,
                          "Content-Type must be application/json or application/x-ndjson");
    }
    auto parsed = parser.parse(r.body);
    if (!parsed) {
        return parsed.error();
    }
    bj::value& v = *parsed;
    if (v.is_array()) {
        if (v.get_array().size() > kMaxIngestEvents) {
            return make_error(Errc::PayloadTooLarge, "more than 100000 events in one request");
        }
        for (auto& item : v.get_array()) {
            items.push_back(std::move(item));
        }
    } else {
        items.push_back(std::move(v));
    }
    return items;
}

core::Result<storage::EventQuery> parse_query(const Request& r) {
    storage::EventQuery q;
    auto limit = json::limit_param(r, 100, 1000);
    if (!limit) return limit.error();
    q.limit = *limit;
    auto from = json::time_param(r, "from");
    auto to = json::time_param(r, "to");
    if (!from) return from.error();
    if (!to) return to.error();
    q.from_ms = *from;
    q.to_ms = *to;
    q.host = r.query_param("host");
    q.user = r.query_param("user");
    q.category = r.query_param("category");
    q.outcome = r.query_param("outcome");
    q.threat_class = r.query_param("threat_class");
    for (auto [name, range] : {std::pair{"source_ip", &q.source_range}, std::pair{"destination_ip", &q.destination_range}}) {
        if (auto text = r.query_param(name)) {
            auto cidr = model::cidr_range(*text);
            if (!cidr) {
                return make_error(Errc::InvalidArgument, std::string(name) + " must be an IP address or a CIDR block");
            }
            *range = *cidr;
        }
    }
    if (auto text = r.query_param("severity_min")) {
        auto s = model::parse_severity(*text);
        if (!s) return make_error(Errc::InvalidArgument, "severity_min must be 0-4 or info, low, medium, high, critical");
        q.severity_min = static_cast<std::int64_t>(*s);
    }
    if (auto text = r.query_param("anomaly_min")) {
        double v = 0;
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
        if (ec != std::errc{} || end != text->data() + text->size() || v < 0 || v > 1) {
            return make_error(Errc::InvalidArgument, "anomaly_min must be a number from 0 to 1");
        }
        q.anomaly_min = v;
    }
    if (auto text = r.query_param("q")) {
        if (text->size() > 1024) return make_error(Errc::InvalidArgument, "q is longer than 1024 bytes");
        q.text = *text;
    }
    if (auto cursor = r.query_param("cursor"); cursor && !cursor->empty()) {
        auto raw = cursor->size() <= 512 ? core::base64url_decode(*cursor) : std::nullopt;
        const auto bar = raw ? raw->find('|') : std::string::npos;
        std::int64_t ts = 0;
        if (bar == std::string::npos ||
            std::from_chars(raw->data(), raw->data() + bar, ts).ec != std::errc{}) {
            return make_error(Errc::InvalidArgument, "malformed cursor");
        }
        q.before = std::pair{ts, raw->substr(bar + 1)};
    }
    return q;
}

bj::object stats_json(const pipeline::PipelineStats& s) {
    return {{"queue_depth", s.queue_depth},   {"queue_capacity", s.queue_capacity}, {"committed", s.committed},
            {"duplicates", s.duplicates},     {"rejected", s.rejected},             {"dropped", s.dropped},
            {"batches", s.batches},           {"stage_errors", s.stage_errors},     {"commit_errors", s.commit_errors}};
}

}  // namespace

void add_event_routes(Router& router, MonitorServices& services) {
    router.add(Method::Post, "/api/v1/monitor/events", [&services](Request& r) {
        std::vector<Rejection> rejected;
        auto items = split_body(r, rejected);
        if (!items) {
            return error_response(r, items.error());
        }
        const auto now = core::now_unix_ms();
        std::vector<model::Event> events;
        events.reserve(items->size());
        for (std::size_t i = 0; i < items->size(); ++i) {
            auto& item = (*items)[i];
            if (item.is_null()) {
                continue;  // already rejected as invalid JSON
            }
            if (!item.is_object()) {
                rejected.push_back({i, "an event must be a JSON object"});
                continue;
            }
            auto e = model::event_from_json(item.get_object(), now);
            if (!e) {
                rejected.push_back({i, e.error().detail});
                continue;
            }
            events.push_back(std::move(*e));
        }
        if (events.empty() && rejected.empty()) {
            return error_response(r, make_error(Errc::InvalidArgument, "no events in the request body"));
        }
        services.pipeline.count_rejected(rejected.size());
        static auto& http_accepted = core::metrics::default_registry().counter(
            "securityai_ingest_events_total", "Events received by source and outcome.",
            {{"source", "http"}, {"outcome", "accepted"}});
        static auto& http_rejected = core::metrics::default_registry().counter(
            "securityai_ingest_events_total", "Events received by source and outcome.",
            {{"source", "http"}, {"outcome", "rejected"}});
        http_accepted.inc(events.size());
        http_rejected.inc(rejected.size());
        bj::array ids;
        if (events.size() <= 1000) {
            for (const auto& e : events) {
                ids.emplace_back(e.id);
            }
        }
        const std::size_t accepted = events.size();
        if (!events.empty()) {
            pipeline::EventSink& sink = services.ingest ? *services.ingest : services.pipeline;
            auto committed = sink.submit_and_wait(std::move(events), r.request_id);
            if (!committed) {
                Response res = error_response(r, committed.error());
                if (res.status == 503) {
                    res.set_header("Retry-After", "1");
                    res.body = error_response(r.request_id, 503, "overloaded",
                                              "the ingest queue is full or the store (or Kafka) is unavailable; "
                                              "nothing from this request was acknowledged; retry")
                                   .body;
                }
                return res;
            }
        }
        std::sort(rejected.begin(), rejected.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
        bj::array rejected_json;
        for (std::size_t i = 0; i < rejected.size() && i < 1000; ++i) {
            rejected_json.push_back(bj::object{{"index", rejected[i].index}, {"reason", rejected[i].reason}});
        }
        bj::object body{{"accepted", accepted}, {"rejected_count", rejected.size()}, {"rejected", std::move(rejected_json)}};
        if (accepted <= 1000) {
            body["ids"] = std::move(ids);
        }
        return json::ok(202, body);
    }, {.blocking = true, .max_body_bytes = kMaxIngestBytes});

    router.add(Method::Get, "/api/v1/monitor/events", [&services](Request& r) {
        auto q = parse_query(r);
        if (!q) {
            return error_response(r, q.error());
        }
        const std::size_t limit = q->limit;
        q->limit = limit + 1;
        auto rows = services.store.events().query(*q);
        if (!rows) {
            return error_response(r, rows.error());
        }
        const bool more = rows->size() > limit;
        if (more) {
            rows->pop_back();
        }
        bj::array items;
        for (const auto& e : *rows) {
            items.push_back(model::event_to_json(e));
        }
        bj::value next = nullptr;
        if (more) {
            next = core::base64url_encode(std::to_string(rows->back().timestamp) + "|" + rows->back().id);
        }
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", next}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/monitor/events/{id}", [&services](Request& r) {
        auto e = services.store.events().get(r.param("id"));
        if (!e) {
            return error_response(r, e.error());
        }
        return json::ok(200, model::event_to_json(*e));
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/monitor/status", [&services](Request& r) {
        auto health = services.store.check_health();
        const auto stats = services.pipeline.stats();
        bj::array sources;
        bj::object sources_state;
        if (services.sources) {
            for (const auto& s : services.sources()) {
                sources.push_back(bj::object{{"name", s.name}, {"address", s.address},
                                             {"state", s.listening ? "listening" : "stopped"}});
            }
        }
        const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                             services.started)
                                .count();
        bj::object components{
            {"store", bj::object{{"backend", services.store.backend()},
                                 {"state", health ? "healthy" : "unhealthy"}}},
            {"pipeline", bj::object{{"state", "running"},
                                    {"workers", 1},
                                    {"queue_depth", stats.queue_depth},
                                    {"queue_capacity", stats.queue_capacity}}},
            {"sources", std::move(sources)}};
        if (services.components) {
            for (const auto& [name, text] : services.components()) {
                boost::system::error_code ec;
                auto v = bj::parse(text, ec);
                if (!ec) components[name] = std::move(v);
            }
        }
        if (services.health) {
            if (auto snap = services.health->snapshot()) {
                for (const auto& c : snap->components) {
                    if (c.required) continue;  // the store is reported above
                    bj::object o{{"state", c.healthy ? "healthy" : "degraded"}};
                    if (!c.healthy) o["detail"] = c.detail;  // authenticated route: the reason helps operators
                    components[c.name] = std::move(o);
                }
            }
        }
        if (services.models_status) {
            boost::system::error_code ec;
            auto models = bj::parse(services.models_status(), ec);
            if (!ec) components["models"] = std::move(models);
        }
        return json::ok(200, bj::object{{"status", health ? "healthy" : "degraded"},
                                        {"version", services.version},
                                        {"uptime_seconds", uptime},
                                        {"components", std::move(components)}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/monitor/metrics", [&services](Request& r) {
        auto total = services.store.events().count();
        auto by_category = services.store.events().count_by_category();
        if (!total) {
            return error_response(r, total.error());
        }
        if (!by_category) {
            return error_response(r, by_category.error());
        }
        const auto s = services.pipeline.stats();
        bj::object categories;
        for (const auto& [name, n] : *by_category) {
            categories[name.empty() ? "uncategorized" : name] = n;
        }
        bj::array series;
        for (const auto& [minute, n] : s.per_minute) {
            series.push_back(bj::object{{"minute", core::format_rfc3339_ms(minute)},
                                        {"events", n}});
        }
        bj::object sources;
        if (services.source_counters) {
            for (const auto& [name, value] : services.source_counters()) {
                sources[name] = value;
            }
        }
        return json::ok(200, bj::object{
                                 {"events_total", *total},
                                 {"sources", std::move(sources)},
                                 {"events_by_category", std::move(categories)},
                                 {"ingest_rate_per_second", bj::object{{"1m", s.rate.per_second_1m},
                                                                       {"5m", s.rate.per_second_5m},
                                                                       {"15m", s.rate.per_second_15m}}},
                                 {"per_minute_last_hour", std::move(series)},
                                 {"pipeline", stats_json(s)},
                             });
    }, {.blocking = true});
}

}  // namespace sai::api
