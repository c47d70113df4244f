#include "graph/entity_graph.hpp"

#include "model/event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstring>

namespace sai::graph {
namespace {

namespace bj = boost::json;

constexpr std::array<std::string_view, 5> kNodeKinds = {"host", "external", "user", "service", "alert"};
constexpr std::array<std::string_view, 5> kNodePrefixes = {"host:", "ext:", "user:", "svc:", "alert:"};
constexpr std::array<std::string_view, 5> kEdgeKinds = {"connection", "logon", "auth", "service_of", "alert_link"};
constexpr std::size_t kMaxEdgeUsers = 8;

void erase_value(std::vector<EdgeId>& v, EdgeId id) {
    auto it = std::find(v.begin(), v.end(), id);
    if (it != v.end()) {
        *it = v.back();
        v.pop_back();
    }
}

}  // namespace

std::string_view to_string(NodeKind kind) noexcept { return kNodeKinds[static_cast<std::size_t>(kind)]; }
std::string_view to_string(EdgeKind kind) noexcept { return kEdgeKinds[static_cast<std::size_t>(kind)]; }

bool is_internal_address(std::string_view canonical_ip) {
    const std::string ip(canonical_ip);
    in_addr v4{};
    if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
        const std::uint32_t a = ntohl(v4.s_addr);
        return (a >> 24) == 10 || (a >> 24) == 127 || (a >> 20) == 0xAC1 /* 172.16/12 */ ||
               (a >> 16) == 0xC0A8 /* 192.168/16 */ || (a >> 16) == 0xA9FE /* 169.254/16 */ ||
               (a >> 22) == (0x64400000u >> 22) /* 100.64/10 */;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
        const auto* b = v6.s6_addr;
        static constexpr unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        return (b[0] & 0xFE) == 0xFC /* fc00::/7 */ || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) /* fe80::/10 */ ||
               std::memcmp(b, kLoopback, 16) == 0;
    }
    return false;
}

std::size_t EntityGraph::EdgeKeyHash::operator()(const EdgeKey& k) const noexcept {
    std::uint64_t h = (static_cast<std::uint64_t>(k.src) << 32) ^ k.dst;
    h ^= (static_cast<std::uint64_t>(k.port) << 8 | static_cast<std::uint64_t>(k.kind)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    return static_cast<std::size_t>(h ^ (h >> 32));
}

EntityGraph::EntityGraph(GraphLimits limits) : limits_(limits) {}

std::string EntityGraph::key_of(NodeKind kind, std::string_view name) {
    std::string key(kNodePrefixes[static_cast<std::size_t>(kind)]);
    key += name;
    return key;
}

void EntityGraph::note_time(std::int64_t ts) {
    if (ts <= 0) return;
    if (started_at_ == 0 || ts < started_at_) started_at_ = ts;
    latest_ = std::max(latest_, ts);
}

NodeId EntityGraph::upsert_node(NodeKind kind, std::string_view name, std::int64_t ts) {
    auto key = key_of(kind, name);
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
        Node& n = nodes_[it->second];
        n.last_seen = std::max(n.last_seen, ts);
        return it->second;
    }
    NodeId id;
    if (!free_nodes_.empty()) {
        id = free_nodes_.back();
        free_nodes_.pop_back();
    } else {
        id = static_cast<NodeId>(nodes_.size());
        nodes_.emplace_back();
    }
    Node& n = nodes_[id];
    n = Node{};
    n.key = key;
    n.label = std::string(name);
    n.kind = kind;
    n.first_seen = n.last_seen = ts;
    n.alive = true;
    by_key_.emplace(std::move(key), id);
    ++node_count_;
    if (kind == NodeKind::Alert) ++alert_nodes_;
    return id;
}

std::optional<NodeId> EntityGraph::find(std::string_view key) const {
    auto it = by_key_.find(std::string(key));
    if (it == by_key_.end()) return std::nullopt;
    return it->second;
}

void EntityGraph::alias(std::string_view canonical_ip, std::string_view host_name) {
    if (canonical_ip.empty() || host_name.empty()) return;
    // Bounded like the graph: one alias per address.
    if (aliases_.size() >= limits_.max_nodes && !aliases_.contains(std::string(canonical_ip))) return;
    aliases_[std::string(canonical_ip)] = std::string(host_name);
}

std::optional<std::string> EntityGraph::host_of(std::string_view canonical_ip) const {
    auto it = aliases_.find(std::string(canonical_ip));
    if (it == aliases_.end()) return std::nullopt;
    return it->second;
}

