#include "ml_metadata.hpp"

#include "core/log.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace sai::app {
namespace {

namespace bj = boost::json;

std::int64_t int_param(const ml::ModelInfo& m, const char* key) {
    std::int64_t n = 0;
    if (auto it = m.params.find(key); it != m.params.end()) {
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    }
    return n;
}

}  // namespace

void mirror_models(const ml::ModelRegistry& registry, storage::MlStore& store) {
    for (const auto& m : registry.list()) {
        storage::MlModelRecord r;
        r.id = m.id;
        r.type = std::string(ml::to_string(m.kind));
        r.version = m.version;
        r.created_at = m.created_at;
        r.window_from = int_param(m, "window_from");
        r.window_to = int_param(m, "window_to");
        r.rows = static_cast<std::int64_t>(m.rows);
        bj::object params;
        for (const auto& [k, v] : m.params) params[k] = v;
        r.params = model::to_json_text(params);
        r.schema_name = m.schema_name;
        r.schema_version = m.schema_version;
        bj::object metrics;
        for (const auto& [k, v] : m.metrics) metrics[k] = v;
        r.metrics = model::to_json_text(metrics);
        r.status = std::string(ml::to_string(m.status));
        if (auto it = m.params.find("training_id"); it != m.params.end()) r.training_id = it->second;
        if (auto stored = store.upsert_model(r); !stored) {
            core::log::warn("storing model metadata failed", {{"model", m.id}, {"error", stored.error().detail}});
        }
    }
}

void record_training_job(const ml::TrainingJob& job, storage::MlStore& store) {
    auto stored = store.upsert_training_job({job.id, std::string(ml::to_string(job.state)), job.created_at,
                                             job.finished_at, ml::training_job_to_json(job)});
    if (!stored) {
        core::log::warn("storing a training job failed", {{"training_id", job.id}, {"error", stored.error().detail}});
    }
}

std::vector<ml::TrainingJob> load_training_jobs(storage::MlStore& store, std::size_t limit) {
    std::vector<ml::TrainingJob> out;
    auto records = store.training_jobs(limit);
    if (!records) {
        core::log::warn("reading training jobs failed", {{"error", records.error().detail}});
        return out;
    }
    for (const auto& r : *records) {
        auto job = ml::training_job_from_json(r.job);
        if (!job) {
            core::log::warn("skipping an unreadable training job", {{"training_id", r.id}, {"error", job.error().detail}});
            continue;
        }
        out.push_back(std::move(*job));
    }
    return out;
}

}  // namespace sai::app
