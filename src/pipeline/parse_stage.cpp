#include "pipeline/parse_stage.hpp"

#include "core/metrics.hpp"
#include "core/time.hpp"

#include <set>

namespace sai::pipeline {
namespace {

storage::TemplateRecord to_store(const parser::TemplateRecord& r) {
    return {r.id, r.format, r.template_text, static_cast<std::int64_t>(r.count), r.first_seen_ms, r.last_seen_ms};
}

}  // namespace

ParseStage::ParseStage(std::shared_ptr<parser::LogParser> parser, storage::TemplateStore& store,
                       ParseStageOptions options)
    : parser_(std::move(parser)), store_(store), options_(std::move(options)) {}

core::Result<std::unique_ptr<ParseStage>> ParseStage::create(std::shared_ptr<parser::LogParser> parser,
                                                             storage::TemplateStore& store, ParseStageOptions options) {
    auto format = parser->resolve(options.default_format);
    if (!format) {
        return core::make_error(format.error().code, "parser default format: " + format.error().detail);
    }
    std::unique_ptr<ParseStage> stage(new ParseStage(std::move(parser), store, std::move(options)));
    stage->default_format_ = *format;
    auto stored = store.load_templates();
    if (!stored) {
        return stored.error();
    }
    std::vector<parser::TemplateRecord> records;
    records.reserve(stored->size());
    for (const auto& t : *stored) {
        records.push_back({t.id, t.format, t.text, static_cast<std::uint64_t>(t.count), t.first_seen, t.last_seen});
        stage->saved_[t.id] = {static_cast<std::uint64_t>(t.count), t.last_seen};
    }
    if (!records.empty()) {
        if (auto r = stage->parser_->miner().restore(records); !r) {
            return core::make_error(r.error().code, "restoring log templates: " + r.error().detail);
        }
    }
    return stage;
}

const parser::LogParser::Format* ParseStage::format_for(const model::Event& e) {
    const std::string* name = nullptr;
    if (auto it = e.labels.find("log.format"); it != e.labels.end()) {
        name = &it->second;
    } else if (auto mapped = options_.dataset_formats.find(e.dataset); mapped != options_.dataset_formats.end()) {
        name = &mapped->second;
    } else if (!e.dataset.empty()) {
        name = &e.dataset;
    }
    if (!name || name->size() > 256) {
        return &default_format_;
    }
    auto [it, inserted] = formats_.try_emplace(*name);
    if (inserted && formats_.size() < 1024) {
        // Only names are looked up here: a format string from an event would let
        // senders compile arbitrary patterns.
        if (name->find('<') == std::string::npos) {
            if (auto f = parser_->resolve(*name)) {
                it->second = *f;
            }
        }
    }
    return it->second ? &*it->second : &default_format_;
}

void ParseStage::process(std::vector<model::Event>& batch) {
    static auto& new_counter = core::metrics::default_registry().counter(
        "securityai_parser_new_templates_total", "Log templates seen for the first time.");
    static auto& parsed_counter = core::metrics::default_registry().counter(
        "securityai_parser_messages_total", "Messages parsed into templates.");
    const std::int64_t now = core::now_unix_ms();
    std::uint64_t parsed = 0, fresh = 0;
    for (auto& e : batch) {
        if (e.message.empty() || !e.template_id.empty()) {
            continue;
        }
        parser_->parse(*format_for(e), e.message, now, scratch_);
        parser::apply_to_event(scratch_, e);
        for (const auto& entity : scratch_.entities.items) {
            if (e.entities.size() >= model::kMaxEntityTypes && !e.entities.contains(std::string(to_string(entity.type)))) {
                continue;
            }
            auto& values = e.entities[std::string(to_string(entity.type))];
            if (values.size() < model::kMaxEntityValues &&
                std::find(values.begin(), values.end(), entity.value) == values.end()) {
                values.push_back(entity.value);
            }
        }
        ++parsed;
        if (scratch_.tmpl.is_new) {
            ++fresh;
        }
    }
    parsed_ += parsed;
    new_templates_ += fresh;
    parsed_counter.inc(parsed);
    new_counter.inc(fresh);
}

core::Result<void> ParseStage::save() {
    std::lock_guard lock(save_mutex_);
    const auto all = parser_->miner().snapshot();
    std::vector<storage::TemplateRecord> changed;
    std::set<std::string> live;
    for (const auto& r : all) {
        live.insert(r.id);
        auto it = saved_.find(r.id);
        if (it == saved_.end() || it->second.first != r.count || it->second.second != r.last_seen_ms) {
            changed.push_back(to_store(r));
        }
    }
    std::vector<std::string> gone;
    for (const auto& [id, _] : saved_) {
        if (!live.contains(id)) gone.push_back(id);
    }
    if (auto r = store_.save_templates(changed); !r) return r;
    if (auto r = store_.delete_templates(gone); !r) return r;
    for (const auto& r : changed) saved_[r.id] = {static_cast<std::uint64_t>(r.count), r.last_seen};
    for (const auto& id : gone) saved_.erase(id);
    return {};
}

ParseStageStats ParseStage::stats() const {
    const auto m = parser_->miner().stats();
    return {parsed_.load(), new_templates_.load(), m.templates, m.evictions};
}

}  // namespace sai::pipeline
