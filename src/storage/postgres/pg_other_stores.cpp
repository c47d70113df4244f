// Templates, reports, the asset graph and ML metadata on PostgreSQL.

#include "pg_stores.hpp"

namespace sai::storage::pg {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kReportColumns =
    "id, type, format, status, error, created_by, created_at, finished_at, from_ms, to_ms, filters, size_bytes";

model::Report read_report(const Rows& s, int i) {
    model::Report r;
    r.id = s.str(i, 0);
    r.type = s.str(i, 1);
    r.format = s.str(i, 2);
    r.status = model::parse_report_status(s.str(i, 3)).value_or(model::ReportStatus::Failed);
    r.error = s.str(i, 4);
    r.created_by = s.str(i, 5);
    r.created_at = s.i64(i, 6);
    r.finished_at = s.i64(i, 7);
    r.from_ms = s.i64(i, 8);
    r.to_ms = s.i64(i, 9);
    r.filters = s.str(i, 10);
    r.size_bytes = s.i64(i, 11);
    return r;
}

Params report_params(const model::Report& r) {
    return {r.id, r.type, r.format, model::to_string(r.status), r.error, r.created_by, r.created_at, r.finished_at,
            r.from_ms, r.to_ms, r.filters.empty() ? std::string("{}") : r.filters, r.size_bytes};
}

Result<std::vector<model::Report>> read_reports(const Result<Rows>& r) {
    if (!r) return r.error();
    std::vector<model::Report> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_report(*r, i));
    return out;
}

constexpr std::string_view kAssetColumns =
    "id, name, ips, hostnames, type, criticality, internet_facing, owner, tags, discovered, created_at, updated_at";

model::Asset read_asset(const Rows& s, int i) {
    model::Asset a;
    a.id = s.str(i, 0);
    a.name = s.str(i, 1);
    a.ips = strings_from_json_array(s.str(i, 2));
    a.hostnames = strings_from_json_array(s.str(i, 3));
    a.type = model::parse_asset_type(s.str(i, 4)).value_or(model::AssetType::Server);
    a.criticality = static_cast<int>(s.i64(i, 5));
    a.internet_facing = s.boolean(i, 6);
    a.owner = s.str(i, 7);
    a.tags = strings_from_json_array(s.str(i, 8));
    a.discovered = s.boolean(i, 9);
    a.created_at = s.i64(i, 10);
    a.updated_at = s.i64(i, 11);
    return a;
}

constexpr std::string_view kModelColumns =
    "id, type, version, created_at, window_from, window_to, rows, params, schema_name, schema_version, metrics, "
    "status, training_id";

}  // namespace

// ---- templates

Result<void> PgTemplateStore::save_templates(std::span<const TemplateRecord> templates) {
    if (templates.empty()) return {};
    static const std::string kUpsert =
        upsert_statement("log_templates", "id, format, text, count, first_seen, last_seen", "id");
    return db_.pool.with([&](Conn& c) -> Result<void> {
        return transaction(c, [&]() -> Result<void> {
            for (const auto& t : templates) {
                auto r = c.query(kUpsert, {storable(t.id), storable(t.format), storable(t.text), t.count, t.first_seen,
                                           t.last_seen});
                if (!r) return r.error();
            }
            return {};
        });
    });
}

Result<void> PgTemplateStore::delete_templates(std::span<const std::string> ids) {
    if (ids.empty()) return {};
    std::vector<std::optional<std::string>> list(ids.begin(), ids.end());
    auto r = run(db_, "DELETE FROM log_templates WHERE id = ANY ($1::text[])", {array_literal(list)});
    if (!r) return r.error();
    return {};
}

Result<std::vector<TemplateRecord>> PgTemplateStore::load_templates() {
    auto r = run(db_, "SELECT id, format, text, count, first_seen, last_seen FROM log_templates ORDER BY id");
    if (!r) return r.error();
    std::vector<TemplateRecord> out;
    for (int i = 0; i < r->size(); ++i) {
        out.push_back({r->str(i, 0), r->str(i, 1), r->str(i, 2), r->i64(i, 3), r->i64(i, 4), r->i64(i, 5)});
    }
    return out;
}

// ---- reports

Result<void> PgReportStore::insert(const model::Report& r) {
    auto done = run(db_, "INSERT INTO reports (" + std::string(kReportColumns) +
                             ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    report_params(r));
    if (!done) return done.error();
    return {};
}

