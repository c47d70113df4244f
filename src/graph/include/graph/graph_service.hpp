#pragma once
// The graph subsystem as the rest of the system sees it. Owns the entity graph,
// the lateral-movement detector and the user-behaviour baselines, keeps assets
// in step with the store, and answers the visualisation queries.
//
// Threads: observe() runs on the pipeline thread; on_alerts() on the alert
// manager's flush thread; maintain()/refresh_centrality()/save_snapshot()/
// flush_discovered() on a background thread; the queries and asset calls on API
// threads. One std::shared_mutex guards the in-memory state: writers (observe,
// on_alerts, maintenance) take it exclusively for a batch, queries share it.
// PageRank runs outside the lock on a copy of the edge list. Queries have a
// time budget and say when they were cut short.

#include "core/error.hpp"
#include "graph/entity_graph.hpp"
#include "graph/geoip.hpp"
#include "graph/lateral_movement.hpp"
#include "graph/user_behavior.hpp"
#include "model/alert.hpp"
#include "model/asset.hpp"
#include "model/event.hpp"
#include "storage/alert_store.hpp"
#include "storage/graph_store.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

namespace sai::graph {

struct GraphOptions {
    GraphLimits limits;
    LateralMovementOptions lateral;
    UserBehaviorOptions users;
    std::int64_t learning_ms = 3600 * 1000;  // first-time connections are not reported in the first hour of data
    std::size_t max_discovered_assets = 10'000;
};

inline constexpr std::size_t kMaxPathsK = 20;
inline constexpr std::size_t kMaxPathHops = 10;

struct AttackPathRequest {
    std::optional<std::string> source;  // node id; default: entry points
    std::optional<std::string> target;  // node id; default: criticality >= 4
    std::size_t k = 5;                  // 1..kMaxPathsK
    std::size_t max_hops = 6;           // 1..kMaxPathHops
    std::chrono::milliseconds budget{200};
};

struct TopologyRequest {
    std::optional<std::int64_t> from_ms;  // edges last seen at or after
    std::optional<std::int64_t> to_ms;    // edges first seen before
    std::optional<std::string> subnet;    // CIDR: edges with an endpoint inside
    std::uint64_t min_bytes = 0;
    std::uint64_t min_count = 0;
    std::size_t node_limit = 300;  // above it, nodes are grouped
    std::string group_by = "auto";  // auto (subnet), subnet, tag, none
    std::chrono::milliseconds budget{500};
};

struct ThreatMapRequest {
    std::optional<std::int64_t> from_ms;
    std::optional<std::int64_t> to_ms;
};

struct UserBehaviorRequest {
    std::optional<std::string> user;
    std::size_t limit = 50;
};

struct GraphStats {
    std::size_t nodes = 0;
    std::size_t edges = 0;
    std::size_t memory_bytes = 0;
    std::uint64_t events = 0;
    std::uint64_t detections = 0;
    std::size_t users = 0;
    std::int64_t snapshot_at = 0;
    std::int64_t centrality_at = 0;
};

/// Owned by the composition root; outlives the pipeline stage and the routes.
class GraphService {
public:
    /// `alerts` (open alerts linked at start) and `geoip` may be null.
    GraphService(storage::GraphStore& store, storage::AlertStore* alerts, const GeoIp* geoip, GraphOptions options = {});
    ~GraphService();

    /// Loads assets, the latest snapshot and the open alerts. A malformed
    /// snapshot is logged and skipped (the graph starts empty), never fatal.
    core::Result<void> start();

    /// Before detection: marks logins (authentication events with a user) that fall in
    /// an hour under 2% of the user's baseline with the extra fields
    /// `ueba.unusual_hour: true` and `ueba.hour_share`, for rules to use. Reads only.
    void annotate(std::vector<model::Event>& batch) const;
    /// Folds a committed batch into the graph; returns the detections it raised.
    std::vector<model::Detection> observe(const std::vector<model::Event>& batch);
    /// Links open alerts to their entities; closed ones are unlinked.
    void on_alerts(const std::vector<model::Alert>& alerts);

    /// Ages the graph and the detector state; `now_ms` is wall time.
    void maintain(std::int64_t now_ms);
    void refresh_centrality();
    core::Result<void> save_snapshot(std::int64_t now_ms);
    /// Stores hosts first seen in traffic as discovered assets. Returns how many.
    core::Result<std::size_t> flush_discovered(std::int64_t now_ms);
    /// Re-reads the assets (a CSV import by another process). Cheap enough for every minute.
    core::Result<void> reload_assets();

    core::Result<std::vector<model::Asset>> list_assets(const storage::AssetQuery& query);
    core::Result<model::Asset> get_asset(const std::string& id);
    /// A create replaces a discovered asset of the same name (keeping its id).
    core::Result<model::Asset> create_asset(const boost::json::object& body, std::int64_t now_ms);
    core::Result<model::Asset> update_asset(const std::string& id, const boost::json::object& body, std::int64_t now_ms);
    core::Result<void> delete_asset(const std::string& id);
    /// Inserts or updates by name (CSV import); returns true when created.
    core::Result<bool> upsert_asset_by_name(model::Asset asset, std::int64_t now_ms);

    /// NotFound for unknown node ids; InvalidArgument for k / max_hops out of range.
    core::Result<boost::json::object> attack_paths(const AttackPathRequest& request) const;
    core::Result<boost::json::object> topology(const TopologyRequest& request) const;
    boost::json::object threat_map(const ThreatMapRequest& request) const;
    /// NotFound for an unknown user.
    core::Result<boost::json::object> user_behavior(const UserBehaviorRequest& request) const;

    GraphStats stats() const;

    struct State;

private:
    /// Deletes discovered assets whose addresses a declared asset now claims.
    core::Result<void> retire_discovered(const model::Asset& declared);

    storage::GraphStore& store_;
    storage::AlertStore* alerts_;
    const GeoIp* geoip_;
    GraphOptions options_;
    mutable std::shared_mutex mutex_;
    std::unique_ptr<State> state_;
};

}  // namespace sai::graph
