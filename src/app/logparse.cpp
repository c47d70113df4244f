// `securityai logparse`: raw log lines in, one JSON object per line out (JSON Lines, in
// input order): {"line": N, "template_id": "...", "template": "...", "params": [...],
// "entities": {...}}. Lines are numbered from 1 across all inputs. With --final the
// output waits for the end of the input and gives each line its template as it finally
// stands (ids never change; only the text generalises), which is what offline
// benchmarks score.

#include "app.hpp"
#include "core/json_text.hpp"
#include "parser/log_parser.hpp"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <unordered_map>

namespace sai::app {
namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void append_entities(std::string& out, const parser::Entities& entities) {
    out += "{";
    bool first = true;
    // Group values by type, keeping the order of first appearance.
    std::vector<std::pair<parser::EntityType, std::vector<const std::string*>>> groups;
    for (const auto& e : entities.items) {
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == e.type; });
        if (it == groups.end()) {
            groups.push_back({e.type, {}});
            it = std::prev(groups.end());
        }
        it->second.push_back(&e.value);
    }
    for (const auto& [type, values] : groups) {
        if (!first) out += ",";
        first = false;
        core::append_json_string(out, parser::to_string(type));
        out += ":[";
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (i) out += ",";
            core::append_json_string(out, *values[i]);
        }
        out += "]";
    }
    if (!entities.outcome.empty()) {
        if (!first) out += ",";
        out += "\"outcome\":";
        core::append_json_string(out, entities.outcome);
    }
    out += "}";
}

void append_record(std::string& out, std::uint64_t line_no, const parser::ParsedLine& p,
                   std::string_view template_text, bool entities) {
    out += "{\"line\":";
    out += std::to_string(line_no);
    out += ",\"template_id\":";
    core::append_json_string(out, p.tmpl.template_id);
    out += ",\"template\":";
    core::append_json_string(out, template_text);
    out += ",\"params\":[";
    for (std::size_t i = 0; i < p.tmpl.params.size(); ++i) {
        if (i) out += ",";
        core::append_json_string(out, p.tmpl.params[i]);
    }
    out += "]";
    if (entities) {
        out += ",\"entities\":";
        append_entities(out, p.entities);
    }
    if (p.tmpl.is_new) {
        out += ",\"is_new\":true";
    }
    out += "}\n";
}

}  // namespace

int logparse(const LogparseCommand& command) {
    parser::ParserConfig config;
    if (!command.config_file.empty()) {
        auto loaded = parser::ParserConfig::load_file(command.config_file);
        if (!loaded) {
            return fail("invalid parser configuration: " + loaded.error().detail, 2);
        }
        config = std::move(*loaded);
    }
    if (command.no_entities) {
        config.entities = false;
    }
    auto created = parser::LogParser::create(config);
    if (!created) {
        return fail("parser: " + created.error().detail, 2);
    }
    auto& parser = **created;
    const auto format = parser.resolve(command.format);
    if (!format) {
        return fail("--format: " + format.error().detail, 2);
    }

    std::vector<std::string> files = command.files;
    if (files.empty()) {
        files.emplace_back("-");
    }
    std::string out;
    out.reserve(1 << 16);
    // With --final, lines wait here until the end: their records without the template text.
    std::string pending;
    std::vector<std::pair<std::size_t, std::string>> pending_ids;  // offset in pending where the template goes, id
    parser::ParsedLine parsed;
    std::uint64_t line_no = 0;
    double parse_seconds = 0;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::string line;
    if (command.quiet) {
        // Speed runs: read everything first, so the timing covers parsing only.
        std::vector<std::string> lines;
        for (const auto& file : files) {
            std::ifstream in_file(file, std::ios::binary);
            std::istream& in = file == "-" ? std::cin : in_file;
            if (file != "-" && !in_file) {
                return fail("cannot read " + file);
            }
            while (std::getline(in, line)) {
                lines.push_back(line);
            }
        }
        // CPU time of this thread: on a shared machine wall time would measure the neighbours.
        const double t0 = thread_cpu_seconds();
        for (const auto& l : lines) {
            parser.parse(*format, l, now, parsed);
        }
        parse_seconds = thread_cpu_seconds() - t0;
        line_no = lines.size();
        files.clear();
    }
    for (const auto& file : files) {
        std::ifstream in_file;
        std::istream* in = &std::cin;
        if (file != "-") {
            in_file.open(file, std::ios::binary);
            if (!in_file) {
                return fail("cannot read " + file);
            }
            in = &in_file;
        }
        while (std::getline(*in, line)) {
            ++line_no;
            parser.parse(*format, line, now, parsed);
            if (command.final_templates) {
                std::string record;
                append_record(record, line_no, parsed, {}, !command.no_entities);
                // The empty template "" sits right after "template":
                const auto at = record.find("\"template\":\"\"") + 12;
                pending_ids.emplace_back(pending.size() + at, parsed.tmpl.template_id);
                pending += record;
            } else {
                append_record(out, line_no, parsed, parsed.tmpl.template_text, !command.no_entities);
                if (out.size() > (1 << 16)) {
                    std::fwrite(out.data(), 1, out.size(), stdout);
                    out.clear();
                }
            }
        }
    }
    if (command.final_templates && !command.quiet) {
        std::unordered_map<std::string, std::string> final_text;
        for (const auto& r : parser.miner().snapshot()) {
            std::string quoted;
            core::append_json_string(quoted, r.template_text);
            final_text.emplace(r.id, quoted.substr(1, quoted.size() - 2));
        }
        std::size_t from = 0;
        for (const auto& [at, id] : pending_ids) {
            out.append(pending, from, at - from);
            if (auto it = final_text.find(id); it != final_text.end()) {
                out += it->second;
            }
            from = at;
            if (out.size() > (1 << 16)) {
                std::fwrite(out.data(), 1, out.size(), stdout);
                out.clear();
            }
        }
        out.append(pending, from, std::string::npos);
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    if (command.stats) {
        const auto s = parser.miner().stats();
        std::fprintf(stderr,
                     "lines %llu  templates %zu  evictions %llu  parse cpu seconds %.3f  lines/s %.0f%s\n",
                     static_cast<unsigned long long>(line_no), s.templates,
                     static_cast<unsigned long long>(s.evictions), parse_seconds,
                     parse_seconds > 0 ? static_cast<double>(line_no) / parse_seconds : 0.0,
                     command.quiet ? "" : " (measured with --quiet only)");
    }
    return 0;
}

}  // namespace sai::app
