#include "ml/training_service.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "file_util.hpp"
#include "ml/features.hpp"
#include "ml/metrics.hpp"
#include "ml/params.hpp"
#include "ml/scorer.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace sai::ml {
namespace {

namespace bj = boost::json;
using core::Errc;

const std::vector<std::string> kClasses = {"benign", "suspicious", "malicious"};

bj::object profile_json(const DriftProfile& p) {
    return bj::object{{"edges", bj::value_from(p.edges())}, {"shares", bj::value_from(p.shares())}};
}

core::Result<DriftProfile> profile_from(const bj::value& v) {
    const auto* o = v.if_object();
    if (!o || !o->contains("edges") || !o->contains("shares")) {
        return core::make_error(Errc::InvalidArgument, "drift profile: edges and shares expected");
    }
    try {
        auto edges = bj::value_to<std::vector<double>>(o->at("edges"));
        auto shares = bj::value_to<std::vector<double>>(o->at("shares"));
        if (shares.size() != edges.size() + 1) {
            return core::make_error(Errc::InvalidArgument, "drift profile: shares must be one more than edges");
        }
        return DriftProfile(std::move(edges), std::move(shares));
    } catch (const std::exception&) {
        return core::make_error(Errc::InvalidArgument, "drift profile: edges and shares must be numbers");
    }
}

IsolationForestParams anomaly_params(const TrainingRequest& request, const TrainingOptions& options,
                                     core::Result<void>* error) {
    IsolationForestParams p;
    p.contamination = options.default_contamination;
    if (auto it = request.params.find(std::string(kAnomalyDetector)); it != request.params.end()) {
        for (const auto& [k, v] : it->second) {
            if (auto r = set_param(p, k, v); !r) {
                *error = core::make_error(Errc::InvalidArgument, "params.anomaly_detector: " + r.error().detail);
                return p;
            }
        }
    }
    return p;
}

RandomForestParams classifier_params(const TrainingRequest& request, core::Result<void>* error) {
    RandomForestParams p;
    if (auto it = request.params.find(std::string(kThreatClassifier)); it != request.params.end()) {
        for (const auto& [k, v] : it->second) {
            if (auto r = set_param(p, k, v); !r) {
                *error = core::make_error(Errc::InvalidArgument, "params.threat_classifier: " + r.error().detail);
                return p;
            }
        }
    }
    return p;
}

}  // namespace

std::string_view to_string(JobState state) {
    switch (state) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Succeeded: return "succeeded";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
    }
    return "unknown";
}

DriftBaseline build_drift_baseline(const Matrix& rows, std::span<const std::string> names,
                                   std::span<const double> scores) {
    DriftBaseline b;
    b.rows = rows.rows;
    std::vector<double> column(rows.rows);
    for (std::size_t c = 0; c < rows.cols; ++c) {
        for (std::size_t r = 0; r < rows.rows; ++r) column[r] = rows.at(r, c);
        b.features.push_back(c < names.size() ? names[c] : "f" + std::to_string(c));
        b.profiles.push_back(DriftProfile::build(column));
    }
    if (!scores.empty()) b.scores = DriftProfile::build(scores);
    return b;
}

core::Result<void> save_drift_baseline(const DriftBaseline& baseline, const std::filesystem::path& file) {
    bj::object features;
    for (std::size_t i = 0; i < baseline.features.size(); ++i) {
        features[baseline.features[i]] = profile_json(baseline.profiles[i]);
    }
    bj::object root{{"rows", baseline.rows}, {"features", std::move(features)},
                    {"order", bj::value_from(baseline.features)}};
    if (baseline.scores) root["scores"] = profile_json(*baseline.scores);
    return detail::write_file_atomically(file, model::to_json_text(root));
}

