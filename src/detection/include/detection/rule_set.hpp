#pragma once
// Loading and compiling Sigma rules into an immutable, indexed rule set.
//
// Rules come from YAML files (one or more documents per file, `---` separated) or
// from a YAML string (the API). Each bad file, document or rule is reported with
// its file, rule id and reason; the others still compile. docs/detection.md lists
// the supported syntax, the SecurityAI extensions and what is not supported.

#include "core/error.hpp"
#include "detection/field_mapping.hpp"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::detection {

/// A rule's identity and metadata, as reported with its detections.
struct RuleInfo {
    std::string id;     // Sigma `id` (or `name` of a correlation), else "<file>#<document>"
    std::string title;
    std::string level;  // informational, low, medium, high, critical
    std::string status;
    std::string description;
    std::vector<std::string> tags;  // e.g. attack.t1059.001, attack.execution
    std::string file;
    bool correlation = false;
};

/// One rule (or file) that could not be compiled, and why.
struct LoadIssue {
    std::string file;
    std::string rule_id;  // empty when the whole file failed (e.g. YAML syntax)
    std::string reason;
};

/// What a load produced: documents seen, rules compiled, and the located failures.
struct LoadReport {
    std::size_t total = 0;     // rule documents seen (files that fail to parse count as one)
    std::size_t compiled = 0;  // rules in the compiled set
    std::vector<LoadIssue> failed;
};

/// Bounds on untrusted rule input.
struct CompileOptions {
    FieldMapping mapping = FieldMapping::defaults();
    std::size_t max_file_bytes = 4 * 1024 * 1024;
    std::size_t max_values_per_field = 20'000;  // "enormous value lists" are refused past this
    std::size_t max_value_bytes = 64 * 1024;
    std::size_t max_rules = 100'000;
};

/// Counters of one rule; atomics so the engine updates them while others read them.
struct RuleCounters {
    std::atomic<std::uint64_t> evaluations{0};
    std::atomic<std::uint64_t> matches{0};
    std::atomic<std::uint64_t> eval_ns{0};        // sampled: every 16th event per batch
    std::atomic<std::int64_t> last_match_ms{0};   // event time of the last match, 0 when never
};

/// Compiled rules, immutable once built: share it as shared_ptr<const CompiledRuleSet>
/// between any number of threads; reload builds a new one and swaps the pointer
/// (Engine::swap). Only the per-rule counters change, atomically.
class CompiledRuleSet {
public:
    struct Impl;
    explicit CompiledRuleSet(std::unique_ptr<Impl> impl);
    ~CompiledRuleSet();
    CompiledRuleSet(const CompiledRuleSet&) = delete;
    CompiledRuleSet& operator=(const CompiledRuleSet&) = delete;

    std::size_t size() const noexcept;
    const RuleInfo& rule(std::size_t index) const;
    const RuleCounters& counters(std::size_t index) const;
    /// Index of a rule by id, or npos.
    std::size_t find(std::string_view id) const noexcept;
    /// Approximate bytes held by the compiled matchers and indexes.
    std::size_t memory_bytes() const noexcept;
    const Impl& impl() const noexcept { return *impl_; }

    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

private:
    std::unique_ptr<Impl> impl_;
};

/// One YAML source: its name (a path, or "api") and its text.
struct RuleSource {
    std::string name;
    std::string text;
};

/// Compiles every rule of `sources` into one set; never throws on bad input.
std::shared_ptr<const CompiledRuleSet> compile_rules(const std::vector<RuleSource>& sources,
                                                     LoadReport& report, const CompileOptions& options = {});

/// Reads every *.yml / *.yaml under `dirs` (recursively, sorted) and compiles them.
/// Unreadable files are reported like bad rules.
std::shared_ptr<const CompiledRuleSet> load_rule_directories(const std::vector<std::filesystem::path>& dirs,
                                                             LoadReport& report,
                                                             const CompileOptions& options = {});

/// A fingerprint of the rule files under `dirs` (paths, sizes, modification times):
/// poll it and reload when it changes. Unreadable directories count as empty.
std::uint64_t rule_directories_fingerprint(const std::vector<std::filesystem::path>& dirs);

/// Compiles rules from one YAML text (for the API); `name` locates the issues.
std::shared_ptr<const CompiledRuleSet> load_rules_from_yaml(std::string_view yaml, LoadReport& report,
                                                            std::string_view name = "api",
                                                            const CompileOptions& options = {});

}  // namespace sai::detection
