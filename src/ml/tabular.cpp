#include "ml/tabular.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace sai::ml {
namespace {

using core::Errc;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

core::Error bad(std::string detail) { return core::make_error(Errc::InvalidArgument, std::move(detail)); }

core::Result<std::string> read_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return core::make_error(Errc::NotFound, "cannot open " + file.string());
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b) {
        return raw;
    }
    // gzip: inflate in chunks (windowBits 15 + 32 = auto-detect the gzip header).
    z_stream z{};
    if (inflateInit2(&z, 15 + 32) != Z_OK) return bad("zlib initialisation failed");
    std::string out;
    char buffer[1 << 16];
    z.next_in = reinterpret_cast<Bytef*>(raw.data());
    z.avail_in = static_cast<uInt>(raw.size());
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        z.next_out = reinterpret_cast<Bytef*>(buffer);
        z.avail_out = sizeof buffer;
        rc = inflate(&z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&z);
            return bad(file.string() + ": corrupt or truncated gzip data");
        }
        out.append(buffer, sizeof buffer - z.avail_out);
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            inflateEnd(&z);
            return bad(file.string() + ": truncated gzip data");
        }
    }
    inflateEnd(&z);
    return out;
}

}  // namespace

std::ptrdiff_t CsvTable::find(std::string_view name) const {
    auto it = std::find(header.begin(), header.end(), name);
    return it == header.end() ? -1 : it - header.begin();
}

bool is_missing(std::string_view cell) {
    cell = trim(cell);
    return cell.empty() || cell == "?" || cell == "NA" || cell == "NaN" || cell == "nan" || cell == "null";
}

bool parse_number(std::string_view cell, double& out) {
    cell = trim(cell);
    if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
    if (cell.empty()) return false;
    auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), out);
    return ec == std::errc{} && end == cell.data() + cell.size() && std::isfinite(out);
}

core::Result<CsvTable> parse_csv(std::string_view text) {
    CsvTable table;
    std::vector<std::string> row;
    std::string cell;
    std::size_t line = 1, pos = 0;
    if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // UTF-8 BOM
    bool header_done = false;
    auto finish_row = [&]() -> core::Result<void> {
        if (!header_done) {
            std::unordered_set<std::string> seen;
            for (auto& name : row) {
                name = std::string(trim(name));
                if (name.empty()) return bad("CSV line 1: empty column name");
                if (!seen.insert(name).second) return bad("CSV line 1: duplicate column '" + name + "'");
            }
            table.header = std::move(row);
            table.columns.resize(table.header.size());
            header_done = true;
        } else {
            if (row.size() == 1 && trim(row[0]).empty()) {  // blank line
                row.clear();
                return {};
            }
            if (row.size() != table.header.size()) {
                return bad("CSV line " + std::to_string(line) + ": " + std::to_string(row.size()) + " cells, the header has " +
                           std::to_string(table.header.size()));
            }
            for (std::size_t c = 0; c < row.size(); ++c) table.columns[c].push_back(std::move(row[c]));
            ++table.rows;
        }
        row.clear();
        return {};
    };
    while (pos < text.size()) {
        // One row: cells separated by commas, ended by a newline or the end.
        bool end_of_row = false;
        while (!end_of_row) {
            cell.clear();
            if (pos < text.size() && text[pos] == '"') {
                ++pos;
                for (;;) {
                    if (pos >= text.size()) return bad("CSV line " + std::to_string(line) + ": unterminated quote");
                    const char ch = text[pos++];
                    if (ch == '"') {
                        if (pos < text.size() && text[pos] == '"') {
                            cell.push_back('"');
                            ++pos;
                        } else {
                            break;
                        }
                    } else {
                        if (ch == '\n') ++line;
                        cell.push_back(ch);
                    }
                }
                while (pos < text.size() && text[pos] != ',' && text[pos] != '\n') ++pos;  // junk after quote
            } else {
                const std::size_t stop = text.find_first_of(",\n", pos);
                const std::size_t e = stop == std::string_view::npos ? text.size() : stop;
                cell.assign(text.substr(pos, e - pos));
                pos = e;
            }
            if (!cell.empty() && cell.back() == '\r') cell.pop_back();
            row.push_back(cell);
            if (pos >= text.size() || text[pos] == '\n') {
                end_of_row = true;
            }
            ++pos;  // skip the ',' or '\n'
        }
        if (auto r = finish_row(); !r) return r.error();
        ++line;
    }
    if (!header_done) return bad("CSV: empty input, no header row");
    return table;
}

core::Result<CsvTable> read_csv(const std::filesystem::path& file) {
    auto text = read_file(file);
    if (!text) return text.error();
    auto table = parse_csv(*text);
    if (!table) return core::make_error(table.error().code, file.string() + ": " + table.error().detail);
    return table;
}

TabularEncoder::TabularEncoder(std::vector<ColumnEncoding> columns) : columns_(std::move(columns)) {
    for (const auto& c : columns_) {
        if (c.kind == ColumnEncoding::Kind::OneHot) {
            for (const auto& cat : c.categories) feature_names_.push_back(c.name + "=" + cat);
        } else {
            feature_names_.push_back(c.name);
        }
    }
}

