#include "ml/scorer.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace sai::ml {
namespace {

namespace bj = boost::json;

std::vector<double> inference_buckets() {
    return {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 5e-3, 1e-2};
}

model::Severity severity_from_score(double score, double threshold) {
    const double over = score - threshold;
    if (over >= 0.2) return model::Severity::High;
    if (over >= 0.1) return model::Severity::Medium;
    return model::Severity::Low;
}

model::Entities entities_of(const model::Event& event) {
    model::Entities e;
    if (!event.source_ip.empty()) e.ips.push_back(event.source_ip);
    if (!event.user_name.empty()) e.users.push_back(event.user_name);
    if (!event.host_name.empty()) e.hosts.push_back(event.host_name);
    return e;
}

bj::array features_json(std::span<const FeatureContribution> contributions, std::span<const float> row) {
    bj::array out;
    for (const auto& c : contributions) {
        out.push_back(bj::object{{"name", c.name},
                                 {"value", c.feature < row.size() ? static_cast<double>(row[c.feature]) : 0.0},
                                 {"contribution", c.value}});
    }
    return out;
}

}  // namespace

std::optional<ModelKind> parse_model_role(std::string_view role) {
    if (role == kAnomalyDetector) return ModelKind::IsolationForest;
    if (role == kThreatClassifier) return ModelKind::RandomForest;
    return std::nullopt;
}

std::string_view model_role(ModelKind kind) {
    return kind == ModelKind::IsolationForest ? kAnomalyDetector : kThreatClassifier;
}

EventScorer::EventScorer(const ModelRegistry& registry, ScorerOptions options, core::metrics::Registry& metrics)
    : registry_(registry),
      options_(options),
      extractor_(options.features),
      row_(FeatureExtractor::feature_count()),
      latency_(metrics.histogram("securityai_ml_inference_seconds", "Time to extract features and score one event.",
                                 {}, inference_buckets())),
      anomalies_counter_(metrics.counter("securityai_ml_anomalies_total",
                                         "Events scored above the anomaly alert threshold.")),
      metrics_(metrics) {}

