#include "graph/graph_service.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "graph/path_search.hpp"
#include "graph/risk.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace sai::graph {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

struct GraphService::State {
    explicit State(const GraphOptions& o) : graph(o.limits), detector(o.lateral), users(o.users) {}
    EntityGraph graph;
    LateralMovementDetector detector;
    UserBehavior users;
    std::unordered_set<std::string> asset_names;  // declared and discovered (lower-case not needed: hosts are exact)
    std::mutex pending_mutex;                      // guards `pending` (written under the shared lock's writer)
    std::vector<model::Asset> pending;             // discovered, not stored yet
    std::size_t discovered = 0;
    std::unordered_map<std::string, std::int64_t> asset_versions;  // id -> updated_at applied
    std::uint64_t events = 0;
    std::uint64_t detections = 0;
    std::int64_t snapshot_at = 0;
    std::int64_t centrality_at = 0;
};

namespace {

bool contains_word(std::string_view haystack, std::string_view word) {
    return haystack.find(word) != std::string_view::npos;
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

/// Probability that an attacker on the edge's source can take this step.
double step_probability(const Edge& e, const LateralMovementOptions& lateral) {
    if (e.kind == EdgeKind::Logon) {
        const double successes = static_cast<double>(e.count - std::min(e.count, e.failures));
        if (successes > 0) return 0.85 + 0.1 * (1 - std::exp(-successes / 3.0));
        return 0.1 + 0.2 * static_cast<double>(e.failures) / static_cast<double>(e.failures + 10);
    }
    const double reach = 1 - std::exp(-static_cast<double>(e.count) / 5.0);
    double p = 0.2 + 0.6 * reach;
    if (is_admin_port(lateral, e.port)) p = std::min(0.95, p + 0.15);
    return p;
}

bool traversable(const EntityGraph& g, const Edge& e) {
    return e.alive && (e.kind == EdgeKind::Connection || e.kind == EdgeKind::Logon) &&
           g.node(e.dst).kind == NodeKind::Host;
}

/// The entity graph as path_search.hpp wants it: steps between hosts, costed
/// by -ln(step probability x presence factor of the node left).
class AttackView {
public:
    AttackView(const EntityGraph& g, const LateralMovementOptions& lateral)
        : g_(g), lateral_(lateral), risk_(g.node_capacity(), -1.0f), cost_(g.edge_capacity(), -1.0f) {}
    std::size_t node_capacity() const { return g_.node_capacity(); }
    template <class F>
    void for_each_step(NodeId u, F f) const {
        const auto& out = g_.node(u).out;
        // Edges live far apart in a large array: ask for a few ahead so the misses overlap.
        constexpr std::size_t kAhead = 6;
        auto prefetch = [&](EdgeId id) {
            __builtin_prefetch(&g_.edge(id));
            __builtin_prefetch(&cost_[id]);
        };
        for (std::size_t i = 0; i < std::min(kAhead, out.size()); ++i) prefetch(out[i]);
        for (std::size_t i = 0; i < out.size(); ++i) {
            if (i + kAhead < out.size()) prefetch(out[i + kAhead]);
            const EdgeId id = out[i];
            // Step costs are computed once per query (a search relaxes an edge many times).
            float& cost = cost_[id];
            if (cost < 0) {
                const Edge& e = g_.edge(id);
                cost = traversable(g_, e) ? static_cast<float>(-std::log(step_probability(e, lateral_) * presence(u)))
                                          : std::numeric_limits<float>::infinity();
            }
            if (cost != std::numeric_limits<float>::infinity()) f(g_.edge(id).dst, static_cast<double>(cost));
        }
    }
    double risk(NodeId u) const {
        if (risk_[u] < 0) risk_[u] = static_cast<float>(node_risk(risk_inputs(g_, u)));
        return risk_[u];
    }
    /// The most likely edge from u to v.
    std::optional<EdgeId> best_edge(NodeId u, NodeId v) const {
        std::optional<EdgeId> best;
        double p = -1;
        for (EdgeId id : g_.node(u).out) {
            const Edge& e = g_.edge(id);
            if (e.dst != v || !traversable(g_, e)) continue;
            const double q = step_probability(e, lateral_);
            if (q > p) {
                p = q;
                best = id;
            }
        }
        return best;
    }
    double presence(NodeId u) const { return 0.6 + 0.4 * risk(u) / 100.0; }

private:
    const EntityGraph& g_;
    const LateralMovementOptions& lateral_;
    mutable std::vector<float> risk_;
    mutable std::vector<float> cost_;
};

bj::object node_json(const EntityGraph& g, NodeId id, double risk) {
    const Node& n = g.node(id);
    bj::object o{{"id", n.key},
                 {"label", n.label},
                 {"kind", to_string(n.kind)},
                 {"risk", round3(risk)},
                 {"first_seen", core::format_rfc3339_ms(n.first_seen)},
                 {"last_seen", core::format_rfc3339_ms(n.last_seen)}};
    if (!n.ip.empty()) o["ip"] = n.ip;
    if (!n.country.empty()) o["country"] = n.country;
    if (!n.asset_id.empty()) {
        o["asset_id"] = n.asset_id;
        o["criticality"] = n.criticality;
        o["tags"] = bj::array(n.tags.begin(), n.tags.end());
    }
    if (n.kind == NodeKind::Host) {
        o["internet_facing"] = n.internet_facing;
        o["exposed"] = n.exposed;
    }
    o["open_alerts"] = n.open_alerts;
    return o;
}

bj::object edge_json(const EntityGraph& g, EdgeId id) {
    const Edge& e = g.edge(id);
    bj::object o{{"id", "e" + std::to_string(id)},
                 {"source", g.node(e.src).key},
                 {"target", g.node(e.dst).key},
                 {"kind", to_string(e.kind)},
                 {"count", e.count},
                 {"bytes", e.bytes},
                 {"first_seen", core::format_rfc3339_ms(e.first_seen)},
                 {"last_seen", core::format_rfc3339_ms(e.last_seen)}};
    if (e.port) o["port"] = e.port;
    if (e.kind == EdgeKind::Logon || e.kind == EdgeKind::Auth) {
        o["failures"] = e.failures;
        o["successes"] = e.count - std::min(e.count, e.failures);
    }
    if (!e.users.empty()) o["users"] = bj::array(e.users.begin(), e.users.end());
    return o;
}

std::string slash24(const std::string& ip) {
    const auto dot = ip.rfind('.');
    if (ip.find(':') != std::string::npos || dot == std::string::npos) {
        // IPv6: group by /64 (the first four groups).
        std::size_t pos = 0;
        for (int i = 0; i < 4 && pos != std::string::npos; ++i) pos = ip.find(':', pos + 1);
        return pos == std::string::npos ? ip : ip.substr(0, pos) + "::/64";
    }
    return ip.substr(0, dot) + ".0/24";
}

}  // namespace

GraphService::GraphService(storage::GraphStore& store, storage::AlertStore* alerts, const GeoIp* geoip,
                           GraphOptions options)
    : store_(store), alerts_(alerts), geoip_(geoip), options_(std::move(options)),
      state_(std::make_unique<State>(options_)) {}

GraphService::~GraphService() = default;

core::Result<void> GraphService::start() {
    auto snapshot = store_.load_snapshot();
    if (!snapshot) return snapshot.error();
    std::unique_lock lock(mutex_);
    if (*snapshot) {
        if (auto r = state_->graph.restore((*snapshot)->data); !r) {
            core::log::warn("graph snapshot skipped", {{"error", r.error().detail}});
        } else {
            state_->snapshot_at = (*snapshot)->created_at;
            core::log::info("graph restored", {{"nodes", state_->graph.node_count()}, {"edges", state_->graph.edge_count()}});
        }
    }
    lock.unlock();
    if (auto r = reload_assets(); !r) return r;
    if (alerts_) {
        storage::AlertQuery q;
        q.statuses = {model::AlertStatus::New, model::AlertStatus::Acknowledged, model::AlertStatus::Investigating};
        q.limit = options_.limits.max_alert_nodes;
        auto open = alerts_->query(q);
        if (!open) return open.error();
        on_alerts(*open);
    }
    return {};
}

void GraphService::annotate(std::vector<model::Event>& batch) const {
    std::shared_lock lock(mutex_);
    const UserBehavior& users = state_->users;
    for (auto& e : batch) {
        if (e.user_name.empty() || !contains_word(e.category, "authentication")) continue;
        const auto share = users.unusual_hour(e.user_name, e.timestamp);
        if (!share) continue;
        boost::json::object extra;
        if (!e.extra.empty()) {
            boost::system::error_code ec;
            auto parsed = boost::json::parse(e.extra, ec);
            if (ec || !parsed.is_object()) continue;
            extra = std::move(parsed.as_object());
        }
        extra["ueba.unusual_hour"] = true;
        extra["ueba.hour_share"] = std::round(*share * 1000) / 1000;
        e.extra = model::to_json_text(extra);
    }
}

std::vector<model::Detection> GraphService::observe(const std::vector<model::Event>& batch) {
    std::vector<model::Detection> out;
    std::unique_lock lock(mutex_);
    State& st = *state_;
    EntityGraph& g = st.graph;
    auto discover = [&](NodeId id) {
        Node& n = g.node(id);
        if (n.kind != NodeKind::Host || !n.asset_id.empty() || st.asset_names.contains(n.label) ||
            st.discovered >= options_.max_discovered_assets) {
            return;
        }
        st.asset_names.insert(n.label);
        ++st.discovered;
        model::Asset a;
        a.name = n.label;
        if (!n.ip.empty()) a.ips.push_back(n.ip);
        a.discovered = true;
        std::lock_guard pending(st.pending_mutex);
        st.pending.push_back(std::move(a));
    };
    auto locate = [&](NodeId id) {
        Node& n = g.node(id);
        if (n.kind == NodeKind::External && n.country.empty() && geoip_) {
            if (auto c = geoip_->lookup(n.ip)) n.country = c->code;
        }
    };
    auto mark_anomaly = [&](NodeId id, const model::Event& e) {
        if (e.anomaly_score) g.node(id).anomaly = std::max(g.node(id).anomaly, static_cast<float>(*e.anomaly_score));
    };

    for (const auto& e : batch) {
        ++st.events;
        const std::int64_t ts = e.timestamp;
        g.note_time(ts);
        const auto host_ip = e.host_ip.empty() ? std::nullopt : model::canonical_ip(e.host_ip);
        if (!e.host_name.empty() && host_ip) g.alias(*host_ip, e.host_name);
        const auto src_ip = e.source_ip.empty() ? std::nullopt : model::canonical_ip(e.source_ip);
        const auto dst_ip = e.destination_ip.empty() ? std::nullopt : model::canonical_ip(e.destination_ip);
        const auto port = static_cast<std::uint16_t>(std::clamp<std::int64_t>(e.destination_port.value_or(0), 0, 65535));
        const std::uint64_t bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.source_bytes.value_or(0))) +
                                    static_cast<std::uint64_t>(std::max<std::int64_t>(0, e.destination_bytes.value_or(0)));
        const bool is_auth = contains_word(e.category, "authentication");
        const bool is_net = !is_auth && (contains_word(e.category, "network") || (src_ip && dst_ip));
        const bool failure = e.outcome == "failure";

