// The CSV, JSON and HTML writers: text streamed straight into the file.

#include "core/json_text.hpp"
#include "core/time.hpp"
#include "format_util.hpp"

#include <charconv>
#include <cmath>
#include <fstream>

namespace sai::reports {

std::unique_ptr<ReportWriter> make_pdf_writer(const std::filesystem::path& file, core::Error& error);

namespace {

/// Owns the output stream; finish() reports write errors.
class FileWriter : public ReportWriter {
public:
    explicit FileWriter(const std::filesystem::path& file) : out_(file, std::ios::binary | std::ios::trunc) {}
    bool is_open() const { return out_.is_open(); }

    core::Result<WriteSummary> finish() override {
        close_document();
        out_.flush();
        const bool ok = static_cast<bool>(out_);
        out_.close();
        if (!ok) {
            return core::make_error(core::Errc::Unavailable, "could not write the report file");
        }
        return WriteSummary{};
    }

protected:
    virtual void close_document() = 0;
    std::ofstream out_;
};

// Cells that a spreadsheet would run as formulas get a leading apostrophe (CSV injection).
std::string csv_field(std::string_view text) {
    std::string value = core::sanitize_utf8(text);
    if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@' ||
                           value[0] == '\t' || value[0] == '\r')) {
        bool number = false;
        double parsed = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
        number = ec == std::errc{} && end == value.data() + value.size();
        if (!number) {
            value.insert(value.begin(), '\'');
        }
    }
    if (value.find_first_of(",\"\r\n") == std::string::npos) {
        return value;
    }
    std::string quoted = "\"";
    for (char c : value) {
        quoted += c;
        if (c == '"') {
            quoted += '"';
        }
    }
    return quoted + "\"";
}

class CsvWriter final : public FileWriter {
public:
    using FileWriter::FileWriter;

    void begin(const ReportMeta& m) override {
        row({"field", "value"});
        row({"report", m.title});
        row({"id", m.id});
        row({"type", m.type});
        row({"from", core::format_rfc3339_ms(m.from_ms)});
        row({"to", core::format_rfc3339_ms(m.to_ms)});
        row({"generated_at", core::format_rfc3339_ms(m.generated_at)});
    }
    void heading(std::string_view) override {}
    void paragraph(std::string_view text) override {
        out_ << "\r\n";
        row({"note"});
        row({std::string(text)});
    }
    void chart(const Chart& c) override {
        out_ << "\r\n";
        row({c.label_name, c.value_name});
        for (const auto& p : c.points) {
            row({p.label, format_number(p.value, 3)});
        }
    }
    void table_begin(std::string_view, std::span<const Column> columns) override {
        out_ << "\r\n";
        std::vector<std::string> names;
        for (const auto& c : columns) {
            names.push_back(c.name);
        }
        row(names);
    }
    void table_row(std::span<const std::string> cells) override { row(cells); }
    void table_end() override {}

private:
    void close_document() override {}
    void row(std::span<const std::string> cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
            out_ << (i ? "," : "") << csv_field(cells[i]);
        }
        out_ << "\r\n";
    }
    void row(std::initializer_list<std::string> cells) { row(std::span(cells.begin(), cells.size())); }
};

// A numeric cell as a JSON number when it parses as a finite one, else as a string.
void json_cell(std::string& out, const std::string& text, bool numeric) {
    if (numeric) {
        double v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec == std::errc{} && end == text.data() + text.size() && std::isfinite(v)) {
            char buf[64];
            auto r = std::to_chars(buf, buf + sizeof buf, v);
            out.append(buf, r.ptr);
            return;
        }
    }
    core::append_json_string(out, text);
}

class JsonWriter final : public FileWriter {
public:
    using FileWriter::FileWriter;

