#pragma once
// Private to the PostgreSQL backend: the aggregate stores, each a thin layer of
// SQL over the shared pool.

#include "pg_db.hpp"
#include "storage/common/json_columns.hpp"

#include <map>
#include <set>

namespace sai::storage::pg {

class PgUserStore final : public UserStore {
public:
    explicit PgUserStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> create(const model::User& user) override;
    core::Result<model::User> get(std::string_view id) override;
    core::Result<model::User> find_by_username(std::string_view username) override;
    core::Result<std::vector<model::User>> list(std::size_t limit, std::string_view after) override;
    core::Result<void> update(const model::User& user) override;
    core::Result<void> remove(std::string_view id) override;
    core::Result<std::size_t> count() override;

private:
    PgStore::Impl& db_;
};

class PgTokenStore final : public TokenStore {
public:
    explicit PgTokenStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> insert_refresh(const RefreshTokenRecord& record) override;
    core::Result<RefreshTokenRecord> use_refresh(std::string_view token_hash) override;
    core::Result<void> revoke_family(std::string_view family_id) override;
    core::Result<void> revoke_user_refresh(std::string_view user_id) override;
    core::Result<void> revoke_access(std::string_view jti, std::int64_t expires_at) override;
    core::Result<std::vector<std::pair<std::string, std::int64_t>>> revoked_access(std::int64_t now) override;
    core::Result<std::size_t> purge_expired(std::int64_t now) override;

private:
    PgStore::Impl& db_;
};

class PgApiKeyStore final : public ApiKeyStore {
public:
    explicit PgApiKeyStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> insert(const model::ApiKey& key) override;
    core::Result<model::ApiKey> get(std::string_view id) override;
    core::Result<std::vector<model::ApiKey>> list() override;
    core::Result<void> revoke(std::string_view id) override;
    core::Result<void> touch(std::string_view id, std::string_view used_at) override;

private:
    PgStore::Impl& db_;
};

class PgAuditStore final : public AuditStore {
public:
    explicit PgAuditStore(PgStore::Impl& db) : db_(db) {}
    core::Result<AuditRecord> append(AuditRecord record, std::string_view genesis,
                                     const std::function<std::string(const AuditRecord&)>& seal) override;
    core::Result<std::optional<AuditRecord>> last() override;
    core::Result<std::vector<AuditRecord>> query(const AuditQuery& query) override;
    core::Result<void> scan(const std::function<bool(const AuditRecord&)>& visit) override;

private:
    PgStore::Impl& db_;
};

class PgEventStore final : public EventStore {
public:
    explicit PgEventStore(PgStore::Impl& db) : db_(db) {}
    core::Result<InsertResult> insert_batch(std::span<const model::Event> events) override;
    core::Result<model::Event> get(std::string_view id) override;
    core::Result<std::vector<model::Event>> query(const EventQuery& query) override;
    core::Result<std::int64_t> count() override;
    core::Result<std::map<std::string, std::int64_t>> count_by_category() override;
    core::Result<std::size_t> delete_before(std::int64_t before_ms, std::size_t max_rows) override;

private:
    /// Creates the day partitions `days` (days since the epoch) that this process
    /// has not seen yet; safe against other nodes creating them at the same time.
    core::Result<void> ensure_partitions(Conn& c, const std::set<std::int64_t>& days);
    core::Result<InsertResult> insert_once(Conn& c, std::span<const model::Event> events);
    PgStore::Impl& db_;
    std::mutex partitions_mutex_;
    std::set<std::int64_t> partitions_;  // days known to have a partition
};

class PgAlertStore final : public AlertStore {
public:
    explicit PgAlertStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> save(std::span<const model::Alert> alerts, std::span<const model::AlertChange> changes) override;
    core::Result<model::Alert> get(std::string_view id) override;
    core::Result<model::Alert> find_open(std::string_view fingerprint, std::int64_t since_ms) override;
    core::Result<std::vector<model::Alert>> query(const AlertQuery& query) override;
    core::Result<std::vector<model::AlertChange>> history(std::string_view alert_id) override;
    core::Result<std::vector<std::pair<std::string, std::int64_t>>> count_by_status() override;
    core::Result<std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>>>
    count_by_severity_and_status() override;
    core::Result<AlertSummary> summary(std::int64_t from_ms, std::int64_t to_ms) override;
    core::Result<void> add_suppression(const model::Suppression& s) override;
    core::Result<std::vector<model::Suppression>> suppressions() override;
    core::Result<void> delete_suppression(std::string_view id) override;
    core::Result<void> add_suppression_hits(std::span<const std::pair<std::string, std::int64_t>> hits) override;
    core::Result<void> block(const model::BlockedAddress& b) override;
    core::Result<void> unblock(std::string_view ip) override;
    core::Result<std::vector<model::BlockedAddress>> blocklist(std::int64_t now_ms) override;
    core::Result<void> add_labels(std::span<const model::AlertLabel> labels) override;
    core::Result<std::vector<model::AlertLabel>> labels(std::int64_t since_ms, std::size_t limit) override;

private:
    PgStore::Impl& db_;
};

class PgTemplateStore final : public TemplateStore {
public:
    explicit PgTemplateStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> save_templates(std::span<const TemplateRecord> templates) override;
    core::Result<void> delete_templates(std::span<const std::string> ids) override;
    core::Result<std::vector<TemplateRecord>> load_templates() override;

private:
    PgStore::Impl& db_;
};

class PgReportStore final : public ReportStore {
public:
    explicit PgReportStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> insert(const model::Report& report) override;
    core::Result<void> update(const model::Report& report) override;
    core::Result<model::Report> get(std::string_view id) override;
    core::Result<std::vector<model::Report>> list(const ReportQuery& query) override;
    core::Result<void> remove(std::string_view id) override;
    core::Result<std::vector<model::Report>> created_before(std::int64_t before_ms, std::size_t limit) override;
    core::Result<std::vector<model::Report>> unfinished() override;

private:
    PgStore::Impl& db_;
};

class PgGraphStore final : public GraphStore {
public:
    explicit PgGraphStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> put_asset(const model::Asset& asset) override;
    core::Result<model::Asset> get_asset(std::string_view id) override;
    core::Result<model::Asset> find_asset_by_name(std::string_view name) override;
    core::Result<std::vector<model::Asset>> list_assets(const AssetQuery& query) override;
    core::Result<void> delete_asset(std::string_view id) override;
    core::Result<void> save_snapshot(const GraphSnapshot& snapshot) override;
    core::Result<std::optional<GraphSnapshot>> load_snapshot() override;

private:
    PgStore::Impl& db_;
};

class PgMlStore final : public MlStore {
public:
    explicit PgMlStore(PgStore::Impl& db) : db_(db) {}
    core::Result<void> upsert_model(const MlModelRecord& model) override;
    core::Result<std::vector<MlModelRecord>> models() override;
    core::Result<void> upsert_training_job(const TrainingJobRecord& job) override;
    core::Result<std::vector<TrainingJobRecord>> training_jobs(std::size_t limit) override;

private:
    PgStore::Impl& db_;
};

/// JSON helpers shared with the SQLite backend's formats.
std::string json_string_array(const std::vector<std::string>& values);

/// "INSERT ... ON CONFLICT (key) DO UPDATE SET ..." over `columns` ($1.. in order).
std::string upsert_statement(std::string_view table, std::string_view columns, std::string_view key);
/// Runs a statement through the pool; NotFound (`what`) when it changed no row.
core::Result<void> exec_one(PgStore::Impl& db, std::string_view sql, const Params& params, std::string_view what);
/// Runs a statement through the pool.
core::Result<Rows> run(PgStore::Impl& db, std::string_view sql, const Params& params = {});

}  // namespace sai::storage::pg