NodeId EntityGraph::address_node(std::string_view ip, std::int64_t ts) {
    if (auto host = host_of(ip)) {
        NodeId id = upsert_node(NodeKind::Host, *host, ts);
        if (nodes_[id].ip.empty()) nodes_[id].ip = std::string(ip);
        return id;
    }
    const bool internal = is_internal_address(ip);
    NodeId id = upsert_node(internal ? NodeKind::Host : NodeKind::External, ip, ts);
    if (nodes_[id].ip.empty()) nodes_[id].ip = std::string(ip);
    return id;
}

EdgeId EntityGraph::touch_edge(NodeId src, NodeId dst, EdgeKind kind, std::uint16_t port, std::int64_t ts,
                               std::uint64_t bytes, bool failure, bool* created) {
    const EdgeKey key{src, dst, kind, port};
    auto it = by_edge_.find(key);
    EdgeId id;
    if (it != by_edge_.end()) {
        id = it->second;
        if (created) *created = false;
    } else {
        if (!free_edges_.empty()) {
            id = free_edges_.back();
            free_edges_.pop_back();
        } else {
            id = static_cast<EdgeId>(edges_.size());
            edges_.emplace_back();
        }
        Edge& e = edges_[id];
        e = Edge{};
        e.src = src;
        e.dst = dst;
        e.kind = kind;
        e.port = port;
        e.first_seen = ts;
        e.alive = true;
        nodes_[src].out.push_back(id);
        nodes_[dst].in.push_back(id);
        if (kind == EdgeKind::AlertLink) {
            ++nodes_[dst].open_alerts;
            nodes_[dst].alert_severity = std::max(nodes_[dst].alert_severity, nodes_[src].severity);
        }
        by_edge_.emplace(key, id);
        ++edge_count_;
        if (created) *created = true;
    }
    Edge& e = edges_[id];
    e.last_seen = std::max(e.last_seen, ts);
    e.first_seen = std::min(e.first_seen, ts);
    ++e.count;
    e.bytes += bytes;
    if (failure) ++e.failures;
    nodes_[src].last_seen = std::max(nodes_[src].last_seen, ts);
    nodes_[dst].last_seen = std::max(nodes_[dst].last_seen, ts);
    if (edge_count_ > limits_.max_edges) evict_oldest_edges(limits_.max_edges - limits_.max_edges / 10);
    return id;
}

void EntityGraph::remove_edge(EdgeId id) {
    Edge& e = edges_[id];
    if (!e.alive) return;
    by_edge_.erase(EdgeKey{e.src, e.dst, e.kind, e.port});
    erase_value(nodes_[e.src].out, id);
    erase_value(nodes_[e.dst].in, id);
    if (e.kind == EdgeKind::AlertLink) {
        Node& target = nodes_[e.dst];
        --target.open_alerts;
        target.alert_severity = -1;
        for (EdgeId other : target.in) {
            if (edges_[other].kind == EdgeKind::AlertLink) {
                target.alert_severity = std::max(target.alert_severity, nodes_[edges_[other].src].severity);
            }
        }
    }
    e.alive = false;
    e.users.clear();
    e.users.shrink_to_fit();
    free_edges_.push_back(id);
    --edge_count_;
}

void EntityGraph::remove_node(NodeId id) {
    Node& n = nodes_[id];
    if (!n.alive) return;
    while (!n.out.empty()) remove_edge(n.out.back());
    while (!n.in.empty()) remove_edge(n.in.back());
    by_key_.erase(n.key);
    if (n.kind == NodeKind::Alert) --alert_nodes_;
    n = Node{};
    free_nodes_.push_back(id);
    --node_count_;
}

void EntityGraph::apply_asset(const model::Asset& asset) {
    clear_asset(asset.id);
    NodeId id = upsert_node(NodeKind::Host, asset.name, 0);
    Node& n = nodes_[id];
    n.asset_id = asset.id;
    n.criticality = asset.criticality;
    n.internet_facing = asset.internet_facing;
    n.tags = asset.tags;
    if (!asset.ips.empty()) n.ip = asset.ips.front();
    if (n.first_seen == 0) n.first_seen = asset.created_at;
    if (n.last_seen == 0) n.last_seen = asset.updated_at;
    for (const auto& ip : asset.ips) {
        alias(ip, asset.name);
        // Traffic seen before the asset was declared belongs to it now.
        if (auto seen = find(key_of(NodeKind::Host, ip)); seen && *seen != id) merge_node(*seen, id);
    }
}