        if (is_auth && !e.user_name.empty()) {
            std::optional<NodeId> target;
            if (!e.host_name.empty()) {
                target = g.upsert_node(NodeKind::Host, e.host_name, ts);
                if (g.node(*target).ip.empty() && host_ip) g.node(*target).ip = *host_ip;
            } else if (dst_ip) {
                target = g.address_node(*dst_ip, ts);
            }
            if (!target || g.node(*target).kind != NodeKind::Host) continue;
            discover(*target);
            mark_anomaly(*target, e);
            const NodeId user = g.upsert_node(NodeKind::User, e.user_name, ts);
            g.touch_edge(user, *target, EdgeKind::Auth, 0, ts, 0, failure);
            std::optional<NodeId> source;
            if (src_ip) {
                source = g.address_node(*src_ip, ts);
                if (*source == *target) source.reset();
            }
            if (source) {
                locate(*source);
                if (g.node(*source).kind == NodeKind::Host) discover(*source);
                const EdgeId logon = g.touch_edge(*source, *target, EdgeKind::Logon, port, ts, 0, failure);
                auto& users = g.edge(logon).users;
                if (users.size() < 8 && std::find(users.begin(), users.end(), e.user_name) == users.end()) {
                    users.push_back(e.user_name);
                }
                if (g.node(*source).kind == NodeKind::External) g.node(*target).exposed = true;
            }
            const Node& t = g.node(*target);
            AuthFact fact;
            fact.user = e.user_name;
            fact.source = source ? g.node(*source).label : "";
            fact.source_internal = source && g.node(*source).kind == NodeKind::Host;
            fact.target = t.label;
            fact.target_internal = true;
            fact.success = e.outcome == "success";
            fact.port = port;
            fact.target_criticality = t.criticality;
            fact.ts = ts;
            fact.event_id = e.id;
            st.detector.on_auth(fact, out);
            st.users.observe({e.user_name, ts, t.label, src_ip.value_or(""),
                              source ? g.node(*source).country : std::string(), bytes, !failure, e.id});
        } else if (is_net && src_ip && dst_ip) {
            const NodeId s = g.address_node(*src_ip, ts);
            const NodeId d = g.address_node(*dst_ip, ts);
            if (s == d) continue;
            locate(s);
            locate(d);
            discover(s);
            discover(d);
            mark_anomaly(s, e);
            mark_anomaly(d, e);
            bool created = false;
            g.touch_edge(s, d, EdgeKind::Connection, port, ts, bytes, failure, &created);
            if (port != 0 && g.node(d).kind == NodeKind::Host) {
                const NodeId svc = g.upsert_node(NodeKind::Service, g.node(d).label + ":" + std::to_string(port), ts);
                g.touch_edge(svc, d, EdgeKind::ServiceOf, port, ts);
            }
            if (g.node(s).kind == NodeKind::External && g.node(d).kind == NodeKind::Host && !failure) {
                g.node(d).exposed = true;
            }
            ConnectionFact fact;
            fact.source = g.node(s).label;
            fact.target = g.node(d).label;
            fact.source_internal = g.node(s).kind == NodeKind::Host;
            fact.target_internal = g.node(d).kind == NodeKind::Host;
            fact.port = port;
            fact.first_time = created && ts - g.started_at() >= options_.learning_ms;
            fact.target_criticality = g.node(d).criticality;
            fact.ts = ts;
            fact.event_id = e.id;
            st.detector.on_connection(fact, out);
            if (!e.user_name.empty()) {
                st.users.observe({e.user_name, ts, g.node(s).label, *src_ip, g.node(d).country, bytes, !failure, e.id});
            }
        }
    }
    st.detections += out.size();
    return out;
}

