#pragma once
// Readers for the report tests: CSV blocks, whole files, PDF pages rendered by pdftoppm.

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sai::reports::testing {

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

using CsvRow = std::vector<std::string>;
using CsvBlock = std::vector<CsvRow>;

/// RFC 4180 records; an empty line ends a block. Throws on a malformed quote.
inline std::vector<CsvBlock> parse_csv_blocks(const std::string& text) {
    std::vector<CsvBlock> blocks(1);
    CsvRow row;
    std::string field;
    bool quoted = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                field += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                field += c;
            }
            continue;
        }
        if (c == '"') {
            if (!field.empty()) throw std::runtime_error("quote inside an unquoted field");
            quoted = any = true;
        } else if (c == ',') {
            row.push_back(std::move(field));
            field.clear();
            any = true;
        } else if (c == '\r') {
            continue;
        } else if (c == '\n') {
            if (!any && field.empty() && row.empty()) {
                if (!blocks.back().empty()) blocks.emplace_back();
            } else {
                row.push_back(std::move(field));
                blocks.back().push_back(std::move(row));
            }
            row.clear();
            field.clear();
            any = false;
        } else {
            field += c;
            any = true;
        }
    }
    if (quoted) throw std::runtime_error("unterminated quote");
    if (blocks.back().empty()) blocks.pop_back();
    return blocks;
}

/// The block whose header is exactly `header`; empty when none.
inline CsvBlock find_block(const std::vector<CsvBlock>& blocks, const CsvRow& header) {
    for (const auto& b : blocks) {
        if (!b.empty() && b.front() == header) return b;
    }
    return {};
}

inline bool have_pdftoppm() { return std::system("command -v pdftoppm > /dev/null 2>&1") == 0; }

struct Image {
    int width = 0;
    int height = 0;
    std::vector<unsigned char> rgb;
};

/// Page `page` of a PDF rendered by `pdftoppm -r <dpi>` (PPM, its default output) and decoded (binary P6).
inline Image render_page(const std::filesystem::path& pdf, int page, int dpi) {
    const auto out = pdf.parent_path() / ("page-" + std::to_string(page));
    const std::string cmd = "pdftoppm -r " + std::to_string(dpi) + " -singlefile -f " + std::to_string(page) +
                            " -l " + std::to_string(page) + " '" + pdf.string() + "' '" + out.string() + "'";
    Image img;
    if (std::system(cmd.c_str()) != 0) return img;
    std::ifstream in(out.string() + ".ppm", std::ios::binary);
    std::string magic;
    int max = 0;
    in >> magic >> img.width >> img.height >> max;
    in.get();
    if (magic != "P6" || max != 255) return Image{};
    img.rgb.resize(static_cast<std::size_t>(img.width) * img.height * 3);
    in.read(reinterpret_cast<char*>(img.rgb.data()), static_cast<std::streamsize>(img.rgb.size()));
    return img;
}

/// Pixels inside the rectangle (in points, from the top-left) that are clearly
/// coloured (not white, grey or black): chart data, not text or axes.
inline int coloured_pixels(const Image& img, int dpi, double x, double y, double w, double h) {
    const double scale = dpi / 72.0;
    int n = 0;
    for (int py = static_cast<int>(y * scale); py < static_cast<int>((y + h) * scale) && py < img.height; ++py) {
        for (int px = static_cast<int>(x * scale); px < static_cast<int>((x + w) * scale) && px < img.width; ++px) {
            const unsigned char* p = &img.rgb[(static_cast<std::size_t>(py) * img.width + px) * 3];
            const int hi = std::max({p[0], p[1], p[2]});
            const int lo = std::min({p[0], p[1], p[2]});
            n += hi - lo > 60;
        }
    }
    return n;
}

}  // namespace sai::reports::testing
