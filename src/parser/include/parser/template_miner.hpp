#pragma once
// Online template mining with the Drain algorithm (He et al., ICWS 2017), with typed
// pre-masking of variables. A message is masked (see MinerOptions::masks and
// generic_masking), split on whitespace, then routed down a fixed-depth tree: first by
// token count, then by its first `depth - 2` tokens (tokens holding a variable, and tokens
// arriving when a node already has `max_children` children, go to the `<*>` child). The
// leaf holds templates; the most similar one (equal tokens / token count, ties to the one
// with more variables) takes the message when the similarity reaches `similarity`, and the
// positions where they differ become `<*>`. Otherwise the message starts a new template.
//
// Ids are stable: a template's id is fixed when it is created (a hash of its format and
// first text) and kept when the template generalises, is snapshotted and restored.

#include "core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::parser {

/// Mining parameters of one format.
struct MinerOptions {
    double similarity = 0.7;       // Drain's st, in (0, 1]
    std::size_t depth = 4;         // tree depth; depth - 2 leading tokens index the tree (>= 3)
    std::size_t max_children = 100;  // width of an inner node, and templates per leaf
    std::vector<std::string> masks;  // Hyperscan regexes or @builtin names; matches become <*>
    bool generic_masking = true;     // mask numbers, hex, ids, paths, URLs (see masker rules in README)
    std::size_t settled_after = 50;  // a template seen this often keeps its words (0: never settles)
};

/// Bounds on the memory one miner may use.
struct MinerLimits {
    std::size_t max_templates = 50'000;     // over all formats; about the least recently used are evicted
    std::size_t max_content_bytes = 16 * 1024;  // longer messages are cut before mining
    std::size_t max_tokens = 256;           // the rest of a longer message becomes one <*>
    std::size_t shards = 16;                // independent locks for the lines that change templates
};

/// The template a message belongs to, at the time it was parsed.
struct TemplateMatch {
    std::string template_id;
    std::string template_text;        // tokens joined by one space, variables as <*>
    std::vector<std::string> params;  // the text of each <*>, in order
    bool is_new = false;              // the first message of this template
};

/// A template as persisted by the store and shown by the API.
struct TemplateRecord {
    std::string id;
    std::string format;
    std::string template_text;
    std::uint64_t count = 0;
    std::int64_t first_seen_ms = 0;
    std::int64_t last_seen_ms = 0;
};

struct MinerStats {
    std::size_t templates = 0;
    std::uint64_t messages = 0;
    std::uint64_t evictions = 0;  // templates dropped by the caps
};

/// Drain template miner shared by all pipeline workers; every method is thread-safe. A line
/// that a template takes without changing it (nearly every line once templates settle) takes
/// no lock and writes only its thread's own cache lines; a line that creates or changes a
/// template locks one of `MinerLimits::shards` shards (chosen by format and token count).
/// Formats are registered with add_format() (or on first use with the default options).
/// Owned by the LogParser or the pipeline, lives as long as the process or until a
/// configuration reload replaces it.
class TemplateMiner {
public:
    /// InvalidArgument when an option is out of range or a default mask does not compile.
    static core::Result<std::unique_ptr<TemplateMiner>> create(MinerOptions defaults = {}, MinerLimits limits = {});
    ~TemplateMiner();
    TemplateMiner(const TemplateMiner&) = delete;
    TemplateMiner& operator=(const TemplateMiner&) = delete;

    /// Registers (or replaces the options of) a format. Replacing keeps its templates.
    core::Result<void> add_format(const std::string& format, const MinerOptions& options);

    /// Mines one message. Never fails: any bytes are accepted (bad UTF-8 is kept as bytes).
    TemplateMatch parse(std::string_view format, std::string_view content, std::int64_t now_ms = 0);
    /// The same into `out`, reusing its storage; `format_id` comes from format_id().
    void parse(std::uint32_t format_id, std::string_view content, std::int64_t now_ms, TemplateMatch& out);
    /// A stable number for a format name (registering it with the default options if new),
    /// to skip the name lookup on every line.
    std::uint32_t format_id(std::string_view format);

    /// All templates, ordered by format then id.
    std::vector<TemplateRecord> snapshot() const;
    /// One template by id.
    core::Result<TemplateRecord> find(std::string_view id) const;
    /// Loads persisted templates (typically at start, before parsing). A record whose id
    /// exists already updates it. Returns how many were loaded; InvalidArgument for a
    /// record without id or template (the others are still loaded).
    core::Result<std::size_t> restore(const std::vector<TemplateRecord>& records);

    MinerStats stats() const;

private:
    struct Impl;
    explicit TemplateMiner(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::parser
