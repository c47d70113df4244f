#pragma once
// Private: the SQLite GraphStore (assets, graph_snapshots).

#include "sqlite_db.hpp"
#include "storage/graph_store.hpp"

namespace sai::storage::sqlite {

class SqliteGraphStore final : public GraphStore {
public:
    explicit SqliteGraphStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> put_asset(const model::Asset& asset) override;
    core::Result<model::Asset> get_asset(std::string_view id) override;
    core::Result<model::Asset> find_asset_by_name(std::string_view name) override;
    core::Result<std::vector<model::Asset>> list_assets(const AssetQuery& query) override;
    core::Result<void> delete_asset(std::string_view id) override;
    core::Result<void> save_snapshot(const GraphSnapshot& snapshot) override;
    core::Result<std::optional<GraphSnapshot>> load_snapshot() override;

private:
    core::Result<model::Asset> get_one(std::string_view column, std::string_view value);
    SqliteStore::Impl& db_;
};

}  // namespace sai::storage::sqlite
