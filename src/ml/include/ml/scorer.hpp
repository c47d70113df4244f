#pragma once
// Online scoring of events with the registry's active models: features from
// one shared FeatureExtractor, ml.anomaly_score from the active anomaly
// detector (Isolation Forest), ml.threat_class / ml.confidence from the active
// threat classifier (Random Forest), ml.explanation (top features) on events
// that look anomalous or non-benign, and the Detections they warrant.
//
// Detections: "ml.anomaly" when the anomaly score exceeds the alert threshold
// (ScorerOptions::alert_threshold, or the model's contamination threshold when
// that is <= 0), "ml.malicious" when the classifier says malicious.

#include "core/metrics.hpp"
#include "ml/features.hpp"
#include "ml/matrix.hpp"
#include "ml/registry.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sai::ml {

/// The API's names of the two model roles.
inline constexpr std::string_view kAnomalyDetector = "anomaly_detector";
inline constexpr std::string_view kThreatClassifier = "threat_classifier";
std::optional<ModelKind> parse_model_role(std::string_view role);
std::string_view model_role(ModelKind kind);

struct ScorerOptions {
    double alert_threshold = 0;         // anomaly score above which ml.anomaly fires; <= 0: the model's threshold
    std::size_t explain_top = 5;        // features in ml.explanation
    std::size_t drift_window = 5000;    // recent feature rows kept for drift (bounded memory)
    FeatureExtractorOptions features;
};

inline constexpr std::size_t kScoreBins = 10;  // score histogram: [0, 0.1), ..., [0.9, 1]

struct ScorerStats {
    std::uint64_t scored = 0;         // events that went through a model
    std::uint64_t anomalies = 0;      // above the alert threshold
    std::uint64_t schema_mismatch = 0;  // skipped: the active model expects another feature schema
    std::map<std::string, std::uint64_t> predictions;  // per threat class
    std::array<std::uint64_t, kScoreBins> score_histogram{};
    double latency_p50_s = 0;
    double latency_p99_s = 0;
};

/// The recent rows scored, oldest first: the "current" side of drift.
struct RecentWindow {
    Matrix features;
    std::vector<double> scores;  // anomaly scores (empty rows when no detector was active)
    std::int64_t first_event_ms = 0;
    std::int64_t last_event_ms = 0;
};

/// Scores events for the pipeline. score() is called from the pipeline thread;
/// stats() and recent() from any thread. Reads models through the registry's
/// atomic pointers, so a model swap never pauses scoring. Lives as long as the pipeline.
class EventScorer {
public:
    EventScorer(const ModelRegistry& registry, ScorerOptions options,
                core::metrics::Registry& metrics = core::metrics::default_registry());

    /// Fills the ml.* fields of `event` (those of a missing model stay unset)
    /// and appends the detections it warrants to `detections`.
    void score(model::Event& event, std::vector<model::Detection>& detections);

    ScorerStats stats() const;
    RecentWindow recent() const;
    /// Events seen since start, scored or not (auto-training counts them).
    std::uint64_t events_seen() const;

private:
    const ModelRegistry& registry_;
    ScorerOptions options_;
    FeatureExtractor extractor_;
    std::vector<float> row_;
    core::metrics::Histogram& latency_;
    core::metrics::Counter& anomalies_counter_;
    std::map<std::string, core::metrics::Counter*> class_counters_;
    core::metrics::Registry& metrics_;

    mutable std::mutex mutex_;  // guards what stats() and recent() read
    ScorerStats stats_;
    std::deque<std::vector<float>> recent_rows_;
    std::deque<double> recent_scores_;
    std::deque<std::int64_t> recent_times_;
    std::uint64_t seen_ = 0;
};

}  // namespace sai::ml
