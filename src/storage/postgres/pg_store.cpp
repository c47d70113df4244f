#include "storage/postgres/pg_store.hpp"

#include "core/log.hpp"
#include "pg_stores.hpp"
#include "storage/common/migration_plan.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>


namespace sai::storage {
namespace pg {

std::string json_string_array(const std::vector<std::string>& values) {
    // jsonb refuses the \u0000 escape, so elements are made storable before serialising.
    boost::json::array out;
    for (const auto& v : values) out.emplace_back(storable(v));
    return model::to_json_text(out);
}


core::Result<Rows> run(PgStore::Impl& db, std::string_view sql, const Params& params) {
    return db.pool.with([&](Conn& c) { return c.query(sql, params); });
}

core::Result<void> exec_one(PgStore::Impl& db, std::string_view sql, const Params& params, std::string_view what) {
    auto r = run(db, sql, params);
    if (!r) return r.error();
    if (r->affected() == 0) return core::make_error(core::Errc::NotFound, std::string(what) + " not found");
    return {};
}

}  // namespace pg

namespace {

using pg::Conn;

// Every node that migrates takes this session lock first, so two nodes
// starting together apply each migration once (the other waits, then finds
// nothing to do). The key is arbitrary but fixed: "SAImigr" in ASCII.
constexpr std::int64_t kMigrationLock = 0x5341496d696772;

constexpr std::string_view kCreateMigrationsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at text NOT NULL
))sql";

core::Result<std::vector<AppliedMigration>> read_applied(Conn& c) {
    auto rows = c.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version");
    if (!rows) return rows.error();
    std::vector<AppliedMigration> out;
    for (int i = 0; i < rows->size(); ++i) {
        out.push_back({static_cast<int>(rows->i64(i, 0)), rows->str(i, 1), rows->str(i, 2)});
    }
    return out;
}

core::Result<std::vector<AppliedMigration>> apply_locked(Conn& c, const std::vector<Migration>& migrations,
                                                         bool allowed) {
    if (auto r = c.script(std::string(kCreateMigrationsTable)); !r) return r.error();
    auto applied = read_applied(c);
    if (!applied) return applied.error();
    auto pending = pending_migrations(*applied, migrations, allowed);
    if (!pending) return pending.error();
    std::vector<AppliedMigration> done;
    for (const Migration* mp : *pending) {
        const Migration& m = *mp;
        auto r = pg::transaction(c, [&]() -> core::Result<void> {
            if (auto e = c.script(m.sql); !e) {
                return core::make_error(e.error().code, "migration " + std::to_string(m.version) + " (" + m.name +
                                                            "): " + e.error().detail);
            }
            auto ins = c.query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, "
                "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) RETURNING applied_at",
                {m.version, m.name});
            if (!ins) return ins.error();
            done.push_back({m.version, m.name, ins->str(0, 0)});
            return {};
        });
        if (!r) return r.error();
        core::log::info("migration applied", {{"version", m.version}, {"name", m.name}, {"backend", "postgres"}});
    }
    return done;
}

core::Result<std::vector<AppliedMigration>> apply_pending(Conn& c, const std::vector<Migration>& migrations,
                                                          bool allowed) {
    if (auto r = c.query("SELECT pg_advisory_lock($1)", {static_cast<long>(kMigrationLock)}); !r) return r.error();
    auto result = apply_locked(c, migrations, allowed);
    if (!c.broken()) (void)c.query("SELECT pg_advisory_unlock($1)", {static_cast<long>(kMigrationLock)});
    return result;
}

}  // namespace

core::Result<std::unique_ptr<PgStore>> PgStore::open(const PgOptions& options, std::span<const Migration> migrations) {
    if (options.url.empty()) {
        return core::make_error(core::Errc::InvalidArgument, "PostgreSQL URL is empty");
    }
    for (std::size_t i = 1; i < migrations.size(); ++i) {
        SAI_CHECK(migrations[i - 1].version < migrations[i].version, "migrations must be in version order");
    }
    auto impl = std::make_unique<Impl>(options);
    impl->migrations.assign(migrations.begin(), migrations.end());
    auto applied = impl->pool.with(
        [&](Conn& c) { return apply_pending(c, impl->migrations, options.apply_migrations); });
    if (!applied) return applied.error();
    return std::unique_ptr<PgStore>(new PgStore(std::move(impl)));
}

struct PgStore::Aggregates {
    explicit Aggregates(Impl& impl)
        : users(impl), tokens(impl), api_keys(impl), audit(impl), events(impl), alerts(impl), templates(impl),
          reports(impl), graph(impl), ml(impl) {}
    pg::PgUserStore users;
    pg::PgTokenStore tokens;
    pg::PgApiKeyStore api_keys;
    pg::PgAuditStore audit;
    pg::PgEventStore events;
    pg::PgAlertStore alerts;
    pg::PgTemplateStore templates;
    pg::PgReportStore reports;
    pg::PgGraphStore graph;
    pg::PgMlStore ml;
};

PgStore::PgStore(std::unique_ptr<Impl> impl)
    : impl_(std::move(impl)), aggregates_(std::make_unique<Aggregates>(*impl_)) {}

PgStore::~PgStore() { close(); }

UserStore& PgStore::users() { return aggregates_->users; }
TokenStore& PgStore::tokens() { return aggregates_->tokens; }
ApiKeyStore& PgStore::api_keys() { return aggregates_->api_keys; }
AuditStore& PgStore::audit() { return aggregates_->audit; }
EventStore& PgStore::events() { return aggregates_->events; }
AlertStore& PgStore::alerts() { return aggregates_->alerts; }
TemplateStore& PgStore::templates() { return aggregates_->templates; }
ReportStore& PgStore::reports() { return aggregates_->reports; }
GraphStore& PgStore::graph() { return aggregates_->graph; }
MlStore& PgStore::ml() { return aggregates_->ml; }

core::Result<void> PgStore::check_health() {
    const int expected = impl_->migrations.empty() ? 0 : impl_->migrations.back().version;
    auto rows = pg::run(*impl_, "SELECT coalesce(max(version), 0), count(*) FROM schema_migrations");
    if (!rows) {
        return core::make_error(core::Errc::Unavailable,
                                rows.error().detail + " (circuit " + std::string(impl_->pool.breaker_state()) + ")");
    }
    const auto version = rows->i64(0, 0);
    const auto count = static_cast<std::size_t>(rows->i64(0, 1));
    if (version != expected || count != impl_->migrations.size()) {
        return core::make_error(core::Errc::Unavailable, "schema version " + std::to_string(version) + ", expected " +
                                                             std::to_string(expected) + " with every migration applied");
    }
    return {};
}

core::Result<std::vector<AppliedMigration>> PgStore::migrate() {
    return impl_->pool.with([&](Conn& c) { return apply_pending(c, impl_->migrations, true); });
}

core::Result<std::vector<AppliedMigration>> PgStore::applied_migrations() {
    return impl_->pool.with([](Conn& c) { return read_applied(c); });
}

void PgStore::close() { impl_->pool.close(); }

}  // namespace sai::storage
