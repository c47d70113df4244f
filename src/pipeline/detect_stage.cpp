#include "pipeline/detect_stage.hpp"

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

#include <algorithm>

namespace sai::pipeline {
namespace {

model::Severity severity_of(std::string_view level) {
    if (level == "critical") return model::Severity::Critical;
    if (level == "high") return model::Severity::High;
    if (level == "medium") return model::Severity::Medium;
    if (level == "low") return model::Severity::Low;
    return model::Severity::Info;
}

std::shared_ptr<const detection::CompiledRuleSet> compile(const std::vector<std::filesystem::path>& dirs,
                                                         detection::LoadReport& report) {
    auto set = detection::load_rule_directories(dirs, report);
    for (const auto& issue : report.failed) {
        core::log::warn("detection rule not loaded",
                        {{"file", issue.file}, {"rule_id", issue.rule_id}, {"reason", issue.reason}});
    }
    core::log::info("detection rules loaded", {{"total", report.total},
                                               {"compiled", report.compiled},
                                               {"failed", report.failed.size()}});
    return set;
}

}  // namespace

model::Detection to_model_detection(const detection::Detection& d, const model::Event* e) {
    const auto& rule = *d.rule;
    model::Detection out;
    out.rule_id = rule.id;
    out.title = rule.title;
    out.description = rule.description;
    out.source = "rule";
    out.severity = severity_of(rule.level);
    out.tags = rule.tags;
    out.group_key = d.group_key;
    out.event_ids = d.event_ids;
    out.timestamp = d.timestamp_ms;
    if (e && !d.correlation && out.group_key.empty()) {
        // One alert per rule and target: failed logins from many sources against one host
        // are one alert (the sources are its entities), not one alert per source.
        if (!e->host_name.empty()) {
            out.group_key = "host:" + e->host_name;
        } else if (!e->destination_ip.empty()) {
            out.group_key = "ip:" + e->destination_ip;
        }
    }
    if (e) {
        for (const auto* ip : {&e->source_ip, &e->destination_ip, &e->host_ip}) {
            if (!ip->empty() && std::find(out.entities.ips.begin(), out.entities.ips.end(), *ip) == out.entities.ips.end()) {
                out.entities.ips.push_back(*ip);
            }
        }
        if (!e->user_name.empty()) out.entities.users.push_back(e->user_name);
        if (!e->host_name.empty()) out.entities.hosts.push_back(e->host_name);
    }
    // The explanation: what matched, with the values it tested.
    std::string x = "{\"rule\":";
    core::append_json_string(x, rule.id);
    x += ",\"level\":";
    core::append_json_string(x, rule.level);
    x += ",\"correlation\":";
    x += d.correlation ? "true" : "false";
    if (!d.group_key.empty()) {
        x += ",\"group\":";
        core::append_json_string(x, d.group_key);
        x += ",\"events\":" + std::to_string(d.event_ids.size());
    }
    x += ",\"matched\":[";
    for (std::size_t i = 0; i < d.matched.size(); ++i) {
        x += i ? ",{\"selection\":" : "{\"selection\":";
        core::append_json_string(x, d.matched[i].name);
        x += ",\"fields\":{";
        for (std::size_t j = 0; j < d.matched[i].fields.size(); ++j) {
            if (j) x += ',';
            core::append_json_string(x, d.matched[i].fields[j].field);
            x += ':';
            core::append_json_string(x, d.matched[i].fields[j].value.substr(0, 512));
        }
        x += "}}";
    }
    x += "]}";
    out.explanation = std::move(x);
    return out;
}

DetectStage::DetectStage(std::vector<std::filesystem::path> rule_dirs, Sink sink)
    : dirs_(std::move(rule_dirs)), sink_(std::move(sink)), engine_(nullptr) {
    detection::LoadReport report;
    fingerprint_ = detection::rule_directories_fingerprint(dirs_);
    engine_.swap(compile(dirs_, report));
    report_ = std::move(report);
}

void DetectStage::reload(bool force) {
    std::lock_guard lock(reload_mutex_);
    const auto fp = detection::rule_directories_fingerprint(dirs_);
    if (!force && fp == fingerprint_) {
        return;
    }
    detection::LoadReport report;
    auto set = compile(dirs_, report);
    engine_.swap(std::move(set));
    report_ = std::move(report);
    fingerprint_ = fp;
}

detection::LoadReport DetectStage::report() const {
    std::lock_guard lock(reload_mutex_);
    return report_;
}

void DetectStage::process(std::vector<model::Event>& batch) {
    static auto& fired = core::metrics::default_registry().counter(
        "securityai_detections_fired_total", "Rule matches (detections) by the Sigma engine.");
    pending_ = engine_.evaluate(batch);
    fired.inc(pending_.size());
    for (const auto& d : pending_) {
        if (!d.correlation && d.event_index < batch.size()) {
            auto& ids = batch[d.event_index].rule_ids;
            if (ids.size() < 256 && std::find(ids.begin(), ids.end(), d.rule->id) == ids.end()) {
                ids.push_back(d.rule->id);
            }
        }
    }
}

void DetectStage::committed(const std::vector<model::Event>& batch) {
    if (pending_.empty()) {
        return;
    }
    std::vector<model::Detection> out;
    out.reserve(pending_.size());
    for (const auto& d : pending_) {
        if (d.rule->level == "informational") {
            continue;  // recorded in rule.ids, not worth an alert
        }
        out.push_back(to_model_detection(d, d.event_index < batch.size() ? &batch[d.event_index] : nullptr));
        // Where the event came from (the ingest call's request id), so an alert leads back to it.
        if (const auto origin = batch_origin(d.event_index); !origin.empty() && out.back().explanation.size() > 1) {
            std::string& x = out.back().explanation;
            x.pop_back();  // the closing brace
            x += ",\"origin\":";
            core::append_json_string(x, origin);
            x += '}';
        }
    }
    pending_.clear();
    if (!out.empty() && sink_) {
        sink_(std::move(out));
    }
}

}  // namespace sai::pipeline
