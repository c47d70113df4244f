#pragma once
// The log-parsing stage: mines a template for the `message` of every event
// that has one (log.template_id, log.template, log.template_new), extracts
// typed entities into `entities`, and fills source.ip, user.name,
// event.outcome and process.* when the event has none. The format of a
// message is its `labels["log.format"]` or its `event.dataset` when either
// names a parser format, else the configured default ("raw": the whole
// message is content). Templates persist in the TemplateStore: restored at
// start, saved by save() (periodically and at shutdown).

#include "parser/log_parser.hpp"
#include "pipeline/pipeline.hpp"
#include "storage/template_store.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sai::pipeline {

struct ParseStageOptions {
    std::string default_format = "raw";
    /// Datasets whose messages are already without their header: events from the
    /// syslog listeners carry only the message part (app-name and procid are in process.*).
    std::map<std::string, std::string> dataset_formats = {{"syslog", "raw"}};
};

struct ParseStageStats {
    std::uint64_t parsed = 0;
    std::uint64_t new_templates = 0;
    std::size_t templates = 0;
    std::uint64_t evictions = 0;
};

/// Owned by the composition root; process() runs on the pipeline thread; save(),
/// stats() and the parser's miner may be used from others.
class ParseStage final : public Stage {
public:
    /// Restores the stored templates into the parser's miner.
    static core::Result<std::unique_ptr<ParseStage>> create(std::shared_ptr<parser::LogParser> parser,
                                                            storage::TemplateStore& store, ParseStageOptions options);
    std::string_view name() const override { return "parse"; }
    void process(std::vector<model::Event>& batch) override;

    /// Writes templates that changed since the last save, and forgets evicted ones.
    core::Result<void> save();
    ParseStageStats stats() const;
    parser::LogParser& parser() { return *parser_; }

private:
    ParseStage(std::shared_ptr<parser::LogParser> parser, storage::TemplateStore& store, ParseStageOptions options);
    const parser::LogParser::Format* format_for(const model::Event& e);

    std::shared_ptr<parser::LogParser> parser_;
    storage::TemplateStore& store_;
    ParseStageOptions options_;
    parser::LogParser::Format default_format_;
    std::unordered_map<std::string, std::optional<parser::LogParser::Format>> formats_;  // pipeline thread only
    parser::ParsedLine scratch_;
    std::atomic<std::uint64_t> parsed_{0};
    std::atomic<std::uint64_t> new_templates_{0};

    std::mutex save_mutex_;
    std::unordered_map<std::string, std::pair<std::uint64_t, std::int64_t>> saved_;  // id -> (count, last_seen)
};

}  // namespace sai::pipeline
