#pragma once
// Versioned models in a directory, with metadata, one active model per kind,
// promotion by holdout metrics, and rollback.
//
// Layout: <dir>/<id>.saim (the model file, see model_file.hpp) and
// <dir>/<id>.json (ModelInfo). Ids are "<kind>-v<version>", versions count
// up per kind from 1. Files are written atomically (temporary + rename).

#include "core/error.hpp"
#include "ml/model_file.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sai::ml {

enum class ModelStatus { Candidate, Active, Retired };
std::string_view to_string(ModelStatus status);

/// What the registry knows about one model version.
struct ModelInfo {
    std::string id;
    ModelKind kind = ModelKind::IsolationForest;
    std::uint32_t version = 0;
    std::int64_t created_at = 0;  // Unix milliseconds
    std::uint64_t rows = 0;       // training rows
    std::map<std::string, std::string> params;
    std::string schema_name;
    std::uint32_t schema_version = 0;
    std::map<std::string, double> metrics;  // holdout figures, higher is better (auc, accuracy, macro_f1...)
    ModelStatus status = ModelStatus::Candidate;
};

/// When a candidate may replace the active model.
struct PromotionPolicy {
    double tolerance = 0.01;  // a metric may be this much lower than the active model's
    bool force = false;       // promote whatever the metrics say
    /// Metrics compared; empty: every metric both models have.
    std::vector<std::string> metrics;
};

struct PromotionDecision {
    bool promote = false;
    std::string reason;
};

/// The rule alone, with no I/O: promote when there is no active model, when
/// forced, or when no compared metric of the candidate is below the active
/// one's by more than the tolerance. A compared metric the candidate lacks
/// blocks promotion.
PromotionDecision promote_if_not_worse(const ModelInfo& candidate, const ModelInfo* active,
                                       const PromotionPolicy& policy);

/// The model directory. Mutations are serialised by an internal mutex;
/// active() is lock-free (an atomic shared_ptr), so scoring threads read the
/// current model while training jobs add and promote new ones. Lives as long
/// as the server; models it hands out stay valid after a swap.
class ModelRegistry {
public:
    /// Creates the directory when needed, reads every metadata file and loads
    /// the active model of each kind. Errors name the unreadable metadata or
    /// model file (a corrupt active model is an error, never a crash).
    static core::Result<std::unique_ptr<ModelRegistry>> open(const std::filesystem::path& dir);

    /// Stores a trained model as a new candidate version. `info` supplies
    /// rows, params and metrics; id, kind, version, schema, created_at
    /// (when 0) and status are filled in here.
    core::Result<ModelInfo> add(const Model& model, ModelInfo info);

    /// Applies promote_if_not_worse() against the active model of the
    /// candidate's kind and, when it says so, activates the candidate.
    core::Result<PromotionDecision> promote(const std::string& candidate_id, const PromotionPolicy& policy);
    /// Makes `id` the active model of its kind (the previous one is retired).
    core::Result<ModelInfo> activate(const std::string& id);
    /// Re-activates the newest retired version older than the active one.
    core::Result<ModelInfo> rollback(ModelKind kind);

    std::vector<ModelInfo> list() const;
    core::Result<ModelInfo> get(const std::string& id) const;
    /// The active model of `kind`, or nullptr. Lock-free; any thread.
    std::shared_ptr<const Model> active(ModelKind kind) const;
    std::optional<ModelInfo> active_info(ModelKind kind) const;

    const std::filesystem::path& dir() const { return dir_; }

private:
    explicit ModelRegistry(std::filesystem::path dir);
    core::Result<void> write_info(const ModelInfo& info);
    core::Result<ModelInfo> activate_locked(const std::string& id);
    std::atomic<std::shared_ptr<const Model>>& slot(ModelKind kind) const;

    std::filesystem::path dir_;
    mutable std::mutex mutex_;
    std::map<std::string, ModelInfo> infos_;
    mutable std::atomic<std::shared_ptr<const Model>> active_if_;
    mutable std::atomic<std::shared_ptr<const Model>> active_rf_;
};

}  // namespace sai::ml