void GraphService::on_alerts(const std::vector<model::Alert>& alerts) {
    std::unique_lock lock(mutex_);
    EntityGraph& g = state_->graph;
    for (const auto& a : alerts) {
        const std::string key = "alert:" + a.id;
        if (auto existing = g.find(key)) g.remove_node(*existing);
        if (!model::is_open(a.status)) continue;
        const NodeId node = g.upsert_node(NodeKind::Alert, a.id, a.last_seen);
        g.node(node).label = a.title;
        g.node(node).severity = static_cast<int>(a.severity);
        for (const auto& h : a.entities.hosts) {
            g.touch_edge(node, g.upsert_node(NodeKind::Host, h, a.last_seen), EdgeKind::AlertLink, 0, a.last_seen);
        }
        for (const auto& u : a.entities.users) {
            g.touch_edge(node, g.upsert_node(NodeKind::User, u, a.last_seen), EdgeKind::AlertLink, 0, a.last_seen);
        }
        for (const auto& ip : a.entities.ips) {
            if (auto c = model::canonical_ip(ip)) {
                g.touch_edge(node, g.address_node(*c, a.last_seen), EdgeKind::AlertLink, 0, a.last_seen);
            }
        }
    }
}

void GraphService::maintain(std::int64_t now_ms) {
    std::unique_lock lock(mutex_);
    // Event time may run behind wall time (replays): age against the later of the two.
    const std::int64_t now = std::max(now_ms, state_->graph.latest());
    state_->graph.age(now);
    state_->detector.expire(state_->graph.latest());
}

