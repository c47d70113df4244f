#pragma once
// Keeps the store's ML tables (migration 7) in step with the model registry
// and the training service: model metadata mirrored after every change, every
// training job journaled, and the journal read back at start-up.

#include "ml/registry.hpp"
#include "ml/training_service.hpp"
#include "storage/ml_store.hpp"

#include <vector>

namespace sai::app {

/// Writes the metadata of every registry version to the store (upserts). Logs failures.
void mirror_models(const ml::ModelRegistry& registry, storage::MlStore& store);
/// Stores one job's current state. Logs failures.
void record_training_job(const ml::TrainingJob& job, storage::MlStore& store);
/// The newest `limit` jobs of earlier runs (unreadable ones are logged and skipped).
std::vector<ml::TrainingJob> load_training_jobs(storage::MlStore& store, std::size_t limit);

}  // namespace sai::app
