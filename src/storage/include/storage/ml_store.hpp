#pragma once
// Metadata of the ML models and the training jobs that produce them (the
// model files live in <data_dir>/models, see ml/registry.hpp). The server
// mirrors the registry here after every change and journals every training
// job, so both survive a restart and are queryable with the rest of the data.

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sai::storage {

struct MlModelRecord {
    std::string id;    // "isolation_forest-v3"
    std::string type;  // isolation_forest, random_forest
    std::int64_t version = 0;
    std::int64_t created_at = 0;  // Unix ms
    std::int64_t window_from = 0;  // training window, Unix ms (0: open)
    std::int64_t window_to = 0;
    std::int64_t rows = 0;        // training rows
    std::string params = "{}";    // JSON object text
    std::string schema_name;
    std::int64_t schema_version = 0;
    std::string metrics = "{}";   // JSON object text: holdout figures
    std::string status;           // active, candidate, retired
    std::string training_id;      // the job that trained it ("" for models from the CLI)
};

struct TrainingJobRecord {
    std::string id;
    std::string state;  // queued, running, succeeded, failed, cancelled
    std::int64_t created_at = 0;
    std::int64_t finished_at = 0;
    std::string job;  // the whole job as JSON object text (ml::training_job_to_json)
};

/// Thread-safe; synchronous (callers on I/O threads use the blocking pool).
class MlStore {
public:
    virtual ~MlStore() = default;

    /// Inserts or replaces the model with this id.
    virtual core::Result<void> upsert_model(const MlModelRecord& model) = 0;
    /// Every model, by type then version.
    virtual core::Result<std::vector<MlModelRecord>> models() = 0;
    /// Inserts or replaces the job with this id.
    virtual core::Result<void> upsert_training_job(const TrainingJobRecord& job) = 0;
    /// The newest `limit` jobs, newest first (by id: UUIDv7).
    virtual core::Result<std::vector<TrainingJobRecord>> training_jobs(std::size_t limit) = 0;
};

}  // namespace sai::storage