void GraphService::refresh_centrality() {
    std::vector<std::pair<NodeId, NodeId>> edges;
    std::vector<std::int64_t> identity;
    std::size_t n = 0;
    {
        std::shared_lock lock(mutex_);
        const EntityGraph& g = state_->graph;
        n = g.node_capacity();
        edges.reserve(g.edge_count());
        for (EdgeId i = 0; i < g.edge_capacity(); ++i) {
            const Edge& e = g.edge(i);
            if (e.alive && e.kind != EdgeKind::AlertLink && e.kind != EdgeKind::ServiceOf) edges.emplace_back(e.src, e.dst);
        }
        identity.resize(n);
        for (NodeId i = 0; i < n; ++i) identity[i] = g.node(i).alive ? g.node(i).first_seen : -1;
    }
    auto scores = centrality(n, edges);
    std::unique_lock lock(mutex_);
    EntityGraph& g = state_->graph;
    for (NodeId i = 0; i < n && i < g.node_capacity(); ++i) {
        // A node id reused since the copy belongs to another node: leave it for the next round.
        if (g.node(i).alive && g.node(i).first_seen == identity[i]) g.node(i).centrality = scores[i];
    }
    state_->centrality_at = core::now_unix_ms();
}

core::Result<void> GraphService::save_snapshot(std::int64_t now_ms) {
    std::string data;
    {
        std::shared_lock lock(mutex_);
        data = state_->graph.serialize();
    }
    if (auto r = store_.save_snapshot({now_ms, std::move(data)}); !r) return r;
    std::unique_lock lock(mutex_);
    state_->snapshot_at = now_ms;
    return {};
}

core::Result<std::size_t> GraphService::flush_discovered(std::int64_t now_ms) {
    std::vector<model::Asset> pending;
    {
        std::lock_guard lock(state_->pending_mutex);
        pending.swap(state_->pending);
    }
    std::size_t stored = 0;
    for (auto& a : pending) {
        {
            // Declared (or merged into a declared asset) since it was first seen: nothing to discover.
            std::shared_lock lock(mutex_);
            auto node = state_->graph.find("host:" + a.name);
            if (!node || !state_->graph.node(*node).asset_id.empty()) continue;
        }
        a.id = core::new_uuid_v7();
        a.created_at = a.updated_at = now_ms;
        auto r = store_.put_asset(a);
        if (!r && r.error().code == Errc::Conflict) continue;  // declared meanwhile
        if (!r) return r.error();
        ++stored;
        std::unique_lock lock(mutex_);
        state_->graph.apply_asset(a);
    }
    return stored;
}

core::Result<void> GraphService::reload_assets() {
    storage::AssetQuery q;
    q.limit = 0;
    auto assets = store_.list_assets(q);
    if (!assets) return assets.error();
    std::unique_lock lock(mutex_);
    for (const auto& a : *assets) {
        // Only what changed since the last reload: applying an asset walks the graph.
        auto& known = state_->asset_versions[a.id];
        if (known == a.updated_at && known != 0) continue;
        known = a.updated_at;
        state_->asset_names.insert(a.name);
        state_->graph.apply_asset(a);
    }
    state_->discovered = static_cast<std::size_t>(
        std::count_if(assets->begin(), assets->end(), [](const model::Asset& a) { return a.discovered; }));
    return {};
}

core::Result<std::vector<model::Asset>> GraphService::list_assets(const storage::AssetQuery& query) {
    return store_.list_assets(query);
}

core::Result<model::Asset> GraphService::get_asset(const std::string& id) { return store_.get_asset(id); }

core::Result<void> GraphService::retire_discovered(const model::Asset& declared) {
    if (declared.ips.empty() || declared.discovered) return {};
    storage::AssetQuery q;
    q.discovered = true;
    q.limit = 0;
    auto found = store_.list_assets(q);
    if (!found) return found.error();
    for (const auto& d : *found) {
        if (d.id == declared.id) continue;
        const bool shares = std::any_of(d.ips.begin(), d.ips.end(), [&](const std::string& ip) {
            return std::find(declared.ips.begin(), declared.ips.end(), ip) != declared.ips.end();
        });
        if (!shares) continue;
        if (auto r = store_.delete_asset(d.id); !r && r.error().code != Errc::NotFound) return r;
        std::unique_lock lock(mutex_);
        state_->graph.clear_asset(d.id);
    }
    return {};
}

core::Result<model::Asset> GraphService::create_asset(const bj::object& body, std::int64_t now_ms) {
    model::Asset a;
    if (auto r = model::apply_asset_json(a, body); !r) return r.error();
    a.id = core::new_uuid_v7();
    a.created_at = a.updated_at = now_ms;
    if (auto existing = store_.find_asset_by_name(a.name)) {
        if (!existing->discovered) return make_error(Errc::Conflict, "an asset named '" + a.name + "' already exists");
        a.id = existing->id;
        a.created_at = existing->created_at;
    }
    if (auto r = store_.put_asset(a); !r) return r.error();
    if (auto r = retire_discovered(a); !r) return r.error();
    std::unique_lock lock(mutex_);
    state_->asset_names.insert(a.name);
    state_->graph.apply_asset(a);
    return a;
}

core::Result<model::Asset> GraphService::update_asset(const std::string& id, const bj::object& body, std::int64_t now_ms) {
    auto a = store_.get_asset(id);
    if (!a) return a.error();
    const bool was_discovered = a->discovered;
    if (auto r = model::apply_asset_json(*a, body); !r) return r.error();
    // Someone curated it: it is no longer only discovered (unless they say so).
    if (was_discovered && !body.contains("discovered")) a->discovered = false;
    a->updated_at = now_ms;
    if (auto r = store_.put_asset(*a); !r) return r.error();
    std::unique_lock lock(mutex_);
    state_->asset_names.insert(a->name);
    state_->graph.apply_asset(*a);
    return a;
}

core::Result<void> GraphService::delete_asset(const std::string& id) {
    if (auto r = store_.delete_asset(id); !r) return r;
    std::unique_lock lock(mutex_);
    state_->graph.clear_asset(id);
    return {};
}