core::Result<TabularEncoder> TabularEncoder::fit(const CsvTable& table, const TabularOptions& options) {
    if (table.rows == 0) return bad("no data rows to train on");
    std::unordered_set<std::string> skip(options.ignore_columns.begin(), options.ignore_columns.end());
    if (!options.label_column.empty()) skip.insert(options.label_column);
    for (const auto& name : skip) {
        if (table.find(name) < 0) return bad("no column named '" + name + "' in the data");
    }
    std::vector<ColumnEncoding> columns;
    for (std::size_t c = 0; c < table.header.size(); ++c) {
        if (skip.count(table.header[c])) continue;
        ColumnEncoding enc;
        enc.name = table.header[c];
        const auto& cells = table.columns[c];
        std::vector<double> numbers;
        numbers.reserve(cells.size());
        bool numeric = true;
        for (const auto& cell : cells) {
            if (is_missing(cell)) continue;
            double v = 0;
            if (!parse_number(cell, v)) {
                numeric = false;
                break;
            }
            numbers.push_back(v);
        }
        if (numeric) {
            enc.kind = ColumnEncoding::Kind::Numeric;
            if (!numbers.empty()) {
                auto mid = numbers.begin() + static_cast<std::ptrdiff_t>(numbers.size() / 2);
                std::nth_element(numbers.begin(), mid, numbers.end());
                enc.fill = static_cast<float>(*mid);
            }
        } else {
            std::unordered_map<std::string, std::size_t> freq;
            for (const auto& cell : cells) ++freq[is_missing(cell) ? std::string() : std::string(trim(cell))];
            std::vector<std::pair<std::string, std::size_t>> cats(freq.begin(), freq.end());
            if (cats.size() <= options.max_one_hot) {
                enc.kind = ColumnEncoding::Kind::OneHot;
                std::sort(cats.begin(), cats.end());  // sklearn's OneHotEncoder orders categories
            } else {
                enc.kind = ColumnEncoding::Kind::Ordinal;
                std::sort(cats.begin(), cats.end(),
                          [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
            }
            for (auto& [name, count] : cats) enc.categories.push_back(name);
        }
        columns.push_back(std::move(enc));
    }
    if (columns.empty()) return bad("no feature columns left after the label and ignored columns");
    return TabularEncoder(std::move(columns));
}

core::Result<Matrix> TabularEncoder::transform(const CsvTable& table) const {
    if (table.rows == 0) return bad("no data rows");
    Matrix m(table.rows, feature_names_.size());
    std::size_t offset = 0;
    for (const auto& enc : columns_) {
        const auto c = table.find(enc.name);
        if (c < 0) return bad("column '" + enc.name + "' of the model's feature schema is missing from the data");
        const auto& cells = table.columns[static_cast<std::size_t>(c)];
        switch (enc.kind) {
        case ColumnEncoding::Kind::Numeric:
            for (std::size_t r = 0; r < table.rows; ++r) {
                double v = enc.fill;
                if (!is_missing(cells[r]) && !parse_number(cells[r], v)) {
                    return bad("row " + std::to_string(r + 1) + ", column '" + enc.name + "': '" +
                               cells[r].substr(0, 40) + "' is not a number");
                }
                m.values[r * m.cols + offset] = static_cast<float>(v);
            }
            ++offset;
            break;
        case ColumnEncoding::Kind::OneHot:
        case ColumnEncoding::Kind::Ordinal: {
            std::unordered_map<std::string_view, std::size_t> index;
            for (std::size_t i = 0; i < enc.categories.size(); ++i) index.emplace(enc.categories[i], i);
            const bool one_hot = enc.kind == ColumnEncoding::Kind::OneHot;
            for (std::size_t r = 0; r < table.rows; ++r) {
                const std::string_view cell = is_missing(cells[r]) ? std::string_view() : trim(cells[r]);
                auto it = index.find(cell);
                if (one_hot) {
                    if (it != index.end()) m.values[r * m.cols + offset + it->second] = 1.0f;
                } else {
                    m.values[r * m.cols + offset] = it == index.end() ? -1.0f : static_cast<float>(it->second);
                }
            }
            offset += one_hot ? enc.categories.size() : 1;
            break;
        }
        }
    }
    return m;
}

core::Result<LabelColumn> read_labels(const CsvTable& table, std::string_view column,
                                      const std::vector<std::string>* known) {
    const auto c = table.find(column);
    if (c < 0) return bad("no label column named '" + std::string(column) + "' in the data");
    const auto& cells = table.columns[static_cast<std::size_t>(c)];
    LabelColumn out;
    if (known) {
        out.classes = *known;
    } else {
        std::map<std::string, int> seen;
        for (const auto& cell : cells) seen.emplace(std::string(trim(cell)), 0);
        for (auto& [name, unused] : seen) out.classes.push_back(name);
    }
    std::unordered_map<std::string_view, std::int32_t> index;
    for (std::size_t i = 0; i < out.classes.size(); ++i) index.emplace(out.classes[i], static_cast<std::int32_t>(i));
    out.labels.reserve(cells.size());
    for (std::size_t r = 0; r < cells.size(); ++r) {
        if (is_missing(cells[r])) {
            return bad("row " + std::to_string(r + 1) + ": missing label in column '" + std::string(column) + "'");
        }
        auto it = index.find(trim(cells[r]));
        out.labels.push_back(it == index.end() ? -1 : it->second);
    }
    return out;
}

}  // namespace sai::ml
