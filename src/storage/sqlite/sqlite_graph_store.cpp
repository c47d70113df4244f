#include "sqlite_graph_store.hpp"

#include <boost/json.hpp>

namespace sai::storage::sqlite {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kColumns =
    "id, name, ips, hostnames, type, criticality, internet_facing, owner, tags, discovered, created_at, updated_at";

model::Asset read_asset(sqlite3_stmt* s) {
    model::Asset a;
    a.id = column_text(s, 0);
    a.name = column_text(s, 1);
    a.ips = strings_from_json_array(column_text(s, 2));
    a.hostnames = strings_from_json_array(column_text(s, 3));
    a.type = model::parse_asset_type(column_text(s, 4)).value_or(model::AssetType::Server);
    a.criticality = sqlite3_column_int(s, 5);
    a.internet_facing = sqlite3_column_int(s, 6) != 0;
    a.owner = column_text(s, 7);
    a.tags = strings_from_json_array(column_text(s, 8));
    a.discovered = sqlite3_column_int(s, 9) != 0;
    a.created_at = sqlite3_column_int64(s, 10);
    a.updated_at = sqlite3_column_int64(s, 11);
    return a;
}

}  // namespace

Result<void> SqliteGraphStore::put_asset(const model::Asset& a) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "INSERT OR REPLACE INTO assets (" + std::string(kColumns) +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        // INSERT OR REPLACE would also replace a *different* asset holding the same
        // name (UNIQUE): check first, under the writer lock.
        auto same_name = prepare(db, "SELECT id FROM assets WHERE name = ?1 AND id <> ?2");
        if (!same_name) return same_name.error();
        bind_text(same_name->get(), 1, a.name);
        bind_text(same_name->get(), 2, a.id);
        const int rc = sqlite3_step(same_name->get());
        if (rc == SQLITE_ROW) return make_error(Errc::Conflict, "an asset named '" + a.name + "' already exists");
        if (rc != SQLITE_DONE) return error_from(db, "check asset name");
        bind_text(s, 1, a.id);
        bind_text(s, 2, a.name);
        bind_text(s, 3, json_string_array(a.ips));
        bind_text(s, 4, json_string_array(a.hostnames));
        bind_text(s, 5, model::to_string(a.type));
        sqlite3_bind_int(s, 6, a.criticality);
        sqlite3_bind_int(s, 7, a.internet_facing ? 1 : 0);
        bind_text(s, 8, a.owner);
        bind_text(s, 9, json_string_array(a.tags));
        sqlite3_bind_int(s, 10, a.discovered ? 1 : 0);
        sqlite3_bind_int64(s, 11, a.created_at);
        sqlite3_bind_int64(s, 12, a.updated_at);
        if (sqlite3_step(s) != SQLITE_DONE) return error_from(db, "save asset");
        return {};
    });
}

Result<model::Asset> SqliteGraphStore::get_one(std::string_view column, std::string_view value) {
    return db_.with_reader([&](sqlite3* db) -> Result<model::Asset> {
        // `column` is one of two literals chosen in this file, never input.
        auto stmt = prepare(db, "SELECT " + std::string(kColumns) + " FROM assets WHERE " + std::string(column) + " = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, value);
        const int rc = sqlite3_step(stmt->get());
        if (rc == SQLITE_DONE) return make_error(Errc::NotFound, "no asset '" + std::string(value) + "'");
        if (rc != SQLITE_ROW) return error_from(db, "read asset");
        return read_asset(stmt->get());
    });
}

Result<model::Asset> SqliteGraphStore::get_asset(std::string_view id) { return get_one("id", id); }
Result<model::Asset> SqliteGraphStore::find_asset_by_name(std::string_view name) { return get_one("name", name); }

Result<std::vector<model::Asset>> SqliteGraphStore::list_assets(const AssetQuery& q) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Asset>> {
        auto stmt = prepare(db, "SELECT " + std::string(kColumns) +
                                    " FROM assets WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR discovered = ?2)"
                                    " AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?3))"
                                    " AND (?4 IS NULL OR instr(lower(name || ' ' || hostnames || ' ' || ips), lower(?4)) > 0)"
                                    " ORDER BY name LIMIT ?5 OFFSET ?6");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        if (q.type) bind_text(s, 1, model::to_string(*q.type));
        if (q.discovered) sqlite3_bind_int(s, 2, *q.discovered ? 1 : 0);
        if (q.tag) bind_text(s, 3, *q.tag);
        if (q.text) bind_text(s, 4, *q.text);
        sqlite3_bind_int64(s, 5, q.limit == 0 ? -1 : static_cast<sqlite3_int64>(q.limit));
        sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(q.offset));
        std::vector<model::Asset> out;
        for (;;) {
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW) return error_from(db, "list assets");
            out.push_back(read_asset(s));
        }
    });
}

Result<void> SqliteGraphStore::delete_asset(std::string_view id) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "DELETE FROM assets WHERE id = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, id);
        if (sqlite3_step(stmt->get()) != SQLITE_DONE) return error_from(db, "delete asset");
        if (sqlite3_changes(db) == 0) return make_error(Errc::NotFound, "no asset '" + std::string(id) + "'");
        return {};
    });
}

Result<void> SqliteGraphStore::save_snapshot(const GraphSnapshot& snapshot) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "INSERT OR REPLACE INTO graph_snapshots (id, created_at, data) VALUES (1, ?1, ?2)");
        if (!stmt) return stmt.error();
        sqlite3_bind_int64(stmt->get(), 1, snapshot.created_at);
        sqlite3_bind_blob64(stmt->get(), 2, snapshot.data.data(), snapshot.data.size(), SQLITE_STATIC);
        if (sqlite3_step(stmt->get()) != SQLITE_DONE) return error_from(db, "save graph snapshot");
        return {};
    });
}

Result<std::optional<GraphSnapshot>> SqliteGraphStore::load_snapshot() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::optional<GraphSnapshot>> {
        auto stmt = prepare(db, "SELECT created_at, data FROM graph_snapshots WHERE id = 1");
        if (!stmt) return stmt.error();
        const int rc = sqlite3_step(stmt->get());
        if (rc == SQLITE_DONE) return std::optional<GraphSnapshot>();
        if (rc != SQLITE_ROW) return error_from(db, "load graph snapshot");
        GraphSnapshot g;
        g.created_at = sqlite3_column_int64(stmt->get(), 0);
        const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt->get(), 1));
        g.data.assign(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt->get(), 1)));
        return std::optional<GraphSnapshot>(std::move(g));
    });
}

}  // namespace sai::storage::sqlite