core::Result<bool> GraphService::upsert_asset_by_name(model::Asset asset, std::int64_t now_ms) {
    bool created = true;
    if (auto existing = store_.find_asset_by_name(asset.name)) {
        asset.id = existing->id;
        asset.created_at = existing->created_at;
        created = false;
    } else {
        asset.id = core::new_uuid_v7();
        asset.created_at = now_ms;
    }
    asset.updated_at = now_ms;
    if (auto r = store_.put_asset(asset); !r) return r.error();
    if (auto r = retire_discovered(asset); !r) return r.error();
    std::unique_lock lock(mutex_);
    state_->asset_names.insert(asset.name);
    state_->graph.apply_asset(asset);
    return created;
}

core::Result<bj::object> GraphService::attack_paths(const AttackPathRequest& req) const {
    if (req.k < 1 || req.k > kMaxPathsK) {
        return make_error(Errc::InvalidArgument, "k must be between 1 and " + std::to_string(kMaxPathsK));
    }
    if (req.max_hops < 1 || req.max_hops > kMaxPathHops) {
        return make_error(Errc::InvalidArgument, "max_hops must be between 1 and " + std::to_string(kMaxPathHops));
    }
    const auto started = std::chrono::steady_clock::now();
    std::shared_lock lock(mutex_);
    const EntityGraph& g = state_->graph;
    AttackView view(g, options_.lateral);

    auto resolve = [&](const std::string& key, const char* what) -> core::Result<NodeId> {
        auto id = g.find(key);
        if (!id) return make_error(Errc::NotFound, std::string(what) + ": unknown node '" + key + "'");
        if (g.node(*id).kind != NodeKind::Host && g.node(*id).kind != NodeKind::External) {
            return make_error(Errc::InvalidArgument, std::string(what) + ": '" + key + "' is not a host or address");
        }
        return *id;
    };
    PathQuery q;
    q.k = req.k;
    q.max_hops = req.max_hops;
    q.deadline = started + req.budget;
    if (req.source) {
        auto id = resolve(*req.source, "source");
        if (!id) return id.error();
        q.sources.push_back(*id);
    }
    if (req.target) {
        auto id = resolve(*req.target, "target");
        if (!id) return id.error();
        q.targets.push_back(*id);
    }
    if (!req.source || !req.target) {
        for (NodeId i = 0; i < g.node_capacity(); ++i) {
            const Node& n = g.node(i);
            if (!n.alive || n.kind != NodeKind::Host) continue;
            if (!req.source && (n.internet_facing || n.exposed || n.open_alerts > 0)) q.sources.push_back(i);
            if (!req.target && n.criticality >= 4) q.targets.push_back(i);
        }
    }
    std::string reason;
    PathResult found;
    if (q.sources.empty()) {
        reason = "no entry points: no internet-facing or exposed host and no host with an open alert";
    } else if (q.targets.empty()) {
        reason = "no targets: no asset has criticality 4 or more";
    } else if (req.source && req.target && *req.source == *req.target) {
        reason = "source and target are the same node";
    } else {
        q.guided = q.targets.size() == 1;
        found = k_best_paths(view, q);
        if (found.paths.empty() && !found.truncated) {
            reason = "no path within " + std::to_string(req.max_hops) + " hops: the target is not reachable from the sources";
        }
    }

    std::set<NodeId> nodes;
    std::set<EdgeId> edges;
    bj::array paths;
    for (std::size_t rank = 0; rank < found.paths.size(); ++rank) {
        const auto& p = found.paths[rank];
        bj::array ids, steps;
        for (NodeId v : p.nodes) {
            nodes.insert(v);
            ids.push_back(bj::string(g.node(v).key));
        }
        for (std::size_t i = 0; i + 1 < p.nodes.size(); ++i) {
            auto e = view.best_edge(p.nodes[i], p.nodes[i + 1]);
            if (!e) continue;
            edges.insert(*e);
            const Edge& edge = g.edge(*e);
            bj::object step{{"from", g.node(edge.src).key},
                            {"to", g.node(edge.dst).key},
                            {"edge", "e" + std::to_string(*e)},
                            {"kind", to_string(edge.kind)},
                            {"probability", round3(step_probability(edge, options_.lateral) * view.presence(edge.src))}};
            if (edge.port) step["port"] = edge.port;
            if (!edge.users.empty()) step["users"] = bj::array(edge.users.begin(), edge.users.end());
            steps.push_back(std::move(step));
        }
        const double probability = std::exp(-p.cost);
        const int criticality = g.node(p.nodes.back()).criticality;
        const double impact = criticality > 0 ? 0.4 + 0.12 * criticality : 0.6;
        paths.push_back(bj::object{{"rank", rank + 1},
                                   {"nodes", std::move(ids)},
                                   {"steps", std::move(steps)},
                                   {"hops", p.nodes.size() - 1},
                                   {"probability", round3(probability)},
                                   {"risk_score", round3(100.0 * probability * impact)}});
    }
    bj::array node_list, edge_list;
    for (NodeId v : nodes) node_list.push_back(node_json(g, v, view.risk(v)));
    for (EdgeId e : edges) edge_list.push_back(edge_json(g, e));
    const double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    bj::object summary{{"paths", paths.size()},
                       {"entry_points", q.sources.size()},
                       {"targets", q.targets.size()},
                       {"k", req.k},
                       {"max_hops", req.max_hops},
                       {"truncated", found.truncated},
                       {"expansions", found.expansions},
                       {"elapsed_ms", round3(elapsed)},
                       {"budget_ms", req.budget.count()}};
    if (!reason.empty()) summary["reason"] = reason;
    if (found.truncated) summary["reason"] = "time budget reached: the paths shown are the best found so far";
    return bj::object{{"nodes", std::move(node_list)},
                      {"edges", std::move(edge_list)},
                      {"paths", std::move(paths)},
                      {"summary", std::move(summary)}};
}

