#pragma once
// A generated report: what was asked (type, format, time range, filters), who
// asked, and where its file stands. The file itself lives under
// <data_dir>/reports/; this is the metadata kept in the store.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sai::model {

/// Lifecycle: queued -> running -> ready | failed.
enum class ReportStatus { Queued, Running, Ready, Failed };

inline std::string_view to_string(ReportStatus status) noexcept {
    switch (status) {
    case ReportStatus::Queued: return "queued";
    case ReportStatus::Running: return "running";
    case ReportStatus::Ready: return "ready";
    case ReportStatus::Failed: return "failed";
    }
    return "failed";
}

inline std::optional<ReportStatus> parse_report_status(std::string_view text) noexcept {
    for (auto s : {ReportStatus::Queued, ReportStatus::Running, ReportStatus::Ready, ReportStatus::Failed}) {
        if (to_string(s) == text) {
            return s;
        }
    }
    return std::nullopt;
}

struct Report {
    std::string id;      // UUIDv7; also the file's base name
    std::string type;    // executive_summary, alerts, incident, compliance_audit, ml_performance
    std::string format;  // pdf, html, csv, json
    ReportStatus status = ReportStatus::Queued;
    std::string error;  // why it failed (failed only)
    std::string created_by;
    std::int64_t created_at = 0;   // Unix ms
    std::int64_t finished_at = 0;  // Unix ms; 0 until ready or failed
    std::int64_t from_ms = 0;      // the range reported on, [from, to)
    std::int64_t to_ms = 0;
    std::string filters;  // JSON object text ("{}" when none)
    std::int64_t size_bytes = 0;
};

}  // namespace sai::model
