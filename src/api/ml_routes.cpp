#include "api/ml_routes.hpp"

#include "core/time.hpp"
#include "json_util.hpp"
#include "model/json_write.hpp"

#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

bj::value time_json(std::int64_t ms) {
    if (ms <= 0) return nullptr;
    return bj::value(core::format_rfc3339_ms(ms));
}

bj::object metrics_object(const std::map<std::string, double>& metrics) {
    bj::object o;
    for (const auto& [k, v] : metrics) o[k] = v;
    return o;
}

// What the training service records beside the model parameters (see training_service.cpp).
bool is_training_record(const std::string& key) {
    return key == "window_from" || key == "window_to" || key == "training_id" || key == "holdout_rows" ||
           key == "holdout_anomaly_rate";
}

std::int64_t int_param(const ml::ModelInfo& m, const char* key) {
    auto it = m.params.find(key);
    std::int64_t n = 0;
    if (it != m.params.end()) std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    return n;
}

bj::object model_json(const ml::ModelInfo& m) {
    bj::object params;
    for (const auto& [k, v] : m.params) {
        if (!is_training_record(k)) params[k] = v;
    }
    const std::int64_t from = int_param(m, "window_from");
    const std::int64_t to = int_param(m, "window_to");
    bj::object holdout{{"rows", int_param(m, "holdout_rows")}};
    if (auto it = m.params.find("holdout_anomaly_rate"); it != m.params.end()) {
        holdout["anomaly_rate"] = std::strtod(it->second.c_str(), nullptr);
    }
    auto training_id = m.params.find("training_id");
    return bj::object{{"id", m.id},
                      {"model", ml::model_role(m.kind)},
                      {"type", ml::to_string(m.kind)},
                      {"version", m.version},
                      {"created_at", time_json(m.created_at)},
                      {"status", ml::to_string(m.status)},
                      {"rows", m.rows},
                      {"training_window", bj::object{{"from", time_json(from)}, {"to", time_json(to)}}},
                      {"training_id", training_id != m.params.end() ? bj::value(training_id->second) : bj::value(nullptr)},
                      {"holdout", std::move(holdout)},
                      {"params", std::move(params)},
                      {"feature_schema", bj::object{{"name", m.schema_name}, {"version", m.schema_version}}},
                      {"metrics", metrics_object(m.metrics)}};
}

bj::object job_json(const ml::TrainingJob& j) {
    bj::array models;
    for (auto k : j.request.models) models.push_back(bj::value(ml::model_role(k)));
    bj::array results;
    for (const auto& r : j.results) {
        results.push_back(bj::object{{"model", r.role},
                                     {"model_id", r.model_id},
                                     {"rows", r.rows},
                                     {"metrics", metrics_object(r.metrics)},
                                     {"promoted", r.promoted},
                                     {"reason", r.reason}});
    }
    return bj::object{{"training_id", j.id},
                      {"state", ml::to_string(j.state)},
                      {"progress", j.progress},
                      {"stage", j.stage},
                      {"error", j.error.empty() ? bj::value(nullptr) : bj::value(j.error)},
                      {"models", std::move(models)},
                      {"automatic", j.request.automatic},
                      {"force", j.request.force},
                      {"requested_by", j.request.requested_by},
                      {"window", bj::object{{"from", time_json(j.request.from_ms.value_or(0))},
                                            {"to", time_json(j.request.to_ms.value_or(0))}}},
                      {"created_at", time_json(j.created_at)},
                      {"started_at", time_json(j.started_at)},
                      {"finished_at", time_json(j.finished_at)},
                      {"results", std::move(results)}};
}

core::Result<std::optional<std::int64_t>> body_time(const bj::object& o, std::string_view field) {
    const auto* v = o.if_contains(field);
    if (!v || v->is_null()) return std::optional<std::int64_t>{};
    if (!v->is_string()) return make_error(Errc::InvalidArgument, "window." + std::string(field) + " must be an RFC 3339 time");
    auto t = core::parse_rfc3339_ms(v->as_string());
    if (!t) return make_error(Errc::InvalidArgument, "window." + std::string(field) + " must be an RFC 3339 time");
    return std::optional<std::int64_t>(*t);
}

