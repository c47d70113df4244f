#pragma once
// Building one report: read the store page by page, aggregate what the report
// type needs, and write it through a ReportWriter. Memory stays bounded whatever
// the range: alerts, events and audit entries are streamed in pages, tables are
// written row by row, and per-entity tallies are capped (kMaxTrackedEntities).
//
// Types:
//   executive_summary  alert trend, severity mix, top risky hosts and users, ATT&CK
//                      tactics, MTTA/MTTR from alert history, event volume
//   alerts             every alert in range with its status and verdict
//   incident           one alert (filters.alert_id): timeline, evidence events,
//                      entities, remediation actions
//   compliance_audit   audit entries in range, hash-chain verification, retention
//   ml_performance     registered models, their metrics and drift (through
//                      ReportHooks::ml_snapshot), and the verdict labels for training

#include "core/error.hpp"
#include "model/severity.hpp"
#include "model/alert.hpp"
#include "reports/report_writer.hpp"
#include "storage/store.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sai::reports {

inline constexpr std::string_view kReportTypes[] = {"executive_summary", "alerts", "incident", "compliance_audit",
                                                    "ml_performance"};
inline constexpr std::size_t kMaxTrackedEntities = 100'000;  // distinct hosts/users/actions tallied per report

/// Optional narrowing of a report. Alert filters apply to the alert-based types,
/// host/user also to events, actor/action to the audit log.
struct ReportFilters {
    std::optional<std::string> alert_id;  // incident: required
    std::optional<model::Severity> severity_min;
    std::vector<model::AlertStatus> statuses;
    std::optional<std::string> rule_id;
    std::optional<std::string> host;
    std::optional<std::string> user;
    std::optional<std::string> actor;   // audit entries of this actor ("user:alice")
    std::optional<std::string> action;  // audit entries with this action

    /// Parses the request's "filters" object; InvalidArgument names the bad field.
    static core::Result<ReportFilters> from_json(const boost::json::object& object);
    /// Canonical JSON object text (only the fields that are set).
    std::string to_json_text() const;
};

struct ReportSpec {
    std::string id;
    std::string type;    // one of kReportTypes
    std::string format;  // one of kReportFormats
    std::int64_t from_ms = 0;
    std::int64_t to_ms = 0;
    std::int64_t generated_at = 0;
    ReportFilters filters;
};

/// Result of the hash-chain check of the audit log (auth::verify_audit_chain).
struct AuditChainStatus {
    bool ok = true;
    std::int64_t entries = 0;
    std::int64_t first_broken_seq = 0;
    std::string reason;
};

/// One model version as the ML subsystem's registry describes it.
struct ModelVersionSummary {
    std::string model;  // "anomaly", "threat_classifier"
    std::string version;
    std::string status;  // "active", "candidate", "retired"
    std::int64_t trained_at = 0;  // Unix ms
    std::vector<std::pair<std::string, double>> metrics;  // "precision", "recall", "f1", "auc"...
    std::optional<double> drift;  // population stability index or similar; nullopt when not measured
};

struct MlSnapshot {
    std::vector<ModelVersionSummary> versions;
};

/// What the reports need from subsystems they must not depend on. Each is
/// optional; a report says plainly when one is missing.
struct ReportHooks {
    std::function<core::Result<AuditChainStatus>()> verify_audit_chain;
    /// The model registry (ml/): plug it in with one assignment in the composition root.
    std::function<core::Result<MlSnapshot>(std::int64_t from_ms, std::int64_t to_ms)> ml_snapshot;
    std::vector<std::pair<std::string, std::string>> retention_settings;  // (setting, value) for compliance
};

struct BuildOptions {
    std::size_t page_size = 500;  // rows read from the store per query
};

/// Builds the report into `file`. NotFound for an incident whose alert is gone;
/// store errors pass through. The caller owns the file (and removes it on error).
core::Result<WriteSummary> build_report(const ReportSpec& spec, storage::Store& store, const ReportHooks& hooks,
                                        const std::filesystem::path& file, BuildOptions options = {});

/// "Executive summary", "Alerts"...
std::string_view report_title(std::string_view type) noexcept;

}  // namespace sai::reports
