#pragma once
// The detection engine: evaluates batches of events against a compiled rule set
// and keeps the state of correlation rules.

#include "detection/rule_set.hpp"
#include "model/event.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sai::detection {

/// One field value that made a selection true (part of a detection's explanation).
struct MatchedField {
    std::string field;  // the Sigma field name ("keywords" for keyword selections)
    std::string value;  // the event's value
};

/// A selection that evaluated true on the event, with the values it tested.
struct MatchedSelection {
    std::string name;
    std::vector<MatchedField> fields;
};

/// A rule that fired: on one event, or for a correlation on a group of events.
struct Detection {
    /// The rule's id, title, level and tags, shared with the compiled set it belongs to (which
    /// it keeps alive): not copied for each detection.
    std::shared_ptr<const RuleInfo> rule;
    std::vector<MatchedSelection> matched;  // empty for correlations
    std::vector<std::string> event_ids;     // the event, or the contributing events (bounded)
    std::size_t event_index = 0;            // position in the evaluated batch of the (last) event
    std::string group_key;                  // correlations: "field=value,..." of group-by
    std::int64_t timestamp_ms = 0;          // event time of the (last) event
    bool correlation = false;
};

/// Bounds and clock of the correlation state.
struct EngineOptions {
    std::size_t max_groups_per_correlation = 100'000;  // least recently seen groups are evicted
    std::size_t max_events_per_group = 1'000;          // timestamps/ids kept per group
    std::size_t max_event_ids_in_detection = 100;
    /// Wall clock (Unix ms) used to expire idle groups; windows use event time.
    std::function<std::int64_t()> now_ms;
};

/// Evaluates events against the current rule set. evaluate() may run on many threads
/// at once: it reads an immutable CompiledRuleSet through an atomically swapped
/// shared_ptr (no lock); correlation state is guarded per correlation rule.
/// Owned by the pipeline stage (or the CLI) for the life of the process.
class Engine {
public:
    explicit Engine(std::shared_ptr<const CompiledRuleSet> rules, EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    /// Detections of a batch, in event order; correlation detections follow the event
    /// that completed them.
    std::vector<Detection> evaluate(std::span<const model::Event> events);

    /// Installs a new rule set (reload). Correlation state of rules that keep their id survives.
    void swap(std::shared_ptr<const CompiledRuleSet> rules);
    std::shared_ptr<const CompiledRuleSet> rules() const;

    /// Drops correlation groups idle for longer than their window (by options.now_ms).
    void expire();
    /// Number of live correlation groups, across rules.
    std::size_t correlation_groups() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sai::detection