core::Result<DriftBaseline> load_drift_baseline(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return core::make_error(Errc::NotFound, "no drift baseline " + file.filename().string());
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto v = bj::parse(text.str(), ec);
    if (ec || !v.is_object()) return core::make_error(Errc::InvalidArgument, "unreadable drift baseline " + file.string());
    const auto& o = v.as_object();
    DriftBaseline b;
    const auto* order = o.if_contains("order");
    const auto* features = o.if_contains("features");
    if (!order || !order->is_array() || !features || !features->is_object()) {
        return core::make_error(Errc::InvalidArgument, "drift baseline " + file.string() + ": order and features expected");
    }
    for (const auto& name : order->as_array()) {
        if (!name.is_string()) return core::make_error(Errc::InvalidArgument, "drift baseline: feature names must be strings");
        const auto* p = features->as_object().if_contains(name.as_string());
        if (!p) return core::make_error(Errc::InvalidArgument, "drift baseline: no profile for a listed feature");
        auto profile = profile_from(*p);
        if (!profile) return profile.error();
        b.features.emplace_back(name.as_string());
        b.profiles.push_back(std::move(*profile));
    }
    if (const auto* s = o.if_contains("scores")) {
        auto profile = profile_from(*s);
        if (!profile) return profile.error();
        b.scores = std::move(*profile);
    }
    if (const auto* rows = o.if_contains("rows"); rows && rows->is_number()) b.rows = rows->to_number<std::uint64_t>();
    return b;
}

std::filesystem::path drift_baseline_path(const ModelRegistry& registry, const std::string& model_id) {
    // Not ".json": the registry reads every .json file of its directory as model metadata.
    return registry.dir() / (model_id + ".drift");
}

std::string training_job_to_json(const TrainingJob& job) {
    bj::array models;
    for (auto k : job.request.models) models.push_back(bj::value(model_role(k)));
    bj::object params;
    for (const auto& [role, values] : job.request.params) {
        bj::object o;
        for (const auto& [k, v] : values) o[k] = v;
        params[role] = std::move(o);
    }
    bj::object request{{"models", std::move(models)},         {"params", std::move(params)},
                       {"force", job.request.force},          {"automatic", job.request.automatic},
                       {"requested_by", job.request.requested_by}};
    if (job.request.from_ms) request["from_ms"] = *job.request.from_ms;
    if (job.request.to_ms) request["to_ms"] = *job.request.to_ms;
    bj::array results;
    for (const auto& r : job.results) {
        bj::object metrics;
        for (const auto& [k, v] : r.metrics) metrics[k] = v;
        results.push_back(bj::object{{"role", r.role}, {"model_id", r.model_id}, {"rows", r.rows},
                                     {"metrics", std::move(metrics)}, {"promoted", r.promoted},
                                     {"reason", r.reason}});
    }
    return model::to_json_text(bj::object{{"id", job.id},
                                    {"state", to_string(job.state)},
                                    {"progress", job.progress},
                                    {"stage", job.stage},
                                    {"error", job.error},
                                    {"created_at", job.created_at},
                                    {"started_at", job.started_at},
                                    {"finished_at", job.finished_at},
                                    {"request", std::move(request)},
                                    {"results", std::move(results)}});
}

