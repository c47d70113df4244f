#pragma once
// Background training of the server's models: jobs queue (bounded), one
// worker thread fits them one at a time with one training thread, so
// ingestion keeps its cores. A job reads the events of its window page by
// page, extracts features in event-time order, fits, evaluates on a holdout
// (the newest 20% for the anomaly detector, every fifth labelled row for the
// classifier), stores the model as a candidate with its drift baseline, and
// promotes it when it is not worse than the active one (or when forced).
//
// The anomaly detector needs no labels; with analyst labels in its holdout it
// is evaluated by ROC AUC (suspicious and malicious are positives). The
// threat classifier learns from analyst labels (event id -> benign /
// suspicious / malicious) and fails clearly with too few or a single class.

#include "core/error.hpp"
#include "ml/drift.hpp"
#include "ml/matrix.hpp"
#include "ml/registry.hpp"
#include "model/event.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sai::ml {

/// One page of events in [from_ms, to_ms), newest first, strictly older than
/// `before` (timestamp, id) when set. The app adapts EventStore::query.
using EventPageSource = std::function<core::Result<std::vector<model::Event>>(
    std::int64_t from_ms, std::int64_t to_ms, const std::optional<std::pair<std::int64_t, std::string>>& before,
    std::size_t limit)>;
/// Analyst labels given since `since_ms`: event id -> benign / suspicious / malicious.
using LabelSource = std::function<core::Result<std::map<std::string, std::string>>(std::int64_t since_ms)>;

struct TrainingOptions {
    std::size_t max_rows = 200'000;     // events read per job, at most (the newest of the window)
    std::size_t page_size = 2000;
    std::size_t min_labelled = 20;      // labelled events the classifier needs
    std::size_t max_queued = 8;         // jobs waiting, at most
    std::size_t history = 500;          // finished jobs remembered
    std::uint64_t auto_train_events = 10'000;  // stored events before the first automatic training; 0: never
    double promotion_tolerance = 0.01;
    double default_contamination = 0.01;  // the anomaly detector's when the request sets none
};

enum class JobState { Queued, Running, Succeeded, Failed, Cancelled };
std::string_view to_string(JobState state);

struct TrainingRequest {
    std::vector<ModelKind> models;
    /// Per model role ("anomaly_detector", "threat_classifier"): scikit-learn parameter -> value.
    std::map<std::string, std::map<std::string, std::string>> params;
    std::optional<std::int64_t> from_ms;  // default: everything
    std::optional<std::int64_t> to_ms;    // default: the time the job starts
    bool force = false;
    bool automatic = false;
    std::string requested_by;
};

/// What one model of a job became.
struct TrainedModel {
    std::string role;
    std::string model_id;
    std::uint64_t rows = 0;
    std::map<std::string, double> metrics;
    bool promoted = false;
    std::string reason;
};

struct TrainingJob {
    std::string id;
    TrainingRequest request;
    JobState state = JobState::Queued;
    double progress = 0;  // percent
    std::string stage;    // "queued", "reading events", "training anomaly_detector"...
    std::string error;
    std::int64_t created_at = 0;
    std::int64_t started_at = 0;
    std::int64_t finished_at = 0;
    std::vector<TrainedModel> results;
};

/// The reference distributions saved with a model (<dir>/<id>.drift).
struct DriftBaseline {
    std::vector<std::string> features;
    std::vector<DriftProfile> profiles;  // one per feature
    std::optional<DriftProfile> scores;  // anomaly scores of the training rows
    std::uint64_t rows = 0;
};
DriftBaseline build_drift_baseline(const Matrix& rows, std::span<const std::string> names,
                                   std::span<const double> scores);
core::Result<void> save_drift_baseline(const DriftBaseline& baseline, const std::filesystem::path& file);
core::Result<DriftBaseline> load_drift_baseline(const std::filesystem::path& file);
std::filesystem::path drift_baseline_path(const ModelRegistry& registry, const std::string& model_id);

/// A job as JSON object text (times in Unix ms) and back, for the job journal.
std::string training_job_to_json(const TrainingJob& job);
core::Result<TrainingJob> training_job_from_json(std::string_view text);

/// Validates a request's parameters (InvalidArgument naming the bad one).
core::Result<void> check_params(const TrainingRequest& request);

/// Owned by the composition root; start() before submit(), stop() before the
/// store closes. Every member is thread-safe.
class TrainingService {
public:
    TrainingService(ModelRegistry& registry, EventPageSource events, LabelSource labels, TrainingOptions options);
    ~TrainingService();
    TrainingService(const TrainingService&) = delete;
    TrainingService& operator=(const TrainingService&) = delete;

    /// Called with a copy of a job whenever its state changes (queued, running,
    /// finished), outside the service's lock, from the thread that changed it.
    /// Set before start().
    void set_journal(std::function<void(const TrainingJob&)> journal);
    /// Jobs of earlier runs, for history and status (before start()). Those
    /// left queued or running are failed ("interrupted") and journaled again.
    void restore(std::vector<TrainingJob> jobs);
    void start();
    /// Cancels the running job, drops the queued ones (cancelled), joins the worker.
    void stop();

    /// Queues a job. InvalidArgument: no model or bad parameters; Unavailable: the queue is full.
    core::Result<TrainingJob> submit(TrainingRequest request);
    core::Result<TrainingJob> get(const std::string& id) const;
    /// Newest first; `before`: the id of the last job of the previous page.
    std::vector<TrainingJob> history(std::size_t limit, const std::optional<std::string>& before) const;
    /// A queued job is cancelled at once, a running one at its next check.
    /// Conflict when the job has finished.
    core::Result<TrainingJob> cancel(const std::string& id);

    /// Queues the first automatic anomaly-detector training when no detector
    /// is active, none was queued automatically before, and `events_stored`
    /// reached TrainingOptions::auto_train_events. True when it queued one.
    bool maybe_auto_train(std::uint64_t events_stored);
    /// Whether maybe_auto_train() could still queue a job (so callers skip counting events otherwise).
    bool auto_train_pending() const;
    /// The job queued or running, if any (for /monitor/status).
    std::optional<TrainingJob> current() const;
    const TrainingOptions& options() const { return options_; }

private:
    struct Job;
    void run();
    void execute(Job& job);
    core::Result<void> train(Job& job);
    void update(Job& job, double progress, std::string stage);
    void journal(const TrainingJob& job) const;

    ModelRegistry& registry_;
    EventPageSource events_;
    LabelSource labels_;
    TrainingOptions options_;
    std::function<void(const TrainingJob&)> journal_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> jobs_;  // every job known, oldest first
    std::deque<std::shared_ptr<Job>> queue_;
    bool stopping_ = false;
    bool auto_queued_ = false;
    std::thread worker_;
};

}  // namespace sai::ml