Result<void> PgReportStore::update(const model::Report& r) {
    return exec_one(db_,
                    "UPDATE reports SET type = $2, format = $3, status = $4, error = $5, created_by = $6, "
                    "created_at = $7, finished_at = $8, from_ms = $9, to_ms = $10, filters = $11, size_bytes = $12 "
                    "WHERE id = $1",
                    report_params(r), "report");
}

Result<model::Report> PgReportStore::get(std::string_view id) {
    auto r = run(db_, "SELECT " + std::string(kReportColumns) + " FROM reports WHERE id = $1", {id});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "report not found");
    return read_report(*r, 0);
}

Result<std::vector<model::Report>> PgReportStore::list(const ReportQuery& q) {
    // Fixed placeholders: an absent filter binds NULL and matches everything.
    return read_reports(run(
        db_,
        "SELECT " + std::string(kReportColumns) +
            " FROM reports WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR status = $2) "
            "AND ($3::text IS NULL OR created_by = $3) AND ($4::bigint IS NULL OR created_at < $4 OR "
            "(created_at = $4 AND id < $5::text)) ORDER BY created_at DESC, id DESC LIMIT $6",
        {q.type, q.status ? P(model::to_string(*q.status)) : P(std::nullopt), q.created_by,
         q.before ? P(q.before->first) : P(std::nullopt), q.before ? P(q.before->second) : P(std::nullopt),
         q.limit}));
}

Result<void> PgReportStore::remove(std::string_view id) {
    return exec_one(db_, "DELETE FROM reports WHERE id = $1", {id}, "report");
}

Result<std::vector<model::Report>> PgReportStore::created_before(std::int64_t before_ms, std::size_t limit) {
    return read_reports(run(db_,
                            "SELECT " + std::string(kReportColumns) +
                                " FROM reports WHERE created_at < $1 ORDER BY created_at, id LIMIT $2",
                            {before_ms, limit}));
}

Result<std::vector<model::Report>> PgReportStore::unfinished() {
    return read_reports(run(db_, "SELECT " + std::string(kReportColumns) +
                                     " FROM reports WHERE status IN ('queued', 'running') ORDER BY created_at, id "
                                     "LIMIT 10000"));
}

// ---- graph

Result<void> PgGraphStore::put_asset(const model::Asset& a) {
    static const std::string kUpsert = upsert_statement("assets", kAssetColumns, "id");
    return db_.pool.with([&](Conn& c) -> Result<void> {
        // An upsert by id must not take over a *different* asset's name: the unique
        // index on lower(name) refuses it, also when two nodes race.
        // Discovered assets carry names from events: stored as PostgreSQL can hold them.
        auto r = c.query(kUpsert, {a.id, storable(a.name), storable(json_string_array(a.ips)),
                                   storable(json_string_array(a.hostnames)), model::to_string(a.type), a.criticality,
                                   a.internet_facing, storable(a.owner), storable(json_string_array(a.tags)),
                                   a.discovered, a.created_at, a.updated_at});
        if (!r && r.error().code == Errc::Conflict) {
            return make_error(Errc::Conflict, "an asset named '" + a.name + "' already exists");
        }
        if (!r) return r.error();
        return {};
    });
}

Result<model::Asset> PgGraphStore::get_asset(std::string_view id) {
    auto r = run(db_, "SELECT " + std::string(kAssetColumns) + " FROM assets WHERE id = $1", {id});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "no asset '" + std::string(id) + "'");
    return read_asset(*r, 0);
}

Result<model::Asset> PgGraphStore::find_asset_by_name(std::string_view name) {
    auto r = run(db_, "SELECT " + std::string(kAssetColumns) + " FROM assets WHERE lower(name) = lower($1)", {name});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "no asset '" + std::string(name) + "'");
    return read_asset(*r, 0);
}

Result<std::vector<model::Asset>> PgGraphStore::list_assets(const AssetQuery& q) {
    auto r = run(db_,
                 "SELECT " + std::string(kAssetColumns) +
                     " FROM assets WHERE ($1::text IS NULL OR type = $1) AND ($2::boolean IS NULL OR discovered = $2)"
                     " AND ($3::text IS NULL OR tags ? $3)"
                     " AND ($4::text IS NULL OR strpos(lower(name || ' ' || hostnames || ' ' || ips), lower($4)) > 0)"
                     " ORDER BY lower(name), name LIMIT $5 OFFSET $6",
                 {q.type ? P(model::to_string(*q.type)) : P(std::nullopt),
                  q.discovered ? P(*q.discovered) : P(std::nullopt), q.tag, q.text,
                  q.limit == 0 ? P(std::nullopt) : P(q.limit), q.offset});
    if (!r) return r.error();
    std::vector<model::Asset> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_asset(*r, i));
    return out;
}

