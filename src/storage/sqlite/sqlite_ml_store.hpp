#pragma once
// Private: the SQLite MlStore (tables `ml_models` and `ml_training_jobs`, migration 7).

#include "sqlite_db.hpp"
#include "storage/ml_store.hpp"

namespace sai::storage::sqlite {

class SqliteMlStore final : public MlStore {
public:
    explicit SqliteMlStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> upsert_model(const MlModelRecord& model) override;
    core::Result<std::vector<MlModelRecord>> models() override;
    core::Result<void> upsert_training_job(const TrainingJobRecord& job) override;
    core::Result<std::vector<TrainingJobRecord>> training_jobs(std::size_t limit) override;

private:
    SqliteStore::Impl& db_;
};

}  // namespace sai::storage::sqlite
