#pragma once
// Durable home of the graph subsystem's state: assets (declared and
// discovered) and the latest snapshot of the entity graph, restored at start.

#include "core/error.hpp"
#include "model/asset.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::storage {

struct AssetQuery {
    std::optional<model::AssetType> type;
    std::optional<bool> discovered;
    std::optional<std::string> tag;
    std::optional<std::string> text;  // in name, hostnames or ips
    std::size_t offset = 0;
    std::size_t limit = 100;  // 0: all
};

struct GraphSnapshot {
    std::int64_t created_at = 0;  // Unix ms
    std::string data;             // opaque to the store (graph::EntityGraph's format)
};

/// Thread-safe; synchronous.
class GraphStore {
public:
    virtual ~GraphStore() = default;

    /// Inserts or replaces by id. Conflict when another asset has the same name.
    virtual core::Result<void> put_asset(const model::Asset& asset) = 0;
    virtual core::Result<model::Asset> get_asset(std::string_view id) = 0;
    virtual core::Result<model::Asset> find_asset_by_name(std::string_view name) = 0;
    /// Ordered by name.
    virtual core::Result<std::vector<model::Asset>> list_assets(const AssetQuery& query) = 0;
    /// NotFound when absent.
    virtual core::Result<void> delete_asset(std::string_view id) = 0;

    /// Replaces the stored snapshot.
    virtual core::Result<void> save_snapshot(const GraphSnapshot& snapshot) = 0;
    /// The latest snapshot; nullopt when none was saved yet.
    virtual core::Result<std::optional<GraphSnapshot>> load_snapshot() = 0;
};

}  // namespace sai::storage