core::Result<TrainingJob> training_job_from_json(std::string_view text) {
    boost::system::error_code ec;
    auto v = bj::parse(text, ec);
    if (ec || !v.is_object()) return core::make_error(Errc::InvalidArgument, "training job: not a JSON object");
    try {
        const auto& o = v.as_object();
        TrainingJob job;
        job.id = bj::value_to<std::string>(o.at("id"));
        const auto state = bj::value_to<std::string>(o.at("state"));
        bool known = false;
        for (auto s : {JobState::Queued, JobState::Running, JobState::Succeeded, JobState::Failed, JobState::Cancelled}) {
            if (to_string(s) == state) {
                job.state = s;
                known = true;
            }
        }
        if (!known) return core::make_error(Errc::InvalidArgument, "training job: unknown state '" + state + "'");
        job.progress = bj::value_to<double>(o.at("progress"));
        job.stage = bj::value_to<std::string>(o.at("stage"));
        job.error = bj::value_to<std::string>(o.at("error"));
        job.created_at = bj::value_to<std::int64_t>(o.at("created_at"));
        job.started_at = bj::value_to<std::int64_t>(o.at("started_at"));
        job.finished_at = bj::value_to<std::int64_t>(o.at("finished_at"));
        const auto& request = o.at("request").as_object();
        for (const auto& m : request.at("models").as_array()) {
            auto kind = parse_model_role(m.as_string());
            if (!kind) return core::make_error(Errc::InvalidArgument, "training job: unknown model");
            job.request.models.push_back(*kind);
        }
        for (const auto& [role, values] : request.at("params").as_object()) {
            auto& out = job.request.params[std::string(role)];
            for (const auto& [k, val] : values.as_object()) out[std::string(k)] = bj::value_to<std::string>(val);
        }
        job.request.force = request.at("force").as_bool();
        job.request.automatic = request.at("automatic").as_bool();
        job.request.requested_by = bj::value_to<std::string>(request.at("requested_by"));
        if (const auto* f = request.if_contains("from_ms")) job.request.from_ms = bj::value_to<std::int64_t>(*f);
        if (const auto* t = request.if_contains("to_ms")) job.request.to_ms = bj::value_to<std::int64_t>(*t);
        for (const auto& r : o.at("results").as_array()) {
            const auto& ro = r.as_object();
            TrainedModel t;
            t.role = bj::value_to<std::string>(ro.at("role"));
            t.model_id = bj::value_to<std::string>(ro.at("model_id"));
            t.rows = bj::value_to<std::uint64_t>(ro.at("rows"));
            for (const auto& [k, val] : ro.at("metrics").as_object()) t.metrics[std::string(k)] = val.to_number<double>();
            t.promoted = ro.at("promoted").as_bool();
            t.reason = bj::value_to<std::string>(ro.at("reason"));
            job.results.push_back(std::move(t));
        }
        return job;
    } catch (const std::exception& e) {
        return core::make_error(Errc::InvalidArgument, std::string("training job: ") + e.what());
    }
}

core::Result<void> check_params(const TrainingRequest& request) {
    if (request.models.empty()) return core::make_error(Errc::InvalidArgument, "models: name at least one model");
    for (const auto& [role, values] : request.params) {
        if (!parse_model_role(role)) {
            return core::make_error(Errc::InvalidArgument,
                                    "params: unknown model '" + role + "' (anomaly_detector, threat_classifier)");
        }
    }
    core::Result<void> error;
    anomaly_params(request, TrainingOptions{}, &error);
    if (!error) return error;
    classifier_params(request, &error);
    if (!error) return error;
    if (request.from_ms && request.to_ms && *request.from_ms >= *request.to_ms) {
        return core::make_error(Errc::InvalidArgument, "window: from must be before to");
    }
    return {};
}

struct TrainingService::Job {
    TrainingJob info;
    std::atomic<bool> cancel{false};
};

TrainingService::TrainingService(ModelRegistry& registry, EventPageSource events, LabelSource labels,
                                 TrainingOptions options)
    : registry_(registry), events_(std::move(events)), labels_(std::move(labels)), options_(options) {}

TrainingService::~TrainingService() { stop(); }

void TrainingService::set_journal(std::function<void(const TrainingJob&)> journal) { journal_ = std::move(journal); }

void TrainingService::journal(const TrainingJob& job) const {
    if (journal_) journal_(job);
}

void TrainingService::restore(std::vector<TrainingJob> jobs) {
    std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    std::vector<TrainingJob> interrupted;
    {
        std::lock_guard lock(mutex_);
        for (auto& info : jobs) {
            if (info.state == JobState::Queued || info.state == JobState::Running) {
                info.state = JobState::Failed;
                info.stage = "failed";
                info.error = "interrupted: the server stopped before the job finished";
                info.finished_at = core::now_unix_ms();
                interrupted.push_back(info);
            }
            if (info.request.automatic) auto_queued_ = true;  // the first training is tried once, ever
            auto job = std::make_shared<Job>();
            job->info = std::move(info);
            jobs_.push_back(std::move(job));
        }
        while (jobs_.size() > options_.history) jobs_.pop_front();
    }
    for (const auto& info : interrupted) journal(info);
}