core::Result<bj::object> GraphService::topology(const TopologyRequest& req) const {
    if (req.group_by != "auto" && req.group_by != "subnet" && req.group_by != "tag" && req.group_by != "none") {
        return make_error(Errc::InvalidArgument, "group_by must be auto, subnet, tag or none");
    }
    if (req.node_limit < 1 || req.node_limit > 5000) {
        return make_error(Errc::InvalidArgument, "limit must be between 1 and 5000");
    }
    std::optional<std::pair<std::string, std::string>> range;
    if (req.subnet) {
        range = model::cidr_range(*req.subnet);
        if (!range) return make_error(Errc::InvalidArgument, "subnet must be a CIDR block such as 10.0.0.0/8");
    }
    const auto started = std::chrono::steady_clock::now();
    const auto deadline = started + req.budget;
    std::shared_lock lock(mutex_);
    const EntityGraph& g = state_->graph;

    std::vector<std::int8_t> subnet_cache(range ? g.node_capacity() : 0, -1);  // per node: -1 unknown
    auto in_subnet = [&](NodeId v) {
        if (!range) return true;
        auto& cached = subnet_cache[v];
        if (cached < 0) {
            const auto key = model::ip_sort_key(g.node(v).ip);
            cached = !key.empty() && key >= range->first && key <= range->second ? 1 : 0;
        }
        return cached == 1;
    };
    std::vector<EdgeId> kept;
    std::unordered_set<NodeId> node_set;
    bool truncated = false;
    std::uint64_t scanned = 0;
    for (EdgeId i = 0; i < g.edge_capacity(); ++i) {
        if ((++scanned & 0xFFF) == 0 && std::chrono::steady_clock::now() >= deadline) {
            truncated = true;
            break;
        }
        const Edge& e = g.edge(i);
        if (!e.alive || (e.kind != EdgeKind::Connection && e.kind != EdgeKind::Logon)) continue;
        if (req.from_ms && e.last_seen < *req.from_ms) continue;
        if (req.to_ms && e.first_seen >= *req.to_ms) continue;
        if (e.bytes < req.min_bytes || e.count < req.min_count) continue;
        if (!in_subnet(e.src) && !in_subnet(e.dst)) continue;
        kept.push_back(i);
        node_set.insert(e.src);
        node_set.insert(e.dst);
    }

    std::string group_by = req.group_by;
    const bool aggregate = group_by != "none" && (node_set.size() > req.node_limit || group_by != "auto");
    if (group_by == "auto") group_by = "subnet";
    bj::array nodes, edges;
    std::size_t groups = 0;
    if (!aggregate) {
        for (NodeId v : node_set) nodes.push_back(node_json(g, v, node_risk(risk_inputs(g, v))));
        for (EdgeId e : kept) edges.push_back(edge_json(g, e));
    } else {
        auto group_of = [&](NodeId v) -> std::string {
            const Node& n = g.node(v);
            if (n.kind == NodeKind::External) return "internet:" + (n.country.empty() ? std::string("unknown") : n.country);
            if (group_by == "tag") return "tag:" + (n.tags.empty() ? std::string("untagged") : n.tags.front());
            return n.ip.empty() ? "subnet:unknown" : "subnet:" + slash24(n.ip);
        };
        struct Group {
            std::string key;
            std::size_t members = 0;
            double risk = 0;
            int criticality = 0;
            std::vector<std::string> sample;
        };
        struct Link {
            std::uint64_t count = 0, bytes = 0, edges = 0;
            std::vector<std::uint16_t> ports;  // at most 16
        };
        // Countries are groups of their own, unless that alone exceeds the limit.
        std::unordered_set<std::string> countries;
        for (NodeId v : node_set) {
            if (g.node(v).kind == NodeKind::External) countries.insert(group_of(v));
        }
        const bool one_internet = countries.size() > req.node_limit / 2;
        // Integer group ids per node, so the edge pass does no string work.
        std::vector<Group> group_list;
        std::unordered_map<std::string, std::uint32_t> group_index;
        std::vector<std::uint32_t> member_of(g.node_capacity(), 0);
        for (NodeId v : node_set) {
            auto key = one_internet && g.node(v).kind == NodeKind::External ? std::string("internet:all") : group_of(v);
            auto [it, added] = group_index.try_emplace(key, static_cast<std::uint32_t>(group_list.size()));
            if (added) group_list.push_back({key});
            auto& grp = group_list[it->second];
            ++grp.members;
            grp.risk = std::max(grp.risk, node_risk(risk_inputs(g, v)));
            grp.criticality = std::max(grp.criticality, g.node(v).criticality);
            if (grp.sample.size() < 5) grp.sample.push_back(g.node(v).key);
            member_of[v] = it->second;
        }
        std::unordered_map<std::uint64_t, Link> links;
        for (EdgeId id : kept) {
            const Edge& e = g.edge(id);
            auto& l = links[(static_cast<std::uint64_t>(member_of[e.src]) << 32) | member_of[e.dst]];
            l.count += e.count;
            l.bytes += e.bytes;
            ++l.edges;
            if (e.port && l.ports.size() < 16 && std::find(l.ports.begin(), l.ports.end(), e.port) == l.ports.end()) {
                l.ports.push_back(e.port);
            }
        }
        std::sort(group_list.begin(), group_list.end(), [](const Group& x, const Group& y) { return x.key < y.key; });
        for (const auto& grp : group_list) {
            nodes.push_back(bj::object{{"id", grp.key},
                                       {"label", grp.key.substr(grp.key.find(':') + 1)},
                                       {"kind", "group"},
                                       {"members", grp.members},
                                       {"risk", round3(grp.risk)},
                                       {"criticality", grp.criticality},
                                       {"sample", bj::array(grp.sample.begin(), grp.sample.end())}});
        }
        std::vector<std::string> names(group_index.size());
        for (const auto& [key, index] : group_index) names[index] = key;
        for (auto& [pair, l] : links) {
            const auto& from = names[pair >> 32];
            const auto& to = names[pair & 0xffffffffu];
            std::sort(l.ports.begin(), l.ports.end());
            edges.push_back(bj::object{{"id", from + "->" + to},
                                       {"source", from},
                                       {"target", to},
                                       {"kind", "aggregate"},
                                       {"count", l.count},
                                       {"bytes", l.bytes},
                                       {"edges", l.edges},
                                       {"ports", bj::array(l.ports.begin(), l.ports.end())}});
        }
        groups = group_list.size();
    }
    const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    return bj::object{{"nodes", std::move(nodes)},
                      {"edges", std::move(edges)},
                      {"summary", bj::object{{"nodes", node_set.size()},
                                             {"edges", kept.size()},
                                             {"aggregated", aggregate},
                                             {"group_by", aggregate ? bj::value(group_by) : bj::value(nullptr)},
                                             {"groups", groups},
                                             {"node_limit", req.node_limit},
                                             {"graph_nodes", g.node_count()},
                                             {"graph_edges", g.edge_count()},
                                             {"truncated", truncated},
                                             {"elapsed_ms", round3(elapsed)}}}};
}

