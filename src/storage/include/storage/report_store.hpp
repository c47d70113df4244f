#pragma once
// Metadata of generated reports (the files live on disk, see reports/).

#include "core/error.hpp"
#include "model/report.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sai::storage {

struct ReportQuery {
    std::optional<std::string> type;
    std::optional<model::ReportStatus> status;
    std::optional<std::string> created_by;
    std::optional<std::pair<std::int64_t, std::string>> before;  // cursor: (created_at, id) of the last row seen
    std::size_t limit = 50;
};

/// Thread-safe; synchronous (callers on I/O threads use the blocking pool).
class ReportStore {
public:
    virtual ~ReportStore() = default;

    /// Conflict when the id exists.
    virtual core::Result<void> insert(const model::Report& report) = 0;
    /// Replaces every field of the report with this id; NotFound when absent.
    virtual core::Result<void> update(const model::Report& report) = 0;
    virtual core::Result<model::Report> get(std::string_view id) = 0;
    /// Newest first (created_at, then id).
    virtual core::Result<std::vector<model::Report>> list(const ReportQuery& query) = 0;
    /// NotFound when absent.
    virtual core::Result<void> remove(std::string_view id) = 0;
    /// Up to `limit` reports created before `before_ms`, oldest first (for retention).
    virtual core::Result<std::vector<model::Report>> created_before(std::int64_t before_ms, std::size_t limit) = 0;
    /// Reports left queued or running (by a process that stopped), for recovery at start-up.
    virtual core::Result<std::vector<model::Report>> unfinished() = 0;
};

}  // namespace sai::storage
