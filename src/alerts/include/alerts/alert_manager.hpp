#pragma once
// Detections in, deduplicated alerts out. Pipeline workers submit detections
// (non-blocking, bounded); a flush thread applies suppressions, merges each
// detection into the open alert with the same fingerprint (rule + group key)
// seen within the dedup window or opens a new one, stores the changed alerts in
// one transaction, then tells listeners (WebSocket, notifications).
// The workflow (status changes, comments, manual alerts) goes through here too,
// so an alert is only ever changed under one lock.

#include "core/error.hpp"
#include "model/alert.hpp"
#include "storage/alert_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sai::alerts {

struct AlertManagerOptions {
    std::chrono::milliseconds dedup_window{std::chrono::hours(1)};  // since the alert's last detection
    std::chrono::milliseconds flush_interval{100};
    std::size_t queue_capacity = 100'000;  // detections waiting; beyond this they are dropped and counted
    std::size_t cache_capacity = 50'000;   // open alerts kept in memory for deduplication
};

struct AlertManagerStats {
    std::uint64_t received = 0;
    std::uint64_t suppressed = 0;
    std::uint64_t dropped = 0;  // queue full
    std::uint64_t created = 0;
    std::uint64_t merged = 0;  // detections folded into an existing alert
    std::uint64_t flushes = 0;
    std::uint64_t store_errors = 0;
    std::size_t queue_depth = 0;
    std::size_t cached_alerts = 0;
};

/// An alert after a change, as listeners see it.
struct AlertUpdate {
    model::Alert alert;
    bool created = false;
};

/// Fingerprint of a detection: hex SHA-256 of the rule id and the group key
/// (the detection's own, or its first IP, else first user, else first host).
std::string fingerprint(const model::Detection& detection);
/// The alert a detection opens (count 1), with `id` and times set.
model::Alert alert_from_detection(const model::Detection& detection, std::string id, std::int64_t now_ms);
/// Folds a detection into an alert: count, first/last seen, evidence (newest
/// kept), entities, and the higher severity and risk.
void merge_detection(model::Alert& alert, const model::Detection& detection, std::int64_t now_ms);

/// A status change as the API asks for it.
struct StatusChange {
    model::AlertStatus to = model::AlertStatus::Acknowledged;
    std::string comment;  // required for resolved / false_positive: the verdict's reason
    std::optional<std::string> assignee;
};

/// What a suppression would have removed.
struct SuppressionPreview {
    std::int64_t alerts = 0;
    std::int64_t detections = 0;  // sum of their counts
    std::vector<std::string> sample_ids;  // up to 20
};

/// Owned by the composition root; lives from start() to stop(). All methods are
/// thread-safe; submit() never blocks, the others may (store access).
class AlertManager {
public:
    using Listener = std::function<void(const std::vector<AlertUpdate>&)>;
    using Clock = std::function<std::int64_t()>;  // Unix ms

    AlertManager(storage::AlertStore& store, AlertManagerOptions options, Clock clock = {});
    ~AlertManager();  // stops

    /// Before start(). Called on the flush thread (or the caller's thread for
    /// workflow changes) after the change is stored; must return quickly.
    void add_listener(Listener listener);
    void start();
    /// Applies and stores everything pending, then joins the flush thread.
    void stop();

    void submit(std::vector<model::Detection> detections);
    /// Applies and stores everything submitted so far (tests, benchmarks, shutdown).
    void flush();

    core::Result<model::Alert> create_manual(model::Detection detection, const std::string& actor);
    /// InvalidArgument when a verdict has no reason; Conflict (naming the allowed
    /// statuses) when the workflow does not allow the change; NotFound.
    core::Result<model::Alert> change_status(const std::string& id, const StatusChange& change, const std::string& actor);
    core::Result<model::AlertChange> comment(const std::string& id, const std::string& text, const std::string& actor);
    /// Appends a change made elsewhere (remediation) to an alert's history.
    core::Result<void> record(model::AlertChange change);

    core::Result<model::Suppression> add_suppression(model::Suppression suppression);
    core::Result<void> delete_suppression(const std::string& id);
    core::Result<std::vector<model::Suppression>> suppressions();
    /// Over the alerts last seen in the past `days` days.
    core::Result<SuppressionPreview> preview(const model::Suppression& suppression, int days);

    AlertManagerStats stats() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::alerts