bj::object GraphService::threat_map(const ThreatMapRequest& req) const {
    struct CountryStats {
        std::size_t sources = 0;
        std::uint64_t connections = 0, bytes = 0, failed_logons = 0, alerts = 0;
        std::array<std::uint64_t, 5> severities{};
        std::set<std::string> targets;
        std::vector<std::string> top_sources;
    };
    std::shared_lock lock(mutex_);
    const EntityGraph& g = state_->graph;
    std::map<std::string, CountryStats> countries;
    std::map<std::pair<std::string, std::string>, std::uint64_t> flows;  // (country, internal host) -> count
    for (NodeId i = 0; i < g.node_capacity(); ++i) {
        const Node& n = g.node(i);
        if (!n.alive || n.kind != NodeKind::External) continue;
        if (req.from_ms && n.last_seen < *req.from_ms) continue;
        if (req.to_ms && n.first_seen >= *req.to_ms) continue;
        const std::string code = n.country.empty() ? "unknown" : n.country;
        auto& c = countries[code];
        ++c.sources;
        if (c.top_sources.size() < 10) c.top_sources.push_back(n.ip);
        for (EdgeId id : n.out) {
            const Edge& e = g.edge(id);
            if (e.kind != EdgeKind::Connection && e.kind != EdgeKind::Logon) continue;
            c.connections += e.count;
            c.bytes += e.bytes;
            if (e.kind == EdgeKind::Logon) c.failed_logons += e.failures;
            c.targets.insert(g.node(e.dst).key);
            flows[{code, g.node(e.dst).key}] += e.count;
        }
        for (EdgeId id : n.in) {
            const Edge& e = g.edge(id);
            if (e.kind == EdgeKind::AlertLink) {
                ++c.alerts;
                const int sev = std::clamp(g.node(e.src).severity, 0, 4);
                ++c.severities[static_cast<std::size_t>(sev)];
            } else if (e.kind == EdgeKind::Connection) {
                c.bytes += e.bytes;  // outbound to this address (exfiltration shows here)
                flows[{code, g.node(e.src).key}] += e.count;
            }
        }
    }
    bj::array list, nodes, edges;
    std::uint64_t total = 0;
    static constexpr std::array<const char*, 5> kSeverity = {"info", "low", "medium", "high", "critical"};
    for (const auto& [code, c] : countries) {
        bj::object sev;
        for (std::size_t s = 0; s < kSeverity.size(); ++s) sev[kSeverity[s]] = c.severities[s];
        bj::object entry{{"country", code},
                         {"name", code == "unknown" ? std::string("Unknown")
                                                    : (geoip_ ? geoip_->country_name(code).value_or(code) : code)},
                         {"sources", c.sources},
                         {"connections", c.connections},
                         {"bytes", c.bytes},
                         {"failed_logons", c.failed_logons},
                         {"targets", c.targets.size()},
                         {"alerts", c.alerts},
                         {"severities", std::move(sev)},
                         {"top_sources", bj::array(c.top_sources.begin(), c.top_sources.end())}};
        if (auto pos = geoip_ && code != "unknown" ? geoip_->coordinates(code) : std::nullopt) {
            entry["latitude"] = round3(pos->latitude);
            entry["longitude"] = round3(pos->longitude);
        } else {
            entry["latitude"] = nullptr;
            entry["longitude"] = nullptr;
        }
        total += c.connections;
        nodes.push_back(bj::object{{"id", "country:" + code}, {"label", entry["name"]}, {"kind", "country"},
                                   {"latitude", entry["latitude"]}, {"longitude", entry["longitude"]}});
        list.push_back(std::move(entry));
    }
    std::sort(list.begin(), list.end(), [](const bj::value& a, const bj::value& b) {
        return a.at("connections").to_number<std::uint64_t>() > b.at("connections").to_number<std::uint64_t>();
    });
    std::set<std::string> hosts;
    for (const auto& [key, count] : flows) {
        hosts.insert(key.second);
        edges.push_back(bj::object{{"source", "country:" + key.first}, {"target", key.second}, {"count", count}});
    }
    for (const auto& h : hosts) nodes.push_back(bj::object{{"id", h}, {"label", h.substr(h.find(':') + 1)}, {"kind", "host"}});
    return bj::object{{"countries", std::move(list)},
                      {"nodes", std::move(nodes)},
                      {"edges", std::move(edges)},
                      {"summary", bj::object{{"countries", countries.size()},
                                             {"connections", total},
                                             {"geoip", geoip_ != nullptr}}}};
}