void TrainingService::start() {
    std::lock_guard lock(mutex_);
    if (worker_.joinable()) return;
    stopping_ = false;
    worker_ = std::thread([this] { run(); });
}

void TrainingService::stop() {
    std::vector<TrainingJob> dropped;
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (auto& job : jobs_) {
            job->cancel = true;
        }
        for (auto& job : queue_) {
            job->info.state = JobState::Cancelled;
            job->info.stage = "cancelled";
            job->info.error = "server shutting down";
            job->info.finished_at = core::now_unix_ms();
            dropped.push_back(job->info);
        }
        queue_.clear();
    }
    for (const auto& info : dropped) journal(info);
    wake_.notify_all();
    if (worker_.joinable()) worker_.join();
}

core::Result<TrainingJob> TrainingService::submit(TrainingRequest request) {
    if (auto ok = check_params(request); !ok) return ok.error();
    TrainingJob queued;
    std::shared_ptr<Job> pending;
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return core::make_error(Errc::Unavailable, "training is stopping");
        if (queue_.size() >= options_.max_queued) {
            return core::make_error(Errc::Unavailable, "training queue is full (" +
                                                           std::to_string(options_.max_queued) +
                                                           " jobs waiting); retry later");
        }
        auto job = std::make_shared<Job>();
        job->info.id = core::new_uuid_v7();
        job->info.request = std::move(request);
        job->info.stage = "queued";
        job->info.created_at = core::now_unix_ms();
        jobs_.push_back(job);
        // Forget the oldest finished jobs beyond the history bound.
        while (jobs_.size() > options_.history + options_.max_queued + 1) {
            auto it = std::find_if(jobs_.begin(), jobs_.end(), [](const auto& j) {
                return j->info.state != JobState::Queued && j->info.state != JobState::Running;
            });
            if (it == jobs_.end()) break;
            jobs_.erase(it);
        }
        queued = job->info;
        pending = job;
    }
    // Recorded before the worker can see it, so its "running" record comes after this one.
    journal(queued);
    {
        std::lock_guard lock(mutex_);
        if (pending->info.state != JobState::Queued) return pending->info;  // cancelled meanwhile
        if (stopping_) {
            pending->info.state = JobState::Cancelled;
            pending->info.stage = "cancelled";
            pending->info.error = "server shutting down";
            pending->info.finished_at = core::now_unix_ms();
            queued = pending->info;
        } else {
            queue_.push_back(pending);
        }
    }
    if (queued.state == JobState::Cancelled) journal(queued);
    wake_.notify_one();
    return queued;
}

core::Result<TrainingJob> TrainingService::get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    for (const auto& job : jobs_) {
        if (job->info.id == id) return job->info;
    }
    return core::make_error(Errc::NotFound, "no training job " + id);
}

std::vector<TrainingJob> TrainingService::history(std::size_t limit, const std::optional<std::string>& before) const {
    std::lock_guard lock(mutex_);
    std::vector<TrainingJob> out;
    bool skipping = before.has_value();
    for (auto it = jobs_.rbegin(); it != jobs_.rend() && out.size() < limit; ++it) {
        if (skipping) {
            // Ids are UUIDv7: the cursor stays valid when its job was forgotten.
            if ((*it)->info.id < *before) skipping = false;
            else continue;
        }
        out.push_back((*it)->info);
    }
    return out;
}