core::Result<ml::TrainingRequest> parse_train_request(const Request& r) {
    auto body = json::parse_object(r);
    if (!body) return body.error();
    if (auto ok = json::only_fields(*body, {"models", "params", "window", "force"}); !ok) return ok.error();
    ml::TrainingRequest req;
    auto models = json::string_list(*body, "models", 2, 64);
    if (!models) return models.error();
    if (models->empty()) return make_error(Errc::InvalidArgument, "models: name anomaly_detector and/or threat_classifier");
    for (const auto& name : *models) {
        auto kind = ml::parse_model_role(name);
        if (!kind) {
            return make_error(Errc::InvalidArgument,
                              "models: unknown model '" + name + "' (anomaly_detector, threat_classifier)");
        }
        if (std::find(req.models.begin(), req.models.end(), *kind) == req.models.end()) req.models.push_back(*kind);
    }
    if (const auto* params = body->if_contains("params"); params && !params->is_null()) {
        if (!params->is_object()) return make_error(Errc::InvalidArgument, "params must be an object per model");
        for (const auto& [role, values] : params->as_object()) {
            if (!values.is_object()) {
                return make_error(Errc::InvalidArgument, "params." + std::string(role) + " must be an object");
            }
            auto& out = req.params[std::string(role)];
            for (const auto& [k, v] : values.as_object()) {
                if (v.is_string()) out[std::string(k)] = std::string(v.as_string());
                else if (v.is_number() || v.is_bool()) out[std::string(k)] = model::to_json_text(v);
                else return make_error(Errc::InvalidArgument, "params." + std::string(role) + "." + std::string(k) +
                                                                  " must be a number, string or boolean");
            }
        }
    }
    if (const auto* window = body->if_contains("window"); window && !window->is_null()) {
        if (!window->is_object()) return make_error(Errc::InvalidArgument, "window must be an object {from, to}");
        if (auto ok = json::only_fields(window->as_object(), {"from", "to"}); !ok) return ok.error();
        auto from = body_time(window->as_object(), "from");
        if (!from) return from.error();
        auto to = body_time(window->as_object(), "to");
        if (!to) return to.error();
        req.from_ms = *from;
        req.to_ms = *to;
    }
    auto force = json::optional_bool(*body, "force");
    if (!force) return force.error();
    req.force = force->value_or(false);
    req.requested_by = r.principal ? r.principal->name : "";
    return req;
}

/// Baselines read once per model id (they never change once written).
core::Result<std::shared_ptr<const ml::DriftBaseline>> baseline_of(const ml::ModelRegistry& registry,
                                                                   const std::string& id) {
    static std::mutex mutex;
    static std::map<std::string, std::shared_ptr<const ml::DriftBaseline>> cache;
    std::lock_guard lock(mutex);
    if (auto it = cache.find(registry.dir().string() + "/" + id); it != cache.end()) return it->second;
    auto loaded = ml::load_drift_baseline(ml::drift_baseline_path(registry, id));
    if (!loaded) return loaded.error();
    auto shared = std::make_shared<const ml::DriftBaseline>(std::move(*loaded));
    if (cache.size() > 64) cache.clear();
    cache[registry.dir().string() + "/" + id] = shared;
    return shared;
}

}  // namespace

std::string ml_metrics_json(MlServices& services) {
    const auto stats = services.scorer.stats();
    bj::object models;
    for (auto kind : {ml::ModelKind::IsolationForest, ml::ModelKind::RandomForest}) {
        auto info = services.registry.active_info(kind);
        models[ml::model_role(kind)] = info ? bj::value(model_json(*info)) : bj::value(nullptr);
    }
    bj::object predictions;
    for (const auto& [k, n] : stats.predictions) predictions[k] = n;
    bj::array histogram;
    for (std::size_t i = 0; i < ml::kScoreBins; ++i) {
        histogram.push_back(bj::object{{"from", static_cast<double>(i) / ml::kScoreBins},
                                       {"to", static_cast<double>(i + 1) / ml::kScoreBins},
                                       {"count", stats.score_histogram[i]}});
    }
    bj::object out{{"models", std::move(models)},
                   {"events_seen", services.scorer.events_seen()},
                   {"events_scored", stats.scored},
                   {"anomalies", stats.anomalies},
                   {"schema_mismatches", stats.schema_mismatch},
                   {"inference_latency_seconds", bj::object{{"p50", stats.latency_p50_s}, {"p99", stats.latency_p99_s}}},
                   {"predictions", std::move(predictions)},
                   {"score_histogram", std::move(histogram)}};
    return model::to_json_text(out);
}

std::string ml_drift_json(MlServices& services) {
    const auto recent = services.scorer.recent();
    const auto now = core::Clock::now();
    bj::array models;
    for (auto kind : {ml::ModelKind::IsolationForest, ml::ModelKind::RandomForest}) {
        auto info = services.registry.active_info(kind);
        if (!info) continue;
        bj::object m{{"model", ml::model_role(kind)}, {"model_id", info->id}};
        auto baseline = baseline_of(services.registry, info->id);
        if (!baseline) {
            m["status"] = "unknown";
            m["detail"] = baseline.error().detail;
            models.push_back(std::move(m));
            continue;
        }
        ml::DriftStatus worst = ml::DriftStatus::Ok;
        bj::array features;
        std::vector<double> column(recent.features.rows);
        for (std::size_t f = 0; f < (*baseline)->profiles.size() && f < recent.features.cols; ++f) {
            for (std::size_t r = 0; r < recent.features.rows; ++r) column[r] = recent.features.at(r, f);
            const double psi = (*baseline)->profiles[f].psi(column);
            const auto status = ml::drift_status(psi);
            worst = std::max(worst, status);
            features.push_back(bj::object{{"feature", (*baseline)->features[f]}, {"psi", psi},
                                          {"status", ml::to_string(status)}});
        }
        m["features"] = std::move(features);
        if ((*baseline)->scores && !recent.scores.empty()) {
            const double psi = (*baseline)->scores->psi(recent.scores);
            const auto status = ml::drift_status(psi);
            worst = std::max(worst, status);
            m["scores"] = bj::object{{"psi", psi}, {"status", ml::to_string(status)}};
        } else {
            m["scores"] = nullptr;
        }
        m["baseline_rows"] = (*baseline)->rows;
        m["status"] = recent.features.rows == 0 ? std::string("no_data") : std::string(ml::to_string(worst));
        models.push_back(std::move(m));
    }
    bj::object out{{"computed_at", core::format_rfc3339(now)},
                   {"thresholds", bj::object{{"warning", 0.1}, {"drift", 0.25}}},
                   {"window", bj::object{{"events", recent.features.rows},
                                         {"from", time_json(recent.first_event_ms)},
                                         {"to", time_json(recent.last_event_ms)}}},
                   {"models", std::move(models)}};
    return model::to_json_text(out);
}