void EntityGraph::merge_node(NodeId from, NodeId into) {
    auto move = [&](EdgeId old_id) {
        const Edge old = edges_[old_id];
        const NodeId src = old.src == from ? into : old.src;
        const NodeId dst = old.dst == from ? into : old.dst;
        remove_edge(old_id);
        if (src == dst) return;
        const EdgeId id = touch_edge(src, dst, old.kind, old.port, old.last_seen, old.bytes);
        Edge& e = edges_[id];
        e.count += old.count - 1;  // touch_edge counted one
        e.failures += old.failures;
        e.first_seen = std::min(e.first_seen, old.first_seen);
        for (const auto& u : old.users) {
            if (e.users.size() < kMaxEdgeUsers && std::find(e.users.begin(), e.users.end(), u) == e.users.end()) {
                e.users.push_back(u);
            }
        }
    };
    while (!nodes_[from].out.empty()) move(nodes_[from].out.back());
    while (!nodes_[from].in.empty()) move(nodes_[from].in.back());
    Node& dst = nodes_[into];
    const Node& src = nodes_[from];
    dst.first_seen = dst.first_seen == 0 ? src.first_seen : std::min(dst.first_seen, src.first_seen);
    dst.last_seen = std::max(dst.last_seen, src.last_seen);
    dst.anomaly = std::max(dst.anomaly, src.anomaly);
    dst.exposed = dst.exposed || src.exposed;
    remove_node(from);
}

void EntityGraph::clear_asset(std::string_view asset_id) {
    for (auto& n : nodes_) {
        if (n.alive && n.asset_id == asset_id) {
            n.asset_id.clear();
            n.criticality = 0;
            n.internet_facing = false;
            n.tags.clear();
            for (auto it = aliases_.begin(); it != aliases_.end();) {
                it = it->second == n.label ? aliases_.erase(it) : std::next(it);
            }
        }
    }
}

void EntityGraph::evict_oldest_edges(std::size_t target) {
    if (edge_count_ <= target) return;
    std::vector<std::pair<std::int64_t, EdgeId>> order;
    order.reserve(edge_count_);
    for (EdgeId i = 0; i < edges_.size(); ++i) {
        if (edges_[i].alive && edges_[i].kind != EdgeKind::AlertLink) order.emplace_back(edges_[i].last_seen, i);
    }
    const std::size_t remove = std::min(order.size(), edge_count_ - target);
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(remove), order.end());
    for (std::size_t i = 0; i < remove; ++i) remove_edge(order[i].second);
}

void EntityGraph::evict_oldest_nodes(std::size_t target) {
    if (node_count_ <= target) return;
    std::vector<std::pair<std::int64_t, NodeId>> order;
    for (NodeId i = 0; i < nodes_.size(); ++i) {
        // Assets stay: they are declared, not observed.
        if (nodes_[i].alive && nodes_[i].asset_id.empty()) order.emplace_back(nodes_[i].last_seen, i);
    }
    const std::size_t remove = std::min(order.size(), node_count_ - target);
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(remove), order.end());
    for (std::size_t i = 0; i < remove; ++i) remove_node(order[i].second);
}

std::size_t EntityGraph::age(std::int64_t now_ms) {
    const std::size_t before = edge_count_;
    const std::int64_t cutoff = now_ms - limits_.edge_ttl_ms;
    for (EdgeId i = 0; i < edges_.size(); ++i) {
        // Alert links live as long as the alert is open, whatever their age.
        if (edges_[i].alive && edges_[i].kind != EdgeKind::AlertLink && edges_[i].last_seen < cutoff) remove_edge(i);
    }
    for (NodeId i = 0; i < nodes_.size(); ++i) {
        const Node& n = nodes_[i];
        if (n.alive && n.asset_id.empty() && n.kind != NodeKind::Alert && n.in.empty() && n.out.empty() &&
            n.last_seen < cutoff) {
            remove_node(i);
        }
    }
    evict_oldest_edges(limits_.max_edges);
    evict_oldest_nodes(limits_.max_nodes);
    if (alert_nodes_ > limits_.max_alert_nodes) {
        std::vector<std::pair<std::int64_t, NodeId>> alerts;
        for (NodeId i = 0; i < nodes_.size(); ++i) {
            if (nodes_[i].alive && nodes_[i].kind == NodeKind::Alert) alerts.emplace_back(nodes_[i].last_seen, i);
        }
        std::sort(alerts.begin(), alerts.end());
        for (std::size_t i = 0; i + limits_.max_alert_nodes < alerts.size(); ++i) remove_node(alerts[i].second);
    }
    return before > edge_count_ ? before - edge_count_ : 0;
}

std::string EntityGraph::serialize() const {
    // Alert nodes are not kept: open alerts are reloaded from the alert store.
    std::vector<std::int64_t> index(nodes_.size(), -1);
    bj::array nodes;
    std::int64_t next = 0;
    for (NodeId i = 0; i < nodes_.size(); ++i) {
        const Node& n = nodes_[i];
        if (!n.alive || n.kind == NodeKind::Alert) continue;
        index[i] = next++;
        nodes.push_back(bj::array{static_cast<int>(n.kind), n.label, n.ip, n.country, n.first_seen, n.last_seen,
                                  static_cast<double>(n.anomaly), n.exposed});
    }
    bj::array edges;
    for (const Edge& e : edges_) {
        if (!e.alive || index[e.src] < 0 || index[e.dst] < 0) continue;
        bj::array users(e.users.begin(), e.users.end());
        edges.push_back(bj::array{index[e.src], index[e.dst], static_cast<int>(e.kind), e.port, e.first_seen,
                                  e.last_seen, e.count, e.failures, e.bytes, std::move(users)});
    }
    bj::object aliases;
    for (const auto& [ip, host] : aliases_) aliases[ip] = host;
    return model::to_json_text(bj::object{{"version", 1},
                                    {"started_at", started_at_},
                                    {"latest", latest_},
                                    {"nodes", std::move(nodes)},
                                    {"edges", std::move(edges)},
                                    {"aliases", std::move(aliases)}});
}