    void begin(const ReportMeta& m) override {
        std::string s = "{\"report\":{\"id\":";
        core::append_json_string(s, m.id);
        s += ",\"type\":";
        core::append_json_string(s, m.type);
        s += ",\"title\":";
        core::append_json_string(s, m.title);
        s += ",\"generated_at\":\"" + core::format_rfc3339_ms(m.generated_at) + "\",\"from\":\"" + core::format_rfc3339_ms(m.from_ms) +
             "\",\"to\":\"" + core::format_rfc3339_ms(m.to_ms) + "\"},\"sections\":[";
        out_ << s;
    }
    void heading(std::string_view text) override { text_section("heading", text); }
    void paragraph(std::string_view text) override { text_section("paragraph", text); }
    void chart(const Chart& c) override {
        std::string s = separator() + "{\"kind\":\"chart\",\"chart\":";
        s += c.kind == Chart::Kind::Line ? "\"line\"" : "\"bar\"";
        s += ",\"title\":";
        core::append_json_string(s, c.title);
        s += ",\"label\":";
        core::append_json_string(s, c.label_name);
        s += ",\"value\":";
        core::append_json_string(s, c.value_name);
        s += ",\"points\":[";
        for (std::size_t i = 0; i < c.points.size(); ++i) {
            s += i ? ",{\"label\":" : "{\"label\":";
            core::append_json_string(s, c.points[i].label);
            s += ",\"value\":";
            json_cell(s, format_number(c.points[i].value, 6), true);
            s += "}";
        }
        out_ << s << "]}";
    }
    void table_begin(std::string_view title, std::span<const Column> columns) override {
        columns_.assign(columns.begin(), columns.end());
        rows_ = 0;
        std::string s = separator() + "{\"kind\":\"table\",\"title\":";
        core::append_json_string(s, title);
        s += ",\"columns\":[";
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i) s += ",";
            core::append_json_string(s, columns[i].name);
        }
        out_ << s << "],\"rows\":[";
    }
    void table_row(std::span<const std::string> cells) override {
        std::string s = rows_++ ? ",{" : "{";
        for (std::size_t i = 0; i < cells.size() && i < columns_.size(); ++i) {
            if (i) s += ",";
            core::append_json_string(s, columns_[i].name);
            s += ":";
            json_cell(s, cells[i], columns_[i].numeric);
        }
        out_ << s << "}";
    }
    void table_end() override { out_ << "]}"; }

private:
    void close_document() override { out_ << "]}\n"; }
    std::string separator() { return sections_++ ? "," : ""; }
    void text_section(std::string_view kind, std::string_view text) {
        std::string s = separator() + "{\"kind\":\"" + std::string(kind) + "\",\"text\":";
        core::append_json_string(s, text);
        out_ << s << "}";
    }
    std::size_t sections_ = 0;
    std::size_t rows_ = 0;
    std::vector<Column> columns_;
};

