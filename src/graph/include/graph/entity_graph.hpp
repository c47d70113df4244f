#pragma once
// The entity graph: who talks to whom, who logs in where, which alerts touch
// what. Nodes are internal hosts, external addresses, users, services
// (host:port) and open alerts; edges aggregate what was observed between two
// nodes (counts, bytes, failures, first and last seen).
//
// Node keys (also the ids the API speaks): "host:<name or ip>", "ext:<ip>",
// "user:<name>", "svc:<host>:<port>", "alert:<alert id>".
// Edge kinds:
//   connection  host|ext -> host     network flow to destination port `port`
//   logon       host|ext -> host     authentication from the source (credential use)
//   auth        user -> host         authentications of a user on a host (success/failure)
//   service_of  svc -> host          a port seen open on a host
//   alert_link  alert -> entity      an open alert names the entity
//
// Memory is bounded: edges not seen for `edge_ttl` are aged out and, above
// `max_edges` / `max_nodes`, the least recently seen go first. Not thread-safe:
// the owner (GraphService) serialises writers and readers.

#include "core/error.hpp"
#include "model/asset.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sai::graph {

using NodeId = std::uint32_t;
using EdgeId = std::uint32_t;
inline constexpr NodeId kNoNode = 0xffffffffu;

enum class NodeKind : std::uint8_t { Host, External, User, Service, Alert };
enum class EdgeKind : std::uint8_t { Connection, Logon, Auth, ServiceOf, AlertLink };

std::string_view to_string(NodeKind kind) noexcept;
std::string_view to_string(EdgeKind kind) noexcept;

struct Node {
    // What path searches and risk scores read comes first (one cache line); names after.
    std::vector<EdgeId> out;
    NodeKind kind = NodeKind::Host;
    bool alive = false;
    bool internet_facing = false;   // declared on the asset
    bool exposed = false;           // observed: accepted a connection from an external address
    int criticality = 0;            // 0: not an asset; else 1..5
    int open_alerts = 0;            // alert links into this node (kept by touch_edge / remove_edge)
    int alert_severity = -1;        // the worst severity among them, -1 when none
    int severity = -1;              // alert nodes: model::Severity, 0 info .. 4 critical
    float anomaly = 0;     // highest ml.anomaly_score seen on events of this node (0..1)
    float centrality = 0;  // PageRank normalised to 0..1 (background)
    std::vector<EdgeId> in;
    std::int64_t first_seen = 0;    // Unix ms (event time)
    std::int64_t last_seen = 0;
    std::string key;
    std::string label;
    std::string ip;       // hosts and externals: an address of the node
    std::string country;  // externals: ISO 3166 code ("" when unknown)
    std::string asset_id;
    std::vector<std::string> tags;  // asset tags
};

struct Edge {
    // What path searches read comes first; the rest after.
    NodeId src = kNoNode;
    NodeId dst = kNoNode;
    EdgeKind kind = EdgeKind::Connection;
    bool alive = false;
    std::uint16_t port = 0;
    std::uint64_t count = 0;
    std::uint64_t failures = 0;  // logon and auth edges
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
    std::uint64_t bytes = 0;
    std::vector<std::string> users;  // logon edges: up to 8 user names
};

struct GraphLimits {
    std::size_t max_nodes = 250'000;
    std::size_t max_edges = 1'500'000;
    std::int64_t edge_ttl_ms = 30LL * 24 * 3600 * 1000;
    std::size_t max_alert_nodes = 10'000;
};

/// True for loopback, RFC 1918, link-local, CGNAT (100.64/10) and IPv6 ULA
/// addresses: the ones that stay inside an organisation.
bool is_internal_address(std::string_view canonical_ip);

class EntityGraph {
public:
    explicit EntityGraph(GraphLimits limits = {});

