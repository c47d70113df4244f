#pragma once
// The parser facade: header format + template miner + entity extraction, configured from
// the `[parser]` table of the TOML configuration:
//
//   [parser]
//   similarity = 0.7          # Drain similarity threshold, (0, 1]
//   settled_after = 50        # a template seen this often keeps its words (0: never)
//   depth = 4                 # Drain tree depth, 3..16
//   max_children = 100        # tree width and templates per leaf
//   max_templates = 50000     # over all formats; least recently used are evicted
//   max_tokens = 256          # longer messages: the rest is one <*>
//   max_content_bytes = 16384 # longer messages are cut before mining
//   generic_masking = true    # mask numbers, hex, ids, paths, URLs
//   masks = ["@ipv4_port"]    # extra masks for every format: Hyperscan regexes or @builtin names
//   entities = true           # run entity extraction
//
//   [[parser.formats]]        # a new format, or options for a built-in one (same name)
//   name = "myapp"
//   format = "<Date> <Time> <Level> <Component>: <Content>"   # see log_format.hpp
//   masks = ["req-[0-9a-f]+"] # added to [parser] masks
//   similarity = 0.6          # optional per-format depth / max_children / generic_masking too
//
// Unknown keys are errors, so typos do not go unnoticed.

#include "core/error.hpp"
#include "model/event.hpp"
#include "parser/entity_extractor.hpp"
#include "parser/log_format.hpp"
#include "parser/template_miner.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::parser {

/// One configured format: a name, its format string (empty: the built-in one of that name)
/// and its mining options.
struct FormatConfig {
    std::string name;
    std::string spec;
    MinerOptions options;
};

/// Everything the parser can be told by the configuration file.
struct ParserConfig {
    MinerOptions defaults;
    MinerLimits limits;
    std::vector<FormatConfig> formats;
    bool entities = true;

    /// Reads the `[parser]` table of a TOML document (other tables are ignored; a document
    /// without one gives the defaults). InvalidArgument names the bad key.
    static core::Result<ParserConfig> from_toml(std::string_view toml_text, std::string_view source = "config");
    static core::Result<ParserConfig> load_file(const std::filesystem::path& file);
};

/// The result of parsing one line. Views point into the caller's line; reuse one
/// ParsedLine between calls to avoid allocations.
struct ParsedLine {
    const LogFormat* header = nullptr;      // the format used; lives as long as the LogParser
    bool header_matched = false;            // false: the whole line was taken as the message
    HeaderMatch match;                      // fields per header->fields(), and the content
    TemplateMatch tmpl;
    Entities entities;
};

/// Header format + template miner + entities. Create one per configuration and share it
/// (std::shared_ptr) between pipeline workers: parse() is thread-safe. The miner inside
/// keeps the templates; snapshot/restore them through miner().
class LogParser {
public:
    static core::Result<std::shared_ptr<LogParser>> create(const ParserConfig& config);

    /// `format` is a configured or built-in name, or a format string (anything with '<').
    /// NotFound for an unknown name, InvalidArgument for a bad format string; bad lines are
    /// never errors (a line that does not fit the header is mined whole).
    core::Result<void> parse(std::string_view format, std::string_view line, std::int64_t now_ms, ParsedLine& out);

    /// A format resolved once, to parse many lines without looking its name up each time.
    /// Valid as long as the LogParser.
    struct Format {
        const LogFormat* header = nullptr;
        std::uint32_t miner_format = 0;
    };
    /// Resolves (compiling if needed) a format name or string; errors as for parse().
    core::Result<Format> resolve(std::string_view format);
    void parse(const Format& format, std::string_view line, std::int64_t now_ms, ParsedLine& out);

    TemplateMiner& miner() { return *miner_; }
    const TemplateMiner& miner() const { return *miner_; }
    const EntityExtractor* entity_extractor() const { return entities_.get(); }

    ~LogParser();

private:
    struct Formats;
    LogParser() = default;
    ParserConfig config_;
    std::unique_ptr<TemplateMiner> miner_;
    std::shared_ptr<const EntityExtractor> entities_;
    std::unique_ptr<Formats> formats_;
};

/// Copies a parse result onto an event: log.template_id, log.template, the label
/// "log.template_new" = "true" for a first-seen template, and source.ip, user.name,
/// event.outcome, process.name and process.pid when the event has none.
void apply_to_event(const ParsedLine& parsed, model::Event& event);

}  // namespace sai::parser