std::string ml_status_json(MlServices& services) {
    bj::object active;
    bool any = false;
    for (auto kind : {ml::ModelKind::IsolationForest, ml::ModelKind::RandomForest}) {
        auto info = services.registry.active_info(kind);
        active[ml::model_role(kind)] = info ? bj::value(info->id) : bj::value(nullptr);
        any = any || info.has_value();
    }
    auto current = services.training.current();
    std::string state = current ? "training" : any ? "active" : "none";
    bj::object out{{"state", state}, {"active", std::move(active)}};
    if (current) {
        out["training"] = bj::object{{"training_id", current->id},
                                     {"state", ml::to_string(current->state)},
                                     {"progress", current->progress},
                                     {"automatic", current->request.automatic}};
    } else if (!any && services.training.options().auto_train_events > 0) {
        out["detail"] = "the anomaly detector trains itself after " +
                        std::to_string(services.training.options().auto_train_events) + " events";
    }
    return model::to_json_text(out);
}

void add_ml_routes(Router& router, MlServices& services) {
    router.add(Method::Post, "/api/v1/train", [&services](Request& r) {
        auto req = parse_train_request(r);
        if (!req) return error_response(r, req.error());
        auto job = services.training.submit(std::move(*req));
        if (!job) return error_response(r, job.error());
        auto body = job_json(*job);
        body["status_url"] = "/api/v1/train/status/" + job->id;
        return json::ok(202, body);
    }, {.blocking = true});  // the job is journaled in the store
    router.add(Method::Get, "/api/v1/train/status/{id}", [&services](Request& r) {
        auto job = services.training.get(std::string(r.param("id")));
        if (!job) return error_response(r, job.error());
        return json::ok(200, job_json(*job));
    });
    router.add(Method::Get, "/api/v1/train/history", [&services](Request& r) {
        auto limit = json::limit_param(r, 20, 200);
        if (!limit) return error_response(r, limit.error());
        auto cursor = r.query_param("cursor");
        if (cursor && cursor->size() > 64) return error_response(r, make_error(Errc::InvalidArgument, "malformed cursor"));
        auto jobs = services.training.history(*limit, cursor && !cursor->empty() ? cursor : std::nullopt);
        bj::array items;
        for (const auto& j : jobs) items.push_back(job_json(j));
        bj::value next = nullptr;
        if (jobs.size() == *limit) next = bj::value(jobs.back().id);
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
    });
    router.add(Method::Post, "/api/v1/train/{id}/cancel", [&services](Request& r) {
        auto job = services.training.cancel(std::string(r.param("id")));
        if (!job) return error_response(r, job.error());
        return json::ok(200, job_json(*job));
    }, {.blocking = true});
    router.add(Method::Get, "/api/v1/models", [&services](Request&) {
        bj::array items;
        auto list = services.registry.list();
        std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
            return a.kind != b.kind ? a.kind < b.kind : a.version > b.version;
        });
        for (const auto& m : list) items.push_back(model_json(m));
        bj::object active;
        for (auto kind : {ml::ModelKind::IsolationForest, ml::ModelKind::RandomForest}) {
            auto info = services.registry.active_info(kind);
            active[ml::model_role(kind)] = info ? bj::value(info->id) : bj::value(nullptr);
        }
        return json::ok(200, bj::object{{"items", std::move(items)}, {"active", std::move(active)}});
    }, {.blocking = true});
    router.add(Method::Post, "/api/v1/models/{id}/activate", [&services](Request& r) {
        auto info = services.registry.activate(std::string(r.param("id")));
        if (!info) return error_response(r, info.error());
        if (services.models_changed) services.models_changed();
        return json::ok(200, model_json(*info));
    }, {.blocking = true});
    router.add(Method::Get, "/api/v1/metrics/ml", [&services](Request&) {
        return json_response(200, ml_metrics_json(services));
    });
    router.add(Method::Get, "/api/v1/metrics/drift", [&services](Request&) {
        return json_response(200, ml_drift_json(services));
    }, {.blocking = true});
}

}  // namespace sai::api