    /// The node with this key, created when absent (and `ts` raises last_seen).
    NodeId upsert_node(NodeKind kind, std::string_view name, std::int64_t ts);
    std::optional<NodeId> find(std::string_view key) const;
    /// An address as a node: an internal address becomes its host (through the
    /// aliases learnt from assets and events), anything else an external node.
    NodeId address_node(std::string_view canonical_ip, std::int64_t ts);
    /// Remembers that `ip` belongs to host `name` (from host.name + host.ip, or assets).
    void alias(std::string_view canonical_ip, std::string_view host_name);
    std::optional<std::string> host_of(std::string_view canonical_ip) const;

    /// Adds one observation to the edge (src, dst, kind, port); `created` tells
    /// whether the edge is new. Returns the edge.
    EdgeId touch_edge(NodeId src, NodeId dst, EdgeKind kind, std::uint16_t port, std::int64_t ts,
                      std::uint64_t bytes = 0, bool failure = false, bool* created = nullptr);
    void remove_edge(EdgeId id);
    /// Removes a node and its edges.
    void remove_node(NodeId id);

    /// Applies declared and discovered assets: host nodes named after them,
    /// aliases for their addresses and hostnames, criticality, tags, exposure.
    void apply_asset(const model::Asset& asset);
    /// Moves every edge of `from` onto `into` (counts added up), then removes `from`.
    void merge_node(NodeId from, NodeId into);
    /// Forgets an asset's attributes (the host node stays while it has traffic).
    void clear_asset(std::string_view asset_id);

    /// Ages out stale edges, orphan nodes, and enforces the size limits. Returns the edges removed.
    std::size_t age(std::int64_t now_ms);

    const Node& node(NodeId id) const { return nodes_[id]; }
    Node& node(NodeId id) { return nodes_[id]; }
    const Edge& edge(EdgeId id) const { return edges_[id]; }
    Edge& edge(EdgeId id) { return edges_[id]; }
    std::size_t node_count() const { return node_count_; }
    std::size_t edge_count() const { return edge_count_; }
    /// Upper bound of NodeId + 1 (ids of removed nodes are reused).
    std::size_t node_capacity() const { return nodes_.size(); }
    std::size_t edge_capacity() const { return edges_.size(); }
    const GraphLimits& limits() const { return limits_; }
    /// Event time of the first observation ever made (0 when empty): the start of learning.
    std::int64_t started_at() const { return started_at_; }
    void note_time(std::int64_t ts);
    std::int64_t latest() const { return latest_; }

    /// A compact text form of the whole graph (nodes, edges, aliases); see restore().
    std::string serialize() const;
    /// Replaces the contents with a serialised graph. InvalidArgument when malformed.
    core::Result<void> restore(std::string_view text);

    /// Approximate heap bytes held (for metrics and the benchmark).
    std::size_t memory_bytes() const;

private:
    struct EdgeKey {
        NodeId src, dst;
        EdgeKind kind;
        std::uint16_t port;
        bool operator==(const EdgeKey&) const = default;
    };
    struct EdgeKeyHash {
        std::size_t operator()(const EdgeKey& k) const noexcept;
    };
    static std::string key_of(NodeKind kind, std::string_view name);
    void evict_oldest_edges(std::size_t target);
    void evict_oldest_nodes(std::size_t target);

    GraphLimits limits_;
    std::vector<Node> nodes_;
    std::vector<Edge> edges_;
    std::vector<NodeId> free_nodes_;
    std::vector<EdgeId> free_edges_;
    std::unordered_map<std::string, NodeId> by_key_;
    std::unordered_map<EdgeKey, EdgeId, EdgeKeyHash> by_edge_;
    std::unordered_map<std::string, std::string> aliases_;  // ip -> host name
    std::size_t node_count_ = 0;
    std::size_t edge_count_ = 0;
    std::size_t alert_nodes_ = 0;
    std::int64_t started_at_ = 0;
    std::int64_t latest_ = 0;
};

}  // namespace sai::graph