core::Result<void> EntityGraph::restore(std::string_view text) {
    auto bad = [](std::string what) { return core::make_error(core::Errc::InvalidArgument, "graph snapshot: " + what); };
    boost::system::error_code ec;
    auto v = bj::parse(text, ec);
    if (ec || !v.is_object()) return bad("not a JSON object");
    const auto& o = v.get_object();
    const auto* version = o.if_contains("version");
    if (!version || !version->is_int64() || version->get_int64() != 1) return bad("unknown version");
    const auto* nodes = o.if_contains("nodes");
    const auto* edges = o.if_contains("edges");
    const auto* aliases = o.if_contains("aliases");
    if (!nodes || !nodes->is_array() || !edges || !edges->is_array() || !aliases || !aliases->is_object()) {
        return bad("nodes, edges and aliases are required");
    }
    EntityGraph g(limits_);
    try {
        g.started_at_ = o.at("started_at").to_number<std::int64_t>();
        g.latest_ = o.at("latest").to_number<std::int64_t>();
        std::vector<NodeId> ids;
        for (const auto& item : nodes->get_array()) {
            const auto& a = item.as_array();
            const auto kind = a.at(0).to_number<int>();
            if (kind < 0 || kind > static_cast<int>(NodeKind::Alert)) return bad("bad node kind");
            NodeId id = g.upsert_node(static_cast<NodeKind>(kind), a.at(1).as_string(), a.at(4).to_number<std::int64_t>());
            Node& n = g.nodes_[id];
            n.ip = std::string(a.at(2).as_string());
            n.country = std::string(a.at(3).as_string());
            n.last_seen = a.at(5).to_number<std::int64_t>();
            n.anomaly = static_cast<float>(a.at(6).to_number<double>());
            n.exposed = a.at(7).as_bool();
            ids.push_back(id);
        }
        for (const auto& item : edges->get_array()) {
            const auto& a = item.as_array();
            const auto s = a.at(0).to_number<std::size_t>(), d = a.at(1).to_number<std::size_t>();
            const auto kind = a.at(2).to_number<int>();
            if (s >= ids.size() || d >= ids.size() || kind < 0 || kind > static_cast<int>(EdgeKind::AlertLink)) {
                return bad("bad edge");
            }
            EdgeId id = g.touch_edge(ids[s], ids[d], static_cast<EdgeKind>(kind), a.at(3).to_number<std::uint16_t>(),
                                     a.at(5).to_number<std::int64_t>());
            Edge& e = g.edges_[id];
            e.first_seen = a.at(4).to_number<std::int64_t>();
            e.count = a.at(6).to_number<std::uint64_t>();
            e.failures = a.at(7).to_number<std::uint64_t>();
            e.bytes = a.at(8).to_number<std::uint64_t>();
            for (const auto& u : a.at(9).as_array()) {
                if (e.users.size() < kMaxEdgeUsers) e.users.emplace_back(u.as_string());
            }
        }
        for (const auto& kv : aliases->get_object()) g.alias(kv.key(), kv.value().as_string());
    } catch (const std::exception& e) {
        // Boost.JSON's accessors throw on a wrong type or a missing index.
        return bad(e.what());
    }
    *this = std::move(g);
    return {};
}

std::size_t EntityGraph::memory_bytes() const {
    std::size_t bytes = nodes_.capacity() * sizeof(Node) + edges_.capacity() * sizeof(Edge);
    for (const auto& n : nodes_) {
        bytes += (n.out.capacity() + n.in.capacity()) * sizeof(EdgeId) + n.key.capacity() + n.label.capacity();
    }
    // Hash tables: a node per entry plus the bucket array.
    bytes += by_key_.size() * (sizeof(std::string) + sizeof(NodeId) + 32) + by_key_.bucket_count() * sizeof(void*);
    bytes += by_edge_.size() * (sizeof(EdgeKey) + sizeof(EdgeId) + 24) + by_edge_.bucket_count() * sizeof(void*);
    bytes += aliases_.size() * (2 * sizeof(std::string) + 32);
    return bytes;
}

}  // namespace sai::graph
