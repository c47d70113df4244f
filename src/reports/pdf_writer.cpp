// The PDF writer: cairo's PDF surface, A4 portrait, laid out top to bottom.
// Pages are emitted as they fill (cairo_show_page), so a long table streams.

#include "core/json_text.hpp"
#include "format_util.hpp"

#include <cairo-pdf.h>
#include <cairo.h>

#include <algorithm>
#include <cmath>

namespace sai::reports {
namespace {

constexpr double kA4Short = 595.28;  // A4 in points
constexpr double kA4Long = 841.89;
constexpr double kMargin = 42;
constexpr double kFooter = 28;  // reserved at the bottom for the page number
constexpr double kBodySize = 9.5;
constexpr double kCellSize = 8;
constexpr double kCellPad = 3;
constexpr int kMaxCellLines = 8;  // a longer cell is cut with an ellipsis
constexpr double kChartH = 118;

void set_color(cairo_t* cr, std::string_view hex) {
    double r = 0, g = 0, b = 0;
    if (parse_color(hex, r, g, b)) {
        cairo_set_source_rgb(cr, r, g, b);
    }
}

class PdfWriter final : public ReportWriter {
public:
    explicit PdfWriter(cairo_surface_t* surface) : surface_(surface), cr_(cairo_create(surface)) {}
    ~PdfWriter() override {
        if (cr_) cairo_destroy(cr_);
        if (surface_) cairo_surface_destroy(surface_);
    }

    void begin(const ReportMeta& m) override {
        if (m.landscape) {
            page_w_ = kA4Long;
            page_h_ = kA4Short;
            cairo_pdf_surface_set_size(surface_, page_w_, page_h_);
        }
        cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_TITLE, core::sanitize_utf8(m.title).c_str());
        y_ = kMargin;
        font(18, true);
        set_color(cr_, "#1d2430");
        text_at(kMargin, y_ + 18, m.title);
        y_ += 28;
        font(kBodySize, false);
        set_color(cr_, "#5a6472");
        text_at(kMargin, y_ + 10,
                "Generated " + format_time(m.generated_at) + "   Range " + format_time(m.from_ms) + " to " +
                    format_time(m.to_ms));
        y_ += 14;
        text_at(kMargin, y_ + 10, "Report " + m.id);
        y_ += 16;
        cairo_set_line_width(cr_, 0.8);
        set_color(cr_, "#c9d0db");
        cairo_move_to(cr_, kMargin, y_);
        cairo_line_to(cr_, page_w_ - kMargin, y_);
        cairo_stroke(cr_);
        y_ += 10;
    }

    void heading(std::string_view text) override {
        ensure(40);
        y_ += 6;
        font(13, true);
        set_color(cr_, "#1d2430");
        text_at(kMargin, y_ + 13, text);
        y_ += 20;
    }

    void paragraph(std::string_view text) override {
        font(kBodySize, false);
        set_color(cr_, "#1d2430");
        for (const auto& line : wrap(text, content_w(), 1000)) {
            ensure(13);
            text_at(kMargin, y_ + 10, line);
            y_ += 13;
        }
        y_ += 6;
    }

    void chart(const Chart& c) override {
        ensure(kChartH + 24);
        font(10.5, true);
        set_color(cr_, "#1d2430");
        text_at(kMargin, y_ + 11, c.title);
        y_ += 16;
        const Box box{page_, kMargin, y_, content_w(), kChartH};
        charts_.push_back(box);
        draw_chart(c, box);
        y_ += kChartH + 12;
    }

    void table_begin(std::string_view title, std::span<const Column> columns) override {
        columns_.assign(columns.begin(), columns.end());
        double total = 0;
        for (const auto& c : columns_) total += std::max(0.1, c.width);
        widths_.clear();
        for (const auto& c : columns_) widths_.push_back(content_w() * std::max(0.1, c.width) / total);
        row_index_ = 0;
        ensure(60);  // keep the title with the header and a first row
        font(10.5, true);
        set_color(cr_, "#1d2430");
        text_at(kMargin, y_ + 11, title);
        y_ += 16;
        header_row();
    }