core::Result<TrainingJob> TrainingService::cancel(const std::string& id) {
    std::unique_lock lock(mutex_);
    for (auto& job : jobs_) {
        if (job->info.id != id) continue;
        switch (job->info.state) {
        case JobState::Queued: {
            std::erase(queue_, job);
            job->info.state = JobState::Cancelled;
            job->info.stage = "cancelled";
            job->info.finished_at = core::now_unix_ms();
            TrainingJob done = job->info;
            lock.unlock();
            journal(done);
            return done;
        }
        case JobState::Running:
            job->cancel = true;
            return job->info;
        default:
            return core::make_error(Errc::Conflict, "training job " + id + " has already " +
                                                        std::string(to_string(job->info.state)));
        }
    }
    return core::make_error(Errc::NotFound, "no training job " + id);
}

bool TrainingService::maybe_auto_train(std::uint64_t events_stored) {
    {
        std::lock_guard lock(mutex_);
        if (auto_queued_ || options_.auto_train_events == 0 || events_stored < options_.auto_train_events) return false;
    }
    if (registry_.active(ModelKind::IsolationForest)) return false;
    TrainingRequest request;
    request.models = {ModelKind::IsolationForest};
    request.automatic = true;
    request.requested_by = "auto";
    auto job = submit(std::move(request));
    if (!job) return false;
    std::lock_guard lock(mutex_);
    auto_queued_ = true;
    core::log::info("automatic training queued", {{"training_id", job->id}, {"events", events_stored}});
    return true;
}

bool TrainingService::auto_train_pending() const {
    {
        std::lock_guard lock(mutex_);
        if (auto_queued_ || options_.auto_train_events == 0) return false;
    }
    return registry_.active(ModelKind::IsolationForest) == nullptr;
}

std::optional<TrainingJob> TrainingService::current() const {
    std::lock_guard lock(mutex_);
    for (const auto& job : jobs_) {
        if (job->info.state == JobState::Running) return job->info;
    }
    if (!queue_.empty()) return queue_.front()->info;
    return std::nullopt;
}

void TrainingService::run() {
    for (;;) {
        std::shared_ptr<Job> job;
        TrainingJob running;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) return;
            job = queue_.front();
            queue_.pop_front();
            job->info.state = JobState::Running;
            job->info.stage = "starting";
            job->info.started_at = core::now_unix_ms();
            running = job->info;
        }
        journal(running);
        execute(*job);
    }
}

void TrainingService::execute(Job& job) {
    core::Result<void> outcome = core::make_error(Errc::Internal, "training did not run");
    try {
        outcome = train(job);
    } catch (const std::exception& e) {
        outcome = core::make_error(Errc::Internal, std::string("training failed: ") + e.what());
    }
    std::unique_lock lock(mutex_);
    job.info.finished_at = core::now_unix_ms();
    if (outcome) {
        job.info.state = JobState::Succeeded;
        job.info.progress = 100;
        job.info.stage = "done";
    } else if (job.cancel) {
        job.info.state = JobState::Cancelled;
        job.info.stage = "cancelled";
    } else {
        job.info.state = JobState::Failed;
        job.info.error = outcome.error().detail;
        job.info.stage = "failed";
    }
    const TrainingJob finished = job.info;
    lock.unlock();
    core::log::info("training finished", {{"training_id", finished.id},
                                          {"state", std::string(to_string(finished.state))},
                                          {"error", finished.error}});
    journal(finished);
}

void TrainingService::update(Job& job, double progress, std::string stage) {
    std::lock_guard lock(mutex_);
    job.info.progress = std::clamp(progress, 0.0, 100.0);
    job.info.stage = std::move(stage);
}