void EventScorer::score(model::Event& event, std::vector<model::Detection>& detections) {
    const auto started = std::chrono::steady_clock::now();
    extractor_.extract(event, row_);
    auto detector = registry_.active(ModelKind::IsolationForest);
    auto classifier = registry_.active(ModelKind::RandomForest);
    const auto n = row_.size();
    bool mismatch = false;
    if (detector && !detector->check_schema(kEventSchemaName, kEventSchemaVersion, n)) {
        detector.reset();
        mismatch = true;
    }
    if (classifier && !classifier->check_schema(kEventSchemaName, kEventSchemaVersion, n)) {
        classifier.reset();
        mismatch = true;
    }

    double score = -1;
    bool anomalous = false;
    double threshold = 0;
    std::vector<FeatureContribution> why;
    if (detector) {
        const auto& forest = *detector->isolation_forest;
        score = forest.score(row_);
        threshold = options_.alert_threshold > 0 ? options_.alert_threshold : forest.threshold();
        event.anomaly_score = score;
        anomalous = score > threshold;
        if (anomalous) {
            why = forest.explain(row_, options_.explain_top, detector->feature_names);
        }
    }
    std::string klass;
    if (classifier) {
        const auto& forest = *classifier->random_forest;
        std::vector<double> proba(forest.n_classes());
        const auto best = forest.predict_proba(row_, proba);
        klass = forest.classes()[best];
        event.threat_class = klass;
        event.ml_confidence = proba[best];
        if (klass != "benign" && why.empty()) {
            why = forest.explain(row_, best, options_.explain_top, classifier->feature_names);
        }
    }
    if (!why.empty()) {
        event.ml_explanation = format_explanation(why);
    }

    const model::Entities entities = entities_of(event);
    if (anomalous) {
        model::Detection d;
        d.rule_id = "ml.anomaly";
        d.title = "Anomalous event";
        d.description = "The anomaly detector scored this event " + std::to_string(score) + " (threshold " +
                        std::to_string(threshold) + "): " + event.ml_explanation;
        d.source = "ml";
        d.severity = severity_from_score(score, threshold);
        d.risk = std::min(100.0, score * 100.0);
        d.entities = entities;
        d.event_ids = {event.id};
        d.timestamp = event.timestamp;
        d.explanation = model::to_json_text(bj::object{{"anomaly_score", score},
                                                 {"threshold", threshold},
                                                 {"features", features_json(why, row_)}});
        detections.push_back(std::move(d));
    }
    if (klass == "malicious") {
        model::Detection d;
        d.rule_id = "ml.malicious";
        d.title = "Event classified malicious";
        d.description = "The threat classifier says malicious with confidence " +
                        std::to_string(*event.ml_confidence) + ": " + event.ml_explanation;
        d.source = "ml";
        d.severity = *event.ml_confidence >= 0.9 ? model::Severity::Critical : model::Severity::High;
        d.risk = *event.ml_confidence * 100.0;
        d.entities = entities;
        d.event_ids = {event.id};
        d.timestamp = event.timestamp;
        d.explanation = model::to_json_text(bj::object{{"threat_class", klass},
                                                 {"confidence", *event.ml_confidence},
                                                 {"features", features_json(why, row_)}});
        detections.push_back(std::move(d));
    }

    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (detector || classifier) {
        latency_.observe(elapsed);
    }
    if (anomalous) {
        anomalies_counter_.inc();
    }
    core::metrics::Counter* class_counter = nullptr;
    if (!klass.empty()) {
        auto it = class_counters_.find(klass);
        if (it == class_counters_.end()) {
            it = class_counters_
                     .emplace(klass, &metrics_.counter("securityai_ml_predictions_total",
                                                       "Events per predicted threat class.", {{"class", klass}}))
                     .first;
        }
        class_counter = it->second;
        class_counter->inc();
    }

    std::lock_guard lock(mutex_);
    ++seen_;
    stats_.schema_mismatch += mismatch ? 1 : 0;
    if (detector || classifier) ++stats_.scored;
    if (anomalous) ++stats_.anomalies;
    if (!klass.empty()) ++stats_.predictions[klass];
    if (score >= 0) {
        const auto bin = std::min<std::size_t>(kScoreBins - 1, static_cast<std::size_t>(score * kScoreBins));
        ++stats_.score_histogram[bin];
    }
    recent_rows_.push_back(row_);
    recent_scores_.push_back(score);
    recent_times_.push_back(event.timestamp);
    while (recent_rows_.size() > options_.drift_window) {
        recent_rows_.pop_front();
        recent_scores_.pop_front();
        recent_times_.pop_front();
    }
}

ScorerStats EventScorer::stats() const {
    std::lock_guard lock(mutex_);
    ScorerStats s = stats_;
    s.latency_p50_s = latency_.count() ? latency_.quantile(0.5) : 0;
    s.latency_p99_s = latency_.count() ? latency_.quantile(0.99) : 0;
    return s;
}

RecentWindow EventScorer::recent() const {
    std::lock_guard lock(mutex_);
    RecentWindow w;
    w.features = Matrix(recent_rows_.size(), FeatureExtractor::feature_count());
    for (std::size_t i = 0; i < recent_rows_.size(); ++i) {
        std::copy(recent_rows_[i].begin(), recent_rows_[i].end(), w.features.row(i).begin());
        if (recent_scores_[i] >= 0) w.scores.push_back(recent_scores_[i]);
    }
    if (!recent_times_.empty()) {
        w.first_event_ms = recent_times_.front();
        w.last_event_ms = recent_times_.back();
    }
    return w;
}

std::uint64_t EventScorer::events_seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
}

}  // namespace sai::ml
