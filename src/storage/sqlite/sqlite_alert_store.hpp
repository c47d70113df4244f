#pragma once
// Private: the SQLite AlertStore (alerts, alert_history, suppressions, blocklist, alert_labels).

#include "sqlite_db.hpp"
#include "storage/alert_store.hpp"

namespace sai::storage::sqlite {

class SqliteAlertStore final : public AlertStore {
public:
    explicit SqliteAlertStore(SqliteStore::Impl& db) : db_(db) {}
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
    SqliteStore::Impl& db_;
};

}  // namespace sai::storage::sqlite