core::Result<void> TrainingService::train(Job& job) {
    const TrainingRequest request = [&] {
        std::lock_guard lock(mutex_);
        return job.info.request;
    }();
    const auto cancelled = [&job]() -> core::Result<void> {
        return core::make_error(Errc::Unavailable, "training cancelled");
    };
    const std::int64_t from = request.from_ms.value_or(0);
    const std::int64_t to = request.to_ms.value_or(core::now_unix_ms() + 1);

    // Read the window newest first, page by page, up to max_rows.
    update(job, 0, "reading events");
    std::vector<model::Event> events;
    std::optional<std::pair<std::int64_t, std::string>> before;
    while (events.size() < options_.max_rows) {
        if (job.cancel) return cancelled();
        const auto limit = std::min(options_.page_size, options_.max_rows - events.size());
        auto page = events_(from, to, before, limit);
        if (!page) return core::make_error(page.error().code, "reading events: " + page.error().detail);
        if (page->empty()) break;
        before = std::make_pair(page->back().timestamp, page->back().id);
        const bool last = page->size() < limit;
        for (auto& e : *page) events.push_back(std::move(e));
        update(job, 30.0 * static_cast<double>(events.size()) / static_cast<double>(options_.max_rows),
               "reading events");
        if (last) break;
    }
    if (events.empty()) return core::make_error(Errc::Unprocessable, "no events in the training window");

    // Features in event-time order, so the windowed aggregates match scoring.
    update(job, 30, "extracting features");
    std::reverse(events.begin(), events.end());
    const auto& names = FeatureExtractor::feature_names();
    Matrix all(events.size(), names.size());
    {
        FeatureExtractor extractor;
        for (std::size_t i = 0; i < events.size(); ++i) extractor.extract(events[i], all.row(i));
    }
    if (job.cancel) return cancelled();

    std::map<std::string, std::string> labels;
    if (labels_) {
        auto got = labels_(from);
        if (!got) return core::make_error(got.error().code, "reading labels: " + got.error().detail);
        labels = std::move(*got);
    }

    const double share = 60.0 / static_cast<double>(request.models.size());
    double base = 35;
    for (const auto kind : request.models) {
        const std::string role(model_role(kind));
        if (job.cancel) return cancelled();
        update(job, base, "training " + role);
        TrainControl control;
        control.cancel = &job.cancel;
        control.threads = 1;
        control.progress = [this, &job, base, share, role](double f) { update(job, base + share * f, "training " + role); };

        Model model;
        model.kind = kind;
        model.schema_name = std::string(kEventSchemaName);
        model.schema_version = kEventSchemaVersion;
        model.feature_names = names;
        ModelInfo info;
        Matrix train_rows;
        std::vector<double> train_scores;
        core::Result<void> param_error;

        if (kind == ModelKind::IsolationForest) {
            const auto params = anomaly_params(request, options_, &param_error);
            if (!param_error) return param_error.error();
            // The newest fifth is the holdout (time split: the model is judged on what came after).
            const std::size_t holdout = all.rows >= 10 ? all.rows / 5 : 0;
            const std::size_t n_train = all.rows - holdout;
            train_rows = Matrix(n_train, all.cols);
            std::copy(all.values.begin(), all.values.begin() + static_cast<std::ptrdiff_t>(n_train * all.cols),
                      train_rows.values.begin());
            auto fitted = IsolationForest::fit(train_rows, params, control);
            if (!fitted) {
                if (job.cancel) return cancelled();
                return core::make_error(fitted.error().code, role + ": " + fitted.error().detail);
            }
            auto forest = std::make_shared<IsolationForest>(std::move(*fitted));
            train_scores.resize(n_train);
            forest->score_batch(train_rows, train_scores, 1);
            std::vector<double> scores;
            std::vector<std::uint8_t> positive;
            std::size_t anomalies = 0;
            for (std::size_t i = n_train; i < all.rows; ++i) {
                const double s = forest->score(all.row(i));
                anomalies += forest->is_anomaly(s) ? 1 : 0;
                auto l = labels.find(events[i].id);
                if (l != labels.end()) {
                    scores.push_back(s);
                    positive.push_back(l->second == "benign" ? 0 : 1);
                }
            }
            const double auc = roc_auc(scores, positive);
            if (!std::isnan(auc)) info.metrics["auc"] = auc;
            info.params = describe(params);
            info.params["holdout_rows"] = std::to_string(holdout);
            if (holdout > 0) {
                info.params["holdout_anomaly_rate"] = std::to_string(static_cast<double>(anomalies) / holdout);
            }
            model.isolation_forest = std::move(forest);
        } else {
            const auto params = classifier_params(request, &param_error);
            if (!param_error) return param_error.error();
            std::vector<std::size_t> picked;
            std::vector<std::int32_t> y;
            std::set<std::int32_t> present;
            for (std::size_t i = 0; i < events.size(); ++i) {
                auto l = labels.find(events[i].id);
                if (l == labels.end()) continue;
                auto c = std::find(kClasses.begin(), kClasses.end(), l->second);
                if (c == kClasses.end()) continue;
                picked.push_back(i);
                y.push_back(static_cast<std::int32_t>(c - kClasses.begin()));
                present.insert(y.back());
            }
            if (picked.size() < options_.min_labelled) {
                return core::make_error(Errc::Unprocessable,
                                        role + ": needs at least " + std::to_string(options_.min_labelled) +
                                            " events labelled by alert verdicts in the window, found " +
                                            std::to_string(picked.size()));
            }
            if (present.size() < 2) {
                return core::make_error(Errc::Unprocessable,
                                        role + ": the labelled events are all '" + kClasses[*present.begin()] +
                                            "'; at least two classes are needed");
            }
            // Every fifth labelled row is held out.
            std::vector<std::size_t> train_idx, test_idx;
            for (std::size_t k = 0; k < picked.size(); ++k) (k % 5 == 4 ? test_idx : train_idx).push_back(k);
            train_rows = Matrix(train_idx.size(), all.cols);
            std::vector<std::int32_t> train_y;
            for (std::size_t r = 0; r < train_idx.size(); ++r) {
                const auto src = all.row(picked[train_idx[r]]);
                std::copy(src.begin(), src.end(), train_rows.row(r).begin());
                train_y.push_back(y[train_idx[r]]);
            }
            auto fitted = RandomForest::fit(train_rows, train_y, kClasses, params, control);
            if (!fitted) {
                if (job.cancel) return cancelled();
                return core::make_error(fitted.error().code, role + ": " + fitted.error().detail);
            }
            auto forest = std::make_shared<RandomForest>(std::move(*fitted));
            std::vector<std::int32_t> truth, predicted;
            std::vector<double> proba(forest->n_classes());
            for (const auto k : test_idx) {
                truth.push_back(y[k]);
                predicted.push_back(static_cast<std::int32_t>(forest->predict_proba(all.row(picked[k]), proba)));
            }
            if (!truth.empty()) {
                const auto report = classification_report(truth, predicted, kClasses.size());
                info.metrics["accuracy"] = report.accuracy;
                info.metrics["macro_f1"] = report.macro_f1;
            }
            info.params = describe(params);
            info.params["holdout_rows"] = std::to_string(test_idx.size());
            model.label_column = "verdict";
            model.random_forest = std::move(forest);
        }
        if (job.cancel) return cancelled();

        update(job, base + share * 0.95, "storing " + role);
        info.rows = train_rows.rows;
        info.params["window_from"] = std::to_string(from);
        info.params["window_to"] = std::to_string(to);
        info.params["training_id"] = job.info.id;
        auto added = registry_.add(model, info);
        if (!added) return core::make_error(added.error().code, role + ": " + added.error().detail);
        auto baseline = build_drift_baseline(train_rows, names, train_scores);
        if (auto saved = save_drift_baseline(baseline, drift_baseline_path(registry_, added->id)); !saved) {
            return core::make_error(saved.error().code, role + ": drift baseline: " + saved.error().detail);
        }
        auto decision = registry_.promote(added->id, {.tolerance = options_.promotion_tolerance, .force = request.force});
        if (!decision) return core::make_error(decision.error().code, role + ": " + decision.error().detail);
        {
            std::lock_guard lock(mutex_);
            job.info.results.push_back({role, added->id, info.rows, info.metrics, decision->promote, decision->reason});
        }
        core::log::info("model trained", {{"model", added->id},
                                          {"rows", info.rows},
                                          {"promoted", decision->promote},
                                          {"reason", decision->reason}});
        base += share;
    }
    return {};
}

}  // namespace sai::ml