    void table_row(std::span<const std::string> cells) override {
        font(kCellSize, false);
        std::vector<std::vector<std::string>> lines;
        std::size_t most = 1;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            lines.push_back(wrap(i < cells.size() ? cells[i] : "", widths_[i] - 2 * kCellPad, kMaxCellLines));
            most = std::max(most, lines.back().size());
        }
        const double line_h = kCellSize + 2.5;
        const double h = most * line_h + 2 * kCellPad;
        if (y_ + h > page_h_ - kMargin - kFooter) {
            new_page();
            header_row();
            font(kCellSize, false);
        }
        if (row_index_++ % 2 == 1) {
            set_color(cr_, "#f4f6f9");
            cairo_rectangle(cr_, kMargin, y_, content_w(), h);
            cairo_fill(cr_);
        }
        double x = kMargin;
        set_color(cr_, "#1d2430");
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            double ly = y_ + kCellPad + kCellSize;
            for (const auto& l : lines[i]) {
                double lx = x + kCellPad;
                if (columns_[i].numeric) {
                    cairo_text_extents_t ext;
                    cairo_text_extents(cr_, l.c_str(), &ext);
                    lx = x + widths_[i] - kCellPad - ext.x_advance;
                }
                text_at(lx, ly, l);
                ly += line_h;
            }
            x += widths_[i];
        }
        y_ += h;
        set_color(cr_, "#e1e5eb");
        cairo_set_line_width(cr_, 0.4);
        cairo_move_to(cr_, kMargin, y_);
        cairo_line_to(cr_, kMargin + content_w(), y_);
        cairo_stroke(cr_);
    }

    void table_end() override {
        if (row_index_ == 0) {
            font(kCellSize, false);
            set_color(cr_, "#5a6472");
            ensure(14);
            text_at(kMargin + kCellPad, y_ + 11, "No entries in this range.");
            y_ += 14;
        }
        y_ += 12;
    }

    core::Result<WriteSummary> finish() override {
        footer();
        cairo_show_page(cr_);
        cairo_destroy(cr_);
        cr_ = nullptr;
        cairo_surface_finish(surface_);
        const cairo_status_t status = cairo_surface_status(surface_);
        cairo_surface_destroy(surface_);
        surface_ = nullptr;
        if (status != CAIRO_STATUS_SUCCESS) {
            return core::make_error(core::Errc::Unavailable,
                                    std::string("could not write the PDF: ") + cairo_status_to_string(status));
        }
        return WriteSummary{page_, charts_};
    }