Result<void> PgGraphStore::delete_asset(std::string_view id) {
    auto r = run(db_, "DELETE FROM assets WHERE id = $1", {id});
    if (!r) return r.error();
    if (r->affected() == 0) return make_error(Errc::NotFound, "no asset '" + std::string(id) + "'");
    return {};
}

Result<void> PgGraphStore::save_snapshot(const GraphSnapshot& snapshot) {
    // bytea in hex form, so any byte (NUL included) round-trips.
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex = "\\x";
    hex.reserve(2 + snapshot.data.size() * 2);
    for (unsigned char ch : snapshot.data) {
        hex += kHex[ch >> 4];
        hex += kHex[ch & 15];
    }
    auto r = run(db_,
                 "INSERT INTO graph_snapshots (id, created_at, data) VALUES (1, $1, $2::bytea) ON CONFLICT (id) "
                 "DO UPDATE SET created_at = excluded.created_at, data = excluded.data",
                 {snapshot.created_at, hex});
    if (!r) return r.error();
    return {};
}

Result<std::optional<GraphSnapshot>> PgGraphStore::load_snapshot() {
    auto r = run(db_, "SELECT created_at, data FROM graph_snapshots WHERE id = 1");
    if (!r) return r.error();
    if (r->empty()) return std::optional<GraphSnapshot>();
    return std::optional<GraphSnapshot>(GraphSnapshot{r->i64(0, 0), r->bytes(0, 1)});
}

// ---- ML

Result<void> PgMlStore::upsert_model(const MlModelRecord& m) {
    static const std::string kUpsert = upsert_statement("ml_models", kModelColumns, "id");
    auto r = run(db_, kUpsert,
                 {m.id, m.type, m.version, m.created_at, m.window_from, m.window_to, m.rows,
                  m.params.empty() ? std::string("{}") : m.params, m.schema_name, m.schema_version,
                  m.metrics.empty() ? std::string("{}") : m.metrics, m.status, m.training_id});
    if (!r) return r.error();
    return {};
}

Result<std::vector<MlModelRecord>> PgMlStore::models() {
    auto r = run(db_, "SELECT " + std::string(kModelColumns) + " FROM ml_models ORDER BY type, version");
    if (!r) return r.error();
    std::vector<MlModelRecord> out;
    for (int i = 0; i < r->size(); ++i) {
        MlModelRecord m;
        m.id = r->str(i, 0);
        m.type = r->str(i, 1);
        m.version = r->i64(i, 2);
        m.created_at = r->i64(i, 3);
        m.window_from = r->i64(i, 4);
        m.window_to = r->i64(i, 5);
        m.rows = r->i64(i, 6);
        m.params = r->str(i, 7);
        m.schema_name = r->str(i, 8);
        m.schema_version = r->i64(i, 9);
        m.metrics = r->str(i, 10);
        m.status = r->str(i, 11);
        m.training_id = r->str(i, 12);
        out.push_back(std::move(m));
    }
    return out;
}

Result<void> PgMlStore::upsert_training_job(const TrainingJobRecord& j) {
    static const std::string kUpsert =
        upsert_statement("ml_training_jobs", "id, state, created_at, finished_at, job", "id");
    auto r = run(db_, kUpsert, {j.id, j.state, j.created_at, j.finished_at, j.job.empty() ? std::string("{}") : j.job});
    if (!r) return r.error();
    return {};
}

Result<std::vector<TrainingJobRecord>> PgMlStore::training_jobs(std::size_t limit) {
    auto r = run(db_, "SELECT id, state, created_at, finished_at, job FROM ml_training_jobs ORDER BY id DESC LIMIT $1",
                 {limit});
    if (!r) return r.error();
    std::vector<TrainingJobRecord> out;
    for (int i = 0; i < r->size(); ++i) {
        out.push_back({r->str(i, 0), r->str(i, 1), r->i64(i, 2), r->i64(i, 3), r->str(i, 4)});
    }
    return out;
}

}  // namespace sai::storage::pg