constexpr std::string_view kHtmlStyle = R"css(
body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1d2430;max-width:1100px;margin:2em auto;padding:0 1em}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #d8dde6;padding-bottom:.2em}
.meta{color:#5a6472}table{border-collapse:collapse;width:100%;margin:.6em 0 1.2em;font-size:.9em}
th,td{border:1px solid #d8dde6;padding:4px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#eef1f5}tr:nth-child(even) td{background:#f8f9fb}td.num{text-align:right}
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}svg text{font-size:11px;fill:#3a4250}
)css";

class HtmlWriter final : public FileWriter {
public:
    using FileWriter::FileWriter;

    void begin(const ReportMeta& m) override {
        out_ << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << html_escape(m.title)
             << "</title><style>" << kHtmlStyle << "</style></head><body>\n<h1>" << html_escape(m.title)
             << "</h1>\n<p class=\"meta\">Generated " << format_time(m.generated_at) << " &middot; range "
             << format_time(m.from_ms) << " &ndash; " << format_time(m.to_ms) << " &middot; report "
             << html_escape(m.id) << "</p>\n";
    }
    void heading(std::string_view text) override { out_ << "<h2>" << html_escape(text) << "</h2>\n"; }
    void paragraph(std::string_view text) override { out_ << "<p>" << html_escape(text) << "</p>\n"; }
    void chart(const Chart& c) override {
        out_ << "<figure><figcaption>" << html_escape(c.title) << "</figcaption>\n";
        if (!has_data(c)) {
            out_ << "<p class=\"meta\">No data in this range.</p></figure>\n";
            return;
        }
        constexpr double kW = 720, kH = 240, kLeft = 50, kRight = 10, kTop = 10, kBottom = 40;
        const double plot_w = kW - kLeft - kRight;
        const double plot_h = kH - kTop - kBottom;
        double max = 0;
        for (const auto& p : c.points) max = std::max(max, p.value);
        const double top = axis_max(max);
        out_ << "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << kW << " " << kH
             << "\" width=\"100%\" role=\"img\" aria-label=\"" << html_escape(c.title) << "\">\n";
        for (int i = 0; i <= 4; ++i) {
            const double y = kTop + plot_h - plot_h * i / 4;
            out_ << "<line x1=\"" << kLeft << "\" y1=\"" << y << "\" x2=\"" << kW - kRight << "\" y2=\"" << y
                 << "\" stroke=\"#dde2ea\"/><text x=\"" << kLeft - 6 << "\" y=\"" << y + 4
                 << "\" text-anchor=\"end\">" << format_number(top * i / 4) << "</text>\n";
        }
        const std::size_t n = c.points.size();
        auto label_at = [&](std::size_t i, double x) {
            out_ << "<text x=\"" << x << "\" y=\"" << kH - kBottom + 16 << "\" text-anchor=\"middle\">"
                 << html_escape(c.points[i].label) << "</text>\n";
        };
        if (c.kind == Chart::Kind::Line) {
            std::string points;
            for (std::size_t i = 0; i < n; ++i) {
                const double x = kLeft + (n == 1 ? plot_w / 2 : plot_w * i / (n - 1));
                const double y = kTop + plot_h - plot_h * c.points[i].value / top;
                points += format_number(x, 2) + "," + format_number(y, 2) + " ";
            }
            out_ << "<polyline fill=\"none\" stroke=\"" << palette(0) << "\" stroke-width=\"2\" points=\"" << points
                 << "\"/>\n";
            for (std::size_t i : {std::size_t{0}, n / 2, n - 1}) {
                label_at(i, kLeft + (n == 1 ? plot_w / 2 : plot_w * i / (n - 1)));
                if (n < 3) break;
            }
        } else {
            const double slot = plot_w / n;
            for (std::size_t i = 0; i < n; ++i) {
                const double h = plot_h * c.points[i].value / top;
                const std::string color = c.points[i].color.empty() ? std::string(palette(i)) : c.points[i].color;
                out_ << "<rect x=\"" << kLeft + slot * i + slot * 0.15 << "\" y=\"" << kTop + plot_h - h
                     << "\" width=\"" << slot * 0.7 << "\" height=\"" << h << "\" fill=\"" << html_escape(color)
                     << "\"><title>" << html_escape(c.points[i].label) << ": " << format_number(c.points[i].value)
                     << "</title></rect>\n";
                label_at(i, kLeft + slot * (i + 0.5));
            }
        }
        out_ << "</svg></figure>\n";
    }
    void table_begin(std::string_view title, std::span<const Column> columns) override {
        numeric_.clear();
        out_ << "<h2>" << html_escape(title) << "</h2>\n<table><thead><tr>";
        for (const auto& c : columns) {
            numeric_.push_back(c.numeric);
            out_ << "<th>" << html_escape(c.name) << "</th>";
        }
        out_ << "</tr></thead><tbody>\n";
    }
    void table_row(std::span<const std::string> cells) override {
        out_ << "<tr>";
        for (std::size_t i = 0; i < cells.size(); ++i) {
            out_ << (i < numeric_.size() && numeric_[i] ? "<td class=\"num\">" : "<td>") << html_escape(cells[i])
                 << "</td>";
        }
        out_ << "</tr>\n";
    }
    void table_end() override { out_ << "</tbody></table>\n"; }

private:
    void close_document() override { out_ << "</body></html>\n"; }
    std::vector<bool> numeric_;
};

template <class W>
core::Result<std::unique_ptr<ReportWriter>> open_text(const std::filesystem::path& file) {
    auto w = std::make_unique<W>(file);
    if (!w->is_open()) {
        return core::make_error(core::Errc::Unavailable, "cannot create the report file");
    }
    return std::unique_ptr<ReportWriter>(std::move(w));
}

}  // namespace

core::Result<std::unique_ptr<ReportWriter>> make_report_writer(std::string_view format,
                                                               const std::filesystem::path& file) {
    if (format == "csv") return open_text<CsvWriter>(file);
    if (format == "json") return open_text<JsonWriter>(file);
    if (format == "html") return open_text<HtmlWriter>(file);
    if (format == "pdf") {
        core::Error error;
        auto w = make_pdf_writer(file, error);
        if (!w) return error;
        return w;
    }
    return core::make_error(core::Errc::InvalidArgument, "unknown report format");
}

std::string_view content_type(std::string_view format) noexcept {
    if (format == "pdf") return "application/pdf";
    if (format == "html") return "text/html; charset=utf-8";
    if (format == "csv") return "text/csv; charset=utf-8";
    return "application/json";
}

std::string_view file_extension(std::string_view format) noexcept {
    if (format == "pdf") return "pdf";
    if (format == "html") return "html";
    if (format == "csv") return "csv";
    return "json";
}

}  // namespace sai::reports
