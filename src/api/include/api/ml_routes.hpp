#pragma once
// /api/v1/train*, /api/v1/models*, /api/v1/metrics/ml and /api/v1/metrics/drift:
// training jobs (admin), the model registry (activation, rollback) and the
// figures of the models at work (inference, predictions, drift).

#include "api/router.hpp"
#include "ml/registry.hpp"
#include "ml/scorer.hpp"
#include "ml/training_service.hpp"

#include <functional>
#include <string>

namespace sai::api {

/// Everything the ML routes use; must outlive the router.
struct MlServices {
    ml::ModelRegistry& registry;
    ml::TrainingService& training;
    const ml::EventScorer& scorer;
    /// Optional: called after an activation changed the registry (the store mirrors it).
    std::function<void()> models_changed;
};

void add_ml_routes(Router& router, MlServices& services);

/// The JSON objects of /api/v1/metrics/ml and /api/v1/metrics/drift, as text
/// (also the "ml" section of /api/v1/metrics).
std::string ml_metrics_json(MlServices& services);
std::string ml_drift_json(MlServices& services);
/// The "models" component of /api/v1/monitor/status: active versions, "training" or "none".
std::string ml_status_json(MlServices& services);

}  // namespace sai::api