namespace {

bj::object baseline_json(const UserBaseline& b) {
    bj::array hours;
    for (int h = 0; h < 24; ++h) {
        if (b.events > 0 && static_cast<double>(b.hours[h]) / static_cast<double>(b.events) >= 0.05) hours.push_back(h);
    }
    auto top = [](const auto& map, std::size_t n) {
        std::vector<std::pair<std::uint64_t, std::string>> v;
        for (const auto& [k, c] : map) v.emplace_back(c, k);
        std::sort(v.begin(), v.end(), std::greater<>());
        bj::array out;
        for (std::size_t i = 0; i < v.size() && i < n; ++i) out.push_back(bj::object{{"name", v[i].second}, {"events", v[i].first}});
        return out;
    };
    return bj::object{{"events", b.events},
                      {"failures", b.failures},
                      {"usual_hours_utc", std::move(hours)},
                      {"hosts", top(b.hosts, 10)},
                      {"countries", top(b.countries, 10)},
                      {"bytes_mean", round3(b.bytes_mean)},
                      {"first_seen", core::format_rfc3339_ms(b.first_seen)},
                      {"last_seen", core::format_rfc3339_ms(b.last_seen)}};
}

bj::object deviation_json(const Deviation& d) {
    return bj::object{{"at", core::format_rfc3339_ms(d.ts)},
                      {"score", round3(d.score)},
                      {"reasons", bj::array(d.reasons.begin(), d.reasons.end())},
                      {"host", d.host},
                      {"country", d.country.empty() ? bj::value(nullptr) : bj::value(d.country)},
                      {"event_id", d.event_id}};
}

}  // namespace

core::Result<bj::object> GraphService::user_behavior(const UserBehaviorRequest& req) const {
    std::shared_lock lock(mutex_);
    const EntityGraph& g = state_->graph;
    auto user_edges = [&](const std::string& user, bj::array& nodes, bj::array& edges, std::set<std::string>& seen) {
        auto id = g.find("user:" + user);
        if (!id) return;
        if (seen.insert(g.node(*id).key).second) nodes.push_back(node_json(g, *id, node_risk(risk_inputs(g, *id))));
        for (EdgeId e : g.node(*id).out) {
            const Edge& edge = g.edge(e);
            if (edge.kind != EdgeKind::Auth) continue;
            if (seen.insert(g.node(edge.dst).key).second) {
                nodes.push_back(node_json(g, edge.dst, node_risk(risk_inputs(g, edge.dst))));
            }
            edges.push_back(edge_json(g, e));
        }
    };
    bj::array nodes, edges;
    std::set<std::string> seen;
    if (req.user) {
        const UserProfile* p = state_->users.find(*req.user);
        if (!p) return make_error(Errc::NotFound, "no behaviour recorded for user '" + *req.user + "'");
        bj::array timeline, deviations;
        for (auto it = p->timeline.rbegin(); it != p->timeline.rend(); ++it) {
            const auto& a = it->activity;
            timeline.push_back(bj::object{{"at", core::format_rfc3339_ms(a.ts)},
                                          {"host", a.host},
                                          {"source_ip", a.source_ip.empty() ? bj::value(nullptr) : bj::value(a.source_ip)},
                                          {"country", a.country.empty() ? bj::value(nullptr) : bj::value(a.country)},
                                          {"bytes", a.bytes},
                                          {"outcome", a.success ? "success" : "failure"},
                                          {"score", round3(it->score)},
                                          {"reasons", bj::array(it->reasons.begin(), it->reasons.end())},
                                          {"event_id", a.event_id}});
        }
        for (auto it = p->deviations.rbegin(); it != p->deviations.rend(); ++it) deviations.push_back(deviation_json(*it));
        user_edges(p->user, nodes, edges, seen);
        return bj::object{{"user", p->user},
                          {"score", round3(p->score)},
                          {"baseline", baseline_json(p->baseline)},
                          {"deviations", std::move(deviations)},
                          {"timeline", std::move(timeline)},
                          {"nodes", std::move(nodes)},
                          {"edges", std::move(edges)},
                          {"summary", bj::object{{"timeline", p->timeline.size()}, {"deviations", p->deviations.size()}}}};
    }
    if (req.limit < 1 || req.limit > 500) return make_error(Errc::InvalidArgument, "limit must be between 1 and 500");
    bj::array users;
    for (const UserProfile* p : state_->users.ranked(req.limit)) {
        bj::array recent;
        for (auto it = p->deviations.rbegin(); it != p->deviations.rend() && recent.size() < 5; ++it) {
            recent.push_back(deviation_json(*it));
        }
        users.push_back(bj::object{{"user", p->user},
                                   {"score", round3(p->score)},
                                   {"baseline", baseline_json(p->baseline)},
                                   {"recent_deviations", std::move(recent)}});
        user_edges(p->user, nodes, edges, seen);
    }
    const std::size_t shown = users.size();
    return bj::object{{"users", std::move(users)},
                      {"nodes", std::move(nodes)},
                      {"edges", std::move(edges)},
                      {"summary", bj::object{{"users", state_->users.size()}, {"shown", shown}}}};
}

GraphStats GraphService::stats() const {
    std::shared_lock lock(mutex_);
    GraphStats s;
    s.nodes = state_->graph.node_count();
    s.edges = state_->graph.edge_count();
    s.memory_bytes = state_->graph.memory_bytes();
    s.events = state_->events;
    s.detections = state_->detections;
    s.users = state_->users.size();
    s.snapshot_at = state_->snapshot_at;
    s.centrality_at = state_->centrality_at;
    return s;
}

}  // namespace sai::graph
