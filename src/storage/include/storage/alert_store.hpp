#pragma once
// Durable home of alerts and what surrounds them: their change history,
// suppressions, the remediation blocklist and the labels analysts' verdicts give.

#include "core/error.hpp"
#include "model/alert.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sai::storage {

struct AlertQuery {
    std::vector<model::AlertStatus> statuses;  // empty: any
    std::optional<model::Severity> severity_min;
    std::optional<std::string> rule_id;
    std::optional<std::string> host;
    std::optional<std::string> user;
    std::optional<std::string> ip;
    std::optional<std::string> assignee;
    std::optional<std::string> tactic;
    std::optional<std::string> technique;
    std::optional<std::int64_t> from_ms;  // last_seen >= from
    std::optional<std::int64_t> to_ms;    // first_seen < to
    std::optional<std::string> text;      // in title or description, case-insensitive
    enum class Sort { LastSeen, FirstSeen, Severity, Risk, Count } sort = Sort::LastSeen;
    bool descending = true;
    std::size_t offset = 0;
    std::size_t limit = 100;
};

/// The alerts column a query sorts by (the same name in every SQL backend).
constexpr const char* sort_column(AlertQuery::Sort sort) {
    switch (sort) {
    case AlertQuery::Sort::LastSeen: return "last_seen";
    case AlertQuery::Sort::FirstSeen: return "first_seen";
    case AlertQuery::Sort::Severity: return "severity";
    case AlertQuery::Sort::Risk: return "risk";
    case AlertQuery::Sort::Count: return "count";
    }
    return "last_seen";
}

/// Aggregates over alerts first seen in [from, to): the business metrics.
struct AlertSummary {
    struct Day {
        std::string day;  // YYYY-MM-DD (UTC)
        std::int64_t low = 0, medium = 0, high = 0, critical = 0;
    };
    struct Top {
        std::string key;    // rule id, host name or user name
        std::string label;  // rule title (rules only)
        std::int64_t alerts = 0;
        std::int64_t detections = 0;
    };
    std::int64_t alerts = 0;
    std::vector<Day> per_day;
    std::vector<std::pair<std::string, std::int64_t>> by_status;
    std::vector<Top> top_rules;  // at most 10
    std::vector<Top> top_hosts;
    std::vector<Top> top_users;
    std::vector<std::pair<std::string, std::int64_t>> tactics;
    std::optional<double> mtta_seconds;  // creation to the first status change
    std::optional<double> mttr_seconds;  // creation to resolved / false_positive
};

/// Thread-safe; synchronous (callers on I/O threads use the blocking pool).
class AlertStore {
public:
    virtual ~AlertStore() = default;

    /// Inserts or replaces `alerts` (by id) and appends `changes`, in one transaction.
    virtual core::Result<void> save(std::span<const model::Alert> alerts, std::span<const model::AlertChange> changes) = 0;
    virtual core::Result<model::Alert> get(std::string_view id) = 0;
    /// The open alert (new, acknowledged, investigating) with this fingerprint
    /// seen at or after `since_ms`, the most recent one; NotFound when none.
    virtual core::Result<model::Alert> find_open(std::string_view fingerprint, std::int64_t since_ms) = 0;
    virtual core::Result<std::vector<model::Alert>> query(const AlertQuery& query) = 0;
    /// Oldest first.
    virtual core::Result<std::vector<model::AlertChange>> history(std::string_view alert_id) = 0;
    /// Alerts per status, for metrics and reports.
    virtual core::Result<std::vector<std::pair<std::string, std::int64_t>>> count_by_status() = 0;
    /// Alerts per severity and status (open ones included), for metrics.
    virtual core::Result<std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>>>
    count_by_severity_and_status() = 0;
    virtual core::Result<AlertSummary> summary(std::int64_t from_ms, std::int64_t to_ms) = 0;

    virtual core::Result<void> add_suppression(const model::Suppression& s) = 0;
    virtual core::Result<std::vector<model::Suppression>> suppressions() = 0;
    virtual core::Result<void> delete_suppression(std::string_view id) = 0;  // NotFound when absent
    /// Adds `hits` to each suppression's counter.
    virtual core::Result<void> add_suppression_hits(std::span<const std::pair<std::string, std::int64_t>> hits) = 0;

    /// Inserts or extends (same ip: the later expiry wins).
    virtual core::Result<void> block(const model::BlockedAddress& b) = 0;
    virtual core::Result<void> unblock(std::string_view ip) = 0;  // NotFound when absent
    /// Entries not expired at `now_ms`.
    virtual core::Result<std::vector<model::BlockedAddress>> blocklist(std::int64_t now_ms) = 0;

    /// Idempotent by (event_id, alert_id): a later verdict replaces the earlier label.
    virtual core::Result<void> add_labels(std::span<const model::AlertLabel> labels) = 0;
    virtual core::Result<std::vector<model::AlertLabel>> labels(std::int64_t since_ms, std::size_t limit) = 0;
};

}  // namespace sai::storage
