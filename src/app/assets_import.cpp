// `securityai assets import FILE`: loads an asset inventory from CSV into the
// store of --data-dir (a running server picks the changes up within a minute).
//
// CSV format: a header row naming the columns, in any order; `name` is required.
//   name,ips,hostnames,type,criticality,internet_facing,owner,tags
//   db-01,10.0.3.10;10.0.3.11,db-01.corp,server,5,false,dba-team,pci;database
// Lists (ips, hostnames, tags) are separated by ';'. Fields may be quoted with
// '"' ("" for a quote inside). Existing assets (by name) are updated.

#include "app.hpp"
#include "core/log.hpp"
#include "graph/graph_service.hpp"

#include <boost/json.hpp>

#include <fstream>
#include <iostream>

namespace sai::app {
namespace {

namespace bj = boost::json;

/// One CSV record (RFC 4180 quoting); nullopt on an unterminated quote.
std::optional<std::vector<std::string>> split_csv(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                fields.back() += '"';
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                fields.back() += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else if (c != '\r') {
            fields.back() += c;
        }
    }
    if (quoted) return std::nullopt;
    return fields;
}

bj::array list_of(const std::string& text) {
    bj::array out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(';', start);
        if (end == std::string::npos) end = text.size();
        auto item = text.substr(start, end - start);
        while (!item.empty() && item.front() == ' ') item.erase(item.begin());
        while (!item.empty() && item.back() == ' ') item.pop_back();
        if (!item.empty()) out.push_back(bj::string(item));
        start = end + 1;
    }
    return out;
}

/// The CSV row as the JSON object the API takes, so both validate the same way.
core::Result<bj::object> row_to_json(const std::vector<std::string>& header, const std::vector<std::string>& row) {
    bj::object o;
    for (std::size_t i = 0; i < header.size() && i < row.size(); ++i) {
        const auto& key = header[i];
        const auto& value = row[i];
        if (value.empty()) continue;
        if (key == "ips" || key == "hostnames" || key == "tags") {
            o[key] = list_of(value);
        } else if (key == "criticality") {
            try {
                std::size_t used = 0;
                const long n = std::stol(value, &used);
                if (used != value.size()) throw std::invalid_argument(value);
                o[key] = n;
            } catch (const std::exception&) {
                return core::make_error(core::Errc::InvalidArgument, "criticality must be an integer from 1 to 5");
            }
        } else if (key == "internet_facing") {
            if (value != "true" && value != "false" && value != "yes" && value != "no" && value != "1" && value != "0") {
                return core::make_error(core::Errc::InvalidArgument, "internet_facing must be true or false");
            }
            o[key] = value == "true" || value == "yes" || value == "1";
        } else {
            o[key] = value;
        }
    }
    return o;
}

}  // namespace

int assets_import(const core::Config& config, const std::string& file) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    std::ifstream in(file);
    if (!in) return fail("cannot read " + file);
    auto store = open_store(config, true);
    if (!store) return fail(store.error().detail);
    graph::GraphService service((*store)->graph(), nullptr, nullptr);

    std::string line;
    std::vector<std::string> header;
    std::size_t line_no = 0, created = 0, updated = 0, failed = 0;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    while (std::getline(in, line)) {
        ++line_no;
        if (line.empty() || line == "\r") continue;
        auto fields = split_csv(line);
        if (!fields) {
            std::cerr << file << ":" << line_no << ": unterminated quote\n";
            ++failed;
            continue;
        }
        if (header.empty()) {
            header = *fields;
            for (const auto& h : header) {
                if (h != "name" && h != "ips" && h != "hostnames" && h != "type" && h != "criticality" &&
                    h != "internet_facing" && h != "owner" && h != "tags") {
                    return fail(file + ":1: unknown column '" + h + "'", 2);
                }
            }
            if (std::find(header.begin(), header.end(), "name") == header.end()) {
                return fail(file + ":1: the header needs a 'name' column", 2);
            }
            continue;
        }
        auto object = row_to_json(header, *fields);
        model::Asset asset;
        core::Result<void> valid = object ? model::apply_asset_json(asset, *object) : core::Result<void>(object.error());
        if (!valid) {
            std::cerr << file << ":" << line_no << ": " << valid.error().detail << "\n";
            ++failed;
            continue;
        }
        auto done = service.upsert_asset_by_name(std::move(asset), now);
        if (!done) {
            std::cerr << file << ":" << line_no << ": " << done.error().detail << "\n";
            ++failed;
            continue;
        }
        (*done ? created : updated) += 1;
    }
    std::cout << "assets import: " << created << " created, " << updated << " updated, " << failed << " rejected\n";
    return failed == 0 ? 0 : 1;
}

}  // namespace sai::app
