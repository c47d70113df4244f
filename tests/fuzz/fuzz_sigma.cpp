// Fuzz target: Sigma rule loading (YAML, modifiers, conditions, correlations) and the
// evaluation of whatever compiled against two fixed events; and the same bytes as an
// event's `extra` JSON, which the engine reads itself, against fixed rules. Must never
// crash or hang.
#include "detection/engine.hpp"
#include "model/event.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {

std::vector<sai::model::Event> events() {
    std::vector<sai::model::Event> out;
    for (const char* json : {
             R"({"Event": {"System": {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational",
                 "Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}}},
                 "EventData": {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami",
                               "ParentImage": "C:\\Windows\\explorer.exe", "ProcessId": 42}}})",
             R"({"message": "Failed password for root from 10.0.0.5 port 22 ssh2", "source.ip": "10.0.0.5",
                 "user.name": "root", "process.name": "sshd", "event.outcome": "failure", "ml.anomaly_score": 0.9})"}) {
        out.push_back(sai::model::event_from_json(boost::json::parse(json).as_object(), 1'795'000'000'000).value());
    }
    return out;
}

/// Rules on a Windows field and on keywords: every `extra` value is looked up and kept.
std::shared_ptr<const sai::detection::CompiledRuleSet> extra_rules() {
    sai::detection::LoadReport report;
    return sai::detection::load_rules_from_yaml(
        "title: x\nid: x\nlogsource: {}\ndetection:\n  sel: {Image|endswith: cmd.exe}\n  keywords: [whoami]\n"
        "  condition: sel or keywords\n",
        report);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto kEvents = events();
    sai::detection::LoadReport report;
    sai::detection::CompileOptions options;
    options.max_file_bytes = 64 * 1024;
    auto rules = sai::detection::load_rules_from_yaml(
        std::string_view(reinterpret_cast<const char*>(data), size), report, "fuzz", options);
    if (!rules || report.compiled > report.total || rules->size() < report.compiled) {
        std::abort();
    }
    sai::detection::Engine engine(rules);
    for (int round = 0; round < 2; ++round) {
        for (const auto& d : engine.evaluate(kEvents)) {
            if (d.rule == nullptr || d.rule->id.empty() || d.event_ids.empty()) {
                std::abort();
            }
        }
    }
    static sai::detection::Engine extra_engine(extra_rules());
    auto with_extra = kEvents[0];
    with_extra.extra.assign(reinterpret_cast<const char*>(data), size);
    for (const auto& d : extra_engine.evaluate(std::span(&with_extra, 1))) {
        if (d.rule->id != "x") {
            std::abort();
        }
    }
    return 0;
}
