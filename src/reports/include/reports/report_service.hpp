#pragma once
// Report generation as a service: requests are validated and recorded
// (status "queued"), built one at a time by a background worker into
// <directory>/<id>.<ext>, then served for download. Old reports are deleted by
// the retention task. Reports interrupted by a restart are built again at start.

#include "core/error.hpp"
#include "model/report.hpp"
#include "reports/report_builder.hpp"
#include "storage/store.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::reports {

struct ReportServiceOptions {
    std::filesystem::path directory;  // <data_dir>/reports
    int retention_days = 30;          // reports older than this are deleted; 0 keeps them
    std::size_t queue_capacity = 32;  // reports waiting to be built; more are refused (Unavailable)
    std::size_t page_size = 500;      // store rows per query while building
    std::size_t max_download_bytes = std::size_t{256} << 20;
    std::chrono::milliseconds retention_interval{std::chrono::hours(1)};
};

inline constexpr std::int64_t kMaxRangeDays = 20 * 366;

/// Validates a generate request {"type", "format", "from", "to", "filters"}:
/// Unprocessable (listing the allowed values) for an unknown type or format,
/// InvalidArgument for a malformed, reversed, future or absurd range and bad filters.
/// Defaults: format pdf, to = now, from = to - 7 days.
core::Result<ReportSpec> parse_report_request(const boost::json::object& body, std::int64_t now_ms);

struct ReportDownload {
    model::Report report;
    std::string file_name;  // for Content-Disposition
    std::string_view content_type;
    std::string body;
};

/// Owned by the composition root; start() before use, stop() before the store
/// closes. Every method is thread-safe and may block on the store or the disk.
class ReportService {
public:
    using Clock = std::function<std::int64_t()>;  // Unix ms

    ReportService(storage::Store& store, ReportServiceOptions options, ReportHooks hooks, Clock clock = {});
    ~ReportService();  // stops
    ReportService(const ReportService&) = delete;
    ReportService& operator=(const ReportService&) = delete;

    /// Creates the directory, removes half-written files, queues reports left
    /// unfinished by the last run, runs retention once, starts the worker.
    core::Result<void> start();
    /// Finishes the report being built; queued ones stay queued for the next start.
    void stop();

    /// Validates and queues. NotFound when an incident's alert does not exist;
    /// Unavailable when the queue is full.
    core::Result<model::Report> submit(const boost::json::object& body, const std::string& actor);
    /// InvalidArgument when `id` is not a UUID.
    core::Result<model::Report> get(std::string_view id);
    core::Result<std::vector<model::Report>> list(const storage::ReportQuery& query);
    /// The file of a ready report. Conflict (with the status, and the reason for a
    /// failed report) when there is no file to give.
    core::Result<ReportDownload> download(std::string_view id);
    /// Deletes the record and the file; Conflict while the report is being built.
    core::Result<void> remove(std::string_view id);
    /// Deletes reports older than the retention period; returns how many.
    core::Result<std::size_t> purge_expired();
    /// Blocks until nothing is queued or being built (tests, benchmarks).
    void wait_idle();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::reports
