#pragma once
// Private: the SQLite ReportStore (table `reports`, migration 6).

#include "sqlite_db.hpp"
#include "storage/report_store.hpp"

namespace sai::storage::sqlite {

class SqliteReportStore final : public ReportStore {
public:
    explicit SqliteReportStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> insert(const model::Report& report) override;
    core::Result<void> update(const model::Report& report) override;
    core::Result<model::Report> get(std::string_view id) override;
    core::Result<std::vector<model::Report>> list(const ReportQuery& query) override;
    core::Result<void> remove(std::string_view id) override;
    core::Result<std::vector<model::Report>> created_before(std::int64_t before_ms, std::size_t limit) override;
    core::Result<std::vector<model::Report>> unfinished() override;

private:
    SqliteStore::Impl& db_;
};

}  // namespace sai::storage::sqlite