private:
    void font(double size, bool bold) {
        cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr_, size);
    }

    void text_at(double x, double y, std::string_view text) {
        const std::string clean = core::sanitize_utf8(text);
        cairo_move_to(cr_, x, y);
        cairo_show_text(cr_, clean.c_str());
    }

    double width_of(const std::string& text) {
        cairo_text_extents_t ext;
        cairo_text_extents(cr_, text.c_str(), &ext);
        return ext.x_advance;
    }

    // Greedy word wrap with the current font; words wider than a line are split
    // between UTF-8 characters. At most `max_lines`, the last one ending in "...".
    std::vector<std::string> wrap(std::string_view raw, double width, int max_lines) {
        std::string text = core::sanitize_utf8(raw);
        std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
        std::vector<std::string> lines;
        std::string line;
        std::size_t i = 0;
        auto push = [&](std::string l) {
            lines.push_back(std::move(l));
        };
        while (i < text.size()) {
            std::size_t end = text.find(' ', i);
            if (end == std::string::npos) end = text.size();
            std::string word = text.substr(i, end - i);
            i = end + 1;
            if (word.empty()) continue;
            std::string candidate = line.empty() ? word : line + " " + word;
            if (width_of(candidate) <= width) {
                line = std::move(candidate);
                continue;
            }
            if (!line.empty()) {
                push(std::move(line));
                line.clear();
            }
            // Split a long word by characters.
            std::string part;
            for (std::size_t k = 0; k < word.size();) {
                const std::size_t n = std::max<std::size_t>(1, core::utf8_sequence_length(word, k));
                std::string next = part + word.substr(k, n);
                if (!part.empty() && width_of(next) > width) {
                    push(std::move(part));
                    part = word.substr(k, n);
                } else {
                    part = std::move(next);
                }
                k += n;
            }
            line = std::move(part);
        }
        if (!line.empty()) push(std::move(line));
        if (lines.empty()) lines.emplace_back();
        if (static_cast<int>(lines.size()) > max_lines) {
            lines.resize(static_cast<std::size_t>(max_lines));
            std::string& last = lines.back();
            while (!last.empty() && width_of(last + "...") > width) {
                last.pop_back();
                while (!last.empty() && (static_cast<unsigned char>(last.back()) & 0xC0) == 0x80) last.pop_back();
                if (!last.empty() && static_cast<unsigned char>(last.back()) >= 0xC0) last.pop_back();
            }
            last += "...";
        }
        return lines;
    }

    void header_row() {
        font(kCellSize, true);
        const double h = kCellSize + 2 * kCellPad + 3;
        set_color(cr_, "#e3e8ef");
        cairo_rectangle(cr_, kMargin, y_, content_w(), h);
        cairo_fill(cr_);
        set_color(cr_, "#1d2430");
        double x = kMargin;
        for (std::size_t i = 0; i < columns_.size(); ++i) {
            auto lines = wrap(columns_[i].name, widths_[i] - 2 * kCellPad, 1);
            const double lx = columns_[i].numeric ? x + widths_[i] - kCellPad - width_of(lines.front()) : x + kCellPad;
            text_at(lx, y_ + kCellPad + kCellSize + 1, lines.front());
            x += widths_[i];
        }
        y_ += h;
    }

    void ensure(double h) {
        if (y_ + h > page_h_ - kMargin - kFooter) {
            new_page();
        }
    }

    void footer() {
        font(8, false);
        set_color(cr_, "#5a6472");
        const std::string text = "Page " + std::to_string(page_);
        text_at(page_w_ / 2 - width_of(text) / 2, page_h_ - kMargin / 2, text);
        text_at(kMargin, page_h_ - kMargin / 2, "SecurityAI");
    }

    void new_page() {
        footer();
        cairo_show_page(cr_);
        ++page_;
        y_ = kMargin;
    }

    void draw_chart(const Chart& c, const Box& box) {
        constexpr double kLeft = 40, kBottom = 18, kTop = 6;
        const double px = box.x + kLeft;
        const double pw = box.width - kLeft - 6;
        const double py = box.y + kTop;
        const double ph = box.height - kTop - kBottom;
        double max = 0;
        for (const auto& p : c.points) max = std::max(max, p.value);
        const double top = axis_max(max);
        font(7.5, false);
        cairo_set_line_width(cr_, 0.5);
        for (int i = 0; i <= 4; ++i) {
            const double y = py + ph - ph * i / 4;
            set_color(cr_, "#dde2ea");
            cairo_move_to(cr_, px, y);
            cairo_line_to(cr_, px + pw, y);
            cairo_stroke(cr_);
            set_color(cr_, "#5a6472");
            const std::string label = format_number(top * i / 4);
            text_at(px - 4 - width_of(label), y + 3, label);
        }
        if (!has_data(c)) {
            text_at(px + pw / 2 - 40, py + ph / 2, "No data in this range.");
            return;
        }
        const std::size_t n = c.points.size();
        auto x_label = [&](std::size_t i, double cx, double room) {
            auto lines = wrap(c.points[i].label, room, 1);
            const double w = width_of(lines.front());
            set_color(cr_, "#5a6472");
            text_at(std::clamp(cx - w / 2, box.x, box.x + box.width - w), py + ph + 11, lines.front());
        };
        if (c.kind == Chart::Kind::Line) {
            auto x_of = [&](std::size_t i) { return px + (n == 1 ? pw / 2 : pw * i / (n - 1)); };
            auto y_of = [&](std::size_t i) { return py + ph - ph * c.points[i].value / top; };
            // A light area under the line, then the line itself.
            cairo_move_to(cr_, x_of(0), py + ph);
            for (std::size_t i = 0; i < n; ++i) cairo_line_to(cr_, x_of(i), y_of(i));
            cairo_line_to(cr_, x_of(n - 1), py + ph);
            cairo_close_path(cr_);
            cairo_set_source_rgba(cr_, 0.17, 0.42, 0.85, 0.18);
            cairo_fill(cr_);
            set_color(cr_, palette(0));
            cairo_set_line_width(cr_, 1.6);
            cairo_move_to(cr_, x_of(0), y_of(0));
            for (std::size_t i = 1; i < n; ++i) cairo_line_to(cr_, x_of(i), y_of(i));
            if (n == 1) cairo_arc(cr_, x_of(0), y_of(0), 2.5, 0, 2 * M_PI);
            cairo_stroke(cr_);
            std::vector<std::size_t> labelled{0};
            if (n > 2) labelled.push_back(n / 2);
            if (n > 1) labelled.push_back(n - 1);
            for (std::size_t i : labelled) x_label(i, x_of(i), pw / 3);
        } else {
            const double slot = pw / n;
            for (std::size_t i = 0; i < n; ++i) {
                const double h = ph * c.points[i].value / top;
                set_color(cr_, c.points[i].color.empty() ? palette(i) : std::string_view(c.points[i].color));
                cairo_rectangle(cr_, px + slot * i + slot * 0.15, py + ph - h, slot * 0.7, h);
                cairo_fill(cr_);
                const std::string value = format_number(c.points[i].value);
                set_color(cr_, "#3a4250");
                text_at(px + slot * (i + 0.5) - width_of(value) / 2, std::max(py + 7, py + ph - h - 2), value);
                x_label(i, px + slot * (i + 0.5), slot);
            }
        }
        set_color(cr_, "#8a94a3");
        cairo_set_line_width(cr_, 0.8);
        cairo_move_to(cr_, px, py);
        cairo_line_to(cr_, px, py + ph);
        cairo_line_to(cr_, px + pw, py + ph);
        cairo_stroke(cr_);
    }

    double content_w() const { return page_w_ - 2 * kMargin; }

    cairo_surface_t* surface_;
    cairo_t* cr_;
    double page_w_ = kA4Short;
    double page_h_ = kA4Long;
    double y_ = kMargin;
    int page_ = 1;
    std::vector<Box> charts_;
    std::vector<Column> columns_;
    std::vector<double> widths_;
    std::size_t row_index_ = 0;
};

}  // namespace

std::unique_ptr<ReportWriter> make_pdf_writer(const std::filesystem::path& file, core::Error& error) {
    cairo_surface_t* surface = cairo_pdf_surface_create(file.c_str(), kA4Short, kA4Long);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        error = core::make_error(core::Errc::Unavailable, std::string("cannot create the PDF: ") +
                                                              cairo_status_to_string(cairo_surface_status(surface)));
        cairo_surface_destroy(surface);
        return nullptr;
    }
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "SecurityAI");
    return std::make_unique<PdfWriter>(surface);
}

}  // namespace sai::reports
