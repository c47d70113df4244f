// `securityai rules check` and `securityai hunt`: the detection engine offline,
// over rule directories and event files.

#include "app.hpp"
#include "core/time.hpp"
#include "detection/engine.hpp"
#include "model/event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

namespace sai::app {
namespace {

namespace bj = boost::json;

constexpr std::size_t kBatch = 1024;
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

std::vector<std::filesystem::path> paths(const std::vector<std::string>& dirs) {
    return {dirs.begin(), dirs.end()};
}

/// Calls `on_object(index, object)` for every JSON object in `text`: one document,
/// an array of documents, NDJSON, or documents one after another. Stops at the
/// first syntax error, which it returns.
template <class F>
core::Result<void> for_each_document(std::string_view text, F&& on_object) {
    bj::stream_parser parser;
    std::size_t offset = 0, index = 0;
    while (true) {
        while (offset < text.size() && std::isspace(static_cast<unsigned char>(text[offset]))) ++offset;
        if (offset == text.size()) break;
        boost::system::error_code ec;
        offset += parser.write_some(text.data() + offset, text.size() - offset, ec);
        if (!ec && !parser.done()) parser.finish(ec);
        if (ec) {
            return core::make_error(core::Errc::InvalidArgument,
                                    "JSON at byte " + std::to_string(offset) + ": " + ec.message());
        }
        const bj::value v = parser.release();
        parser.reset();
        if (v.is_array()) {
            for (const auto& item : v.get_array()) on_object(index++, item);
        } else {
            on_object(index++, v);
        }
    }
    return {};
}

bj::object detection_json(const std::string& file, std::size_t index, const detection::Detection& d) {
    bj::object o{{"file", file},
                 {"index", index},
                 {"rule_id", d.rule->id},
                 {"title", d.rule->title},
                 {"level", d.rule->level}};
    bj::array tags;
    for (const auto& t : d.rule->tags) tags.emplace_back(t);
    o["tags"] = std::move(tags);
    bj::object matched;
    for (const auto& s : d.matched) {
        bj::object fields;
        for (const auto& f : s.fields) fields[f.field] = f.value;
        matched[s.name] = std::move(fields);
    }
    o["matched"] = std::move(matched);
    bj::array ids;
    for (const auto& id : d.event_ids) ids.emplace_back(id);
    o["event_ids"] = std::move(ids);
    if (d.correlation) {
        o["correlation"] = true;
        o["group_key"] = d.group_key;
    }
    return o;
}

}  // namespace

int rules_check(const RulesCheckCommand& command) {
    detection::LoadReport report;
    detection::load_rule_directories(paths(command.dirs), report);
    if (command.json) {
        bj::array failed;
        for (const auto& f : report.failed) {
            failed.push_back(bj::object{{"file", f.file}, {"rule_id", f.rule_id}, {"reason", f.reason}});
        }
        std::cout << model::to_json_text(bj::object{{"total", report.total}, {"compiled", report.compiled},
                                              {"failed", std::move(failed)}})
                  << "\n";
    } else {
        std::cout << report.total << " rules, " << report.compiled << " compiled, " << report.failed.size()
                  << " failed\n";
        for (const auto& f : report.failed) {
            std::cout << f.file << ": " << (f.rule_id.empty() ? "-" : f.rule_id) << ": " << f.reason << "\n";
        }
    }
    return report.failed.empty() ? 0 : 1;
}

int hunt(const HuntCommand& command) {
    std::vector<std::filesystem::path> rule_paths = paths(command.rules);
    if (rule_paths.empty()) {
        auto pack = builtin_rules_dir();
        if (!pack) {
            std::cerr << "securityai: no --rules given and the built-in rule pack was not found\n";
            return 2;
        }
        rule_paths.push_back(*pack);
    }
    detection::LoadReport report;
    auto rules = detection::load_rule_directories(rule_paths, report);
    if (!report.failed.empty()) {
        std::cerr << "securityai: " << report.failed.size() << " of " << report.total
                  << " rules failed to compile (see `securityai rules check`)\n";
    }
    detection::Engine engine(rules);
    int rc = 0;
    std::uint64_t events_seen = 0, rejected = 0, detections = 0;
    for (const auto& file : command.files) {
        std::ifstream in(file, std::ios::binary);
        std::ostringstream buffer;
        buffer << in.rdbuf();
        if (!in || buffer.view().size() > kMaxFileBytes) {
            std::cerr << "securityai: cannot read " << file << "\n";
            rc = 1;
            continue;
        }
        const std::string text = buffer.str();
        std::vector<model::Event> batch;
        std::vector<std::size_t> indexes;
        auto flush = [&] {
            for (const auto& d : engine.evaluate(batch)) {
                std::cout << model::to_json_text(detection_json(file, indexes[d.event_index], d)) << "\n";
                ++detections;
            }
            batch.clear();
            indexes.clear();
        };
        const bool documents = command.input_format == "json" || command.input_format == "ndjson";
        auto add = [&](std::size_t index, core::Result<model::Event> e) {
            if (!e) {
                // Lines as grep numbers them (from 1); documents by the "index" detections carry.
                if (documents) {
                    std::cerr << file << ": document " << index << ": " << e.error().detail << "\n";
                } else {
                    std::cerr << file << ":" << index + 1 << ": " << e.error().detail << "\n";
                }
                ++rejected;
                return;
            }
            batch.push_back(std::move(*e));
            indexes.push_back(index);
            ++events_seen;
            if (batch.size() >= kBatch) flush();
        };
        if (documents) {
            const auto now = core::now_unix_ms();
            auto r = for_each_document(text, [&](std::size_t index, const bj::value& v) {
                if (!v.is_object()) {
                    add(index, core::make_error(core::Errc::InvalidArgument, "not a JSON object"));
                    return;
                }
                add(index, model::event_from_json(v.get_object(), now));
            });
            if (!r) {
                std::cerr << file << ": " << r.error().detail << "\n";
                rc = 1;
            }
        } else {
            std::size_t index = 0, start = 0;
            while (start < text.size()) {
                auto end = text.find('\n', start);
                if (end == std::string::npos) end = text.size();
                if (auto e = line_to_event(command.input_format, std::string_view(text).substr(start, end - start))) {
                    add(index, std::move(*e));
                }
                ++index;
                start = end + 1;
            }
        }
        flush();
    }
    std::cerr << "securityai: " << events_seen << " events, " << rejected << " rejected, " << detections
              << " detections\n";
    return rc;
}

}  // namespace sai::app
