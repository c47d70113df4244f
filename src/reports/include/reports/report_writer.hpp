#pragma once
// Rendering of a report, format by format. A report is written as a stream of
// blocks (headings, paragraphs, charts, tables whose rows arrive one by one),
// so a table of a million rows never sits in memory: each writer puts rows into
// its file as they come.
//
//   pdf   cairo's PDF surface: A4 pages, wrapped table cells, header rows repeated
//         after page breaks, page numbers.
//   html  one self-contained page: inline CSS and SVG charts, no external assets.
//   csv   RFC 4180 blocks separated by an empty line; each block's first row is its
//         header (charts become two-column blocks).
//   json  {"report": {...}, "sections": [{"kind": "heading"|"paragraph"|"chart"|"table", ...}]}

#include "core/error.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sai::reports {

struct ReportMeta {
    std::string id;
    std::string type;
    std::string title;
    std::int64_t generated_at = 0;  // Unix ms
    std::int64_t from_ms = 0;
    std::int64_t to_ms = 0;
    bool landscape = false;  // wide tables: PDF pages turn sideways
};

struct Column {
    std::string name;
    double width = 1;      // relative width in laid-out formats
    bool numeric = false;  // JSON writes the cell as a number; PDF and HTML align it right
};

struct ChartPoint {
    std::string label;
    double value = 0;
    std::string color;  // "#rrggbb"; empty: the writer's palette
};

struct Chart {
    enum class Kind { Line, Bar } kind = Kind::Line;
    std::string title;
    std::string label_name;  // e.g. "time", "severity": the CSV and JSON names
    std::string value_name;  // e.g. "alerts"
    std::vector<ChartPoint> points;
};

/// Where a chart landed in a PDF: page (1-based) and rectangle in points from the
/// page's top-left corner. Tests render the page and look inside it.
struct Box {
    int page = 0;
    double x = 0;
    double y = 0;
    double width = 0;
    double height = 0;
};

struct WriteSummary {
    int pages = 0;            // PDF only
    std::vector<Box> charts;  // PDF only
};

/// One report being written to one file. Single-threaded; call begin() first,
/// then blocks, then finish() once. Table rows must have one cell per column.
class ReportWriter {
public:
    virtual ~ReportWriter() = default;

    virtual void begin(const ReportMeta& meta) = 0;
    virtual void heading(std::string_view text) = 0;
    virtual void paragraph(std::string_view text) = 0;
    virtual void chart(const Chart& chart) = 0;
    virtual void table_begin(std::string_view title, std::span<const Column> columns) = 0;
    virtual void table_row(std::span<const std::string> cells) = 0;
    virtual void table_end() = 0;
    /// Completes and closes the file; Unavailable when it could not be written.
    virtual core::Result<WriteSummary> finish() = 0;
};

/// The formats, in the order the API lists them.
inline constexpr std::string_view kReportFormats[] = {"pdf", "html", "csv", "json"};

/// A writer for `format` (one of kReportFormats) into `file` (created or truncated).
core::Result<std::unique_ptr<ReportWriter>> make_report_writer(std::string_view format,
                                                               const std::filesystem::path& file);

/// "application/pdf", "text/html; charset=utf-8"... and the file extension of a format.
std::string_view content_type(std::string_view format) noexcept;
std::string_view file_extension(std::string_view format) noexcept;

}  // namespace sai::reports
