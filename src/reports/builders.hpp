#pragma once
// Private: what the per-type builders share. Each builder reads through the
// streaming helpers below and writes through `out`.

#include "reports/report_builder.hpp"

#include <functional>
#include <map>
#include <unordered_map>

namespace sai::reports {

struct BuildContext {
    const ReportSpec& spec;
    storage::Store& store;
    const ReportHooks& hooks;
    ReportWriter& out;
    std::size_t page_size;
};

core::Result<void> build_executive_summary(BuildContext& ctx);
core::Result<void> build_alerts(BuildContext& ctx);
core::Result<void> build_incident(BuildContext& ctx);
core::Result<void> build_compliance_audit(BuildContext& ctx);
core::Result<void> build_ml_performance(BuildContext& ctx);

/// The alert query of a report: its range and alert filters, oldest first.
storage::AlertQuery alert_query(const ReportSpec& spec);
/// Calls `visit` for every alert matching `query`, one page at a time.
core::Result<void> for_each_alert(storage::AlertStore& store, storage::AlertQuery query, std::size_t page_size,
                                  const std::function<core::Result<void>(const model::Alert&)>& visit);
/// Every event in the report's range (host/user filters applied), newest first, one page at a time.
core::Result<void> for_each_event(storage::EventStore& store, const ReportSpec& spec, std::size_t page_size,
                                  const std::function<void(const model::Event&)>& visit);
/// Every audit entry in the report's range (actor/action filters applied), newest first.
core::Result<void> for_each_audit(storage::AuditStore& store, const ReportSpec& spec, std::size_t page_size,
                                  const std::function<void(const storage::AuditRecord&)>& visit);

/// Counts per time bucket over [from, to): hours, days or weeks, at most ~120 buckets.
class TimeBuckets {
public:
    TimeBuckets(std::int64_t from_ms, std::int64_t to_ms);
    void add(std::int64_t at_ms, double amount = 1);
    Chart chart(std::string title, std::string value_name) const;

private:
    std::int64_t from_;
    std::int64_t width_;
    std::vector<double> counts_;
};

/// Counts per key, capped at kMaxTrackedEntities keys (later new keys go to `other`).
class Tally {
public:
    void add(const std::string& key, double amount = 1);
    /// The `n` largest, largest first (ties by key).
    std::vector<std::pair<std::string, double>> top(std::size_t n) const;
    double get(const std::string& key) const;
    std::size_t size() const { return counts_.size(); }
    double other() const { return other_; }

private:
    std::unordered_map<std::string, double> counts_;
    double other_ = 0;
};

/// A two-column table (name, value).
void key_values(ReportWriter& out, std::string_view title, std::string_view key_name, std::string_view value_name,
                const std::vector<std::pair<std::string, std::string>>& rows);

/// A two-column table (key, count) of the `n` largest entries of a tally.
void tally_table(ReportWriter& out, std::string_view title, std::string_view key_name, std::string_view value_name,
                 const Tally& tally, std::size_t n);

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");
/// Hex colour of a severity for charts.
std::string severity_color(model::Severity severity);

}  // namespace sai::reports
