#include "api/graph_routes.hpp"

#include "core/time.hpp"
#include "json_util.hpp"

#include <charconv>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

/// An optional unsigned integer query parameter within [min, max].
core::Result<std::optional<std::uint64_t>> number_param(const Request& r, const char* name, std::uint64_t min,
                                                        std::uint64_t max) {
    auto text = r.query_param(name);
    if (!text) return std::optional<std::uint64_t>();
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc{} || end != text->data() + text->size() || value < min || value > max) {
        return make_error(Errc::InvalidArgument, std::string(name) + " must be an integer from " + std::to_string(min) +
                                                     " to " + std::to_string(max));
    }
    return std::optional<std::uint64_t>(value);
}

core::Result<std::optional<std::string>> text_param(const Request& r, const char* name, std::size_t max = 256) {
    auto v = r.query_param(name);
    if (v && (v->empty() || v->size() > max)) {
        return make_error(Errc::InvalidArgument, std::string(name) + " must be 1 to " + std::to_string(max) + " bytes");
    }
    return v;
}

core::Result<storage::AssetQuery> parse_asset_query(const Request& r) {
    storage::AssetQuery q;
    auto limit = json::limit_param(r, 100, 1000);
    if (!limit) return limit.error();
    q.limit = *limit;
    auto offset = json::offset_cursor(r);
    if (!offset) return offset.error();
    q.offset = *offset;
    if (auto t = r.query_param("type")) {
        q.type = model::parse_asset_type(*t);
        if (!q.type) return make_error(Errc::InvalidArgument, "type must be server, workstation, network_device, cloud or container");
    }
    if (auto d = r.query_param("discovered")) {
        if (*d != "true" && *d != "false") return make_error(Errc::InvalidArgument, "discovered must be true or false");
        q.discovered = *d == "true";
    }
    auto tag = text_param(r, "tag");
    if (!tag) return tag.error();
    q.tag = *tag;
    auto text = text_param(r, "q");
    if (!text) return text.error();
    q.text = *text;
    return q;
}

core::Result<graph::AttackPathRequest> parse_attack_request(const Request& r) {
    graph::AttackPathRequest req;
    auto source = text_param(r, "source");
    if (!source) return source.error();
    auto target = text_param(r, "target");
    if (!target) return target.error();
    auto k = number_param(r, "k", 1, graph::kMaxPathsK);
    if (!k) return k.error();
    auto hops = number_param(r, "max_hops", 1, graph::kMaxPathHops);
    if (!hops) return hops.error();
    auto budget = number_param(r, "budget_ms", 1, 5000);
    if (!budget) return budget.error();
    req.source = *source;
    req.target = *target;
    if (*k) req.k = **k;
    if (*hops) req.max_hops = **hops;
    if (*budget) req.budget = std::chrono::milliseconds(**budget);
    return req;
}

core::Result<graph::TopologyRequest> parse_topology_request(const Request& r) {
    graph::TopologyRequest req;
    auto from = json::time_param(r, "from");
    if (!from) return from.error();
    auto to = json::time_param(r, "to");
    if (!to) return to.error();
    auto subnet = text_param(r, "subnet", 64);
    if (!subnet) return subnet.error();
    auto min_bytes = number_param(r, "min_bytes", 0, std::uint64_t{1} << 62);
    if (!min_bytes) return min_bytes.error();
    auto min_count = number_param(r, "min_count", 0, std::uint64_t{1} << 62);
    if (!min_count) return min_count.error();
    auto limit = number_param(r, "limit", 1, 5000);
    if (!limit) return limit.error();
    auto group_by = text_param(r, "group_by", 16);
    if (!group_by) return group_by.error();
    req.from_ms = *from;
    req.to_ms = *to;
    req.subnet = *subnet;
    req.min_bytes = min_bytes->value_or(0);
    req.min_count = min_count->value_or(0);
    if (*limit) req.node_limit = **limit;
    if (*group_by) req.group_by = **group_by;
    return req;
}

}  // namespace

void add_graph_routes(Router& router, graph::GraphService& service) {
    router.add(Method::Get, "/api/v1/assets", [&service](Request& r) {
        auto q = parse_asset_query(r);
        if (!q) return error_response(r, q.error());
        const std::size_t limit = q->limit;
        q->limit = limit + 1;
        auto rows = service.list_assets(*q);
        if (!rows) return error_response(r, rows.error());
        const bool more = rows->size() > limit;
        if (more) rows->pop_back();
        bj::array items;
        for (const auto& a : *rows) items.push_back(model::asset_to_json(a));
        bj::value next = nullptr;
        if (more) next = json::offset_next_cursor(q->offset + limit);
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", next}});
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/assets", [&service](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        auto a = service.create_asset(*body, core::now_unix_ms());
        if (!a) return error_response(r, a.error());
        auto res = json::ok(201, model::asset_to_json(*a));
        res.set_header("Location", "/api/v1/assets/" + a->id);
        return res;
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/assets/{id}", [&service](Request& r) {
        auto a = service.get_asset(std::string(r.param("id")));
        if (!a) return error_response(r, a.error());
        return json::ok(200, model::asset_to_json(*a));
    }, {.blocking = true});

    router.add(Method::Patch, "/api/v1/assets/{id}", [&service](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        auto a = service.update_asset(std::string(r.param("id")), *body, core::now_unix_ms());
        if (!a) return error_response(r, a.error());
        return json::ok(200, model::asset_to_json(*a));
    }, {.blocking = true});

    router.add(Method::Delete, "/api/v1/assets/{id}", [&service](Request& r) {
        if (auto done = service.delete_asset(std::string(r.param("id"))); !done) return error_response(r, done.error());
        return no_content();
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/visualize/attack-paths", [&service](Request& r) {
        auto req = parse_attack_request(r);
        if (!req) return error_response(r, req.error());
        auto view = service.attack_paths(*req);
        if (!view) return error_response(r, view.error());
        return json::ok(200, *view);
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/visualize/network-topology", [&service](Request& r) {
        auto req = parse_topology_request(r);
        if (!req) return error_response(r, req.error());
        auto view = service.topology(*req);
        if (!view) return error_response(r, view.error());
        return json::ok(200, *view);
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/visualize/threat-map", [&service](Request& r) {
        auto from = json::time_param(r, "from");
        if (!from) return error_response(r, from.error());
        auto to = json::time_param(r, "to");
        if (!to) return error_response(r, to.error());
        return json::ok(200, service.threat_map({*from, *to}));
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/visualize/user-behavior", [&service](Request& r) {
        auto user = text_param(r, "user");
        if (!user) return error_response(r, user.error());
        auto limit = json::limit_param(r, 50, 500);
        if (!limit) return error_response(r, limit.error());
        auto view = service.user_behavior({*user, *limit});
        if (!view) return error_response(r, view.error());
        return json::ok(200, *view);
    }, {.blocking = true});
}

}  // namespace sai::api
