#pragma once
// Private: the SQLite TemplateStore (log_templates).

#include "sqlite_db.hpp"
#include "storage/template_store.hpp"

namespace sai::storage::sqlite {

class SqliteTemplateStore final : public TemplateStore {
public:
    explicit SqliteTemplateStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> save_templates(std::span<const TemplateRecord> templates) override;
    core::Result<void> delete_templates(std::span<const std::string> ids) override;
    core::Result<std::vector<TemplateRecord>> load_templates() override;

private:
    SqliteStore::Impl& db_;
};

}  // namespace sai::storage::sqlite
