#pragma once
// Private: the layout of a compiled rule set, shared by the compiler and the engine.

#include "detection/condition.hpp"
#include "detection/rule_set.hpp"

#include <hs.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace sai::detection {

/// One value test on one field. Pattern atoms run inside the field's Hyperscan
/// databases (one scan per field for all rules); the others are computed directly.
struct Atom {
    static constexpr std::uint32_t kNoMark = UINT32_MAX;
    enum class Kind : std::uint8_t { Pattern, Cidr, Less, LessEq, Greater, GreaterEq, Exists, Null, FieldRef };
    Kind kind = Kind::Pattern;
    std::uint32_t slot = 0;
    std::uint32_t rule = 0;
    bool flag = false;                 // Exists: expected presence
    bool trigger = false;              // Pattern: a match makes the rule a candidate
    double number = 0;                 // numeric comparisons
    std::uint32_t other_slot = 0;      // FieldRef
    std::uint32_t range = 0;           // Cidr: index in CompiledRuleSet::Impl::cidr_ranges
    std::uint32_t mark = kNoMark;      // Pattern: the selection mark its match sets (Selection::mark)
};

/// An atom of a Hyperscan pattern, with the rule it makes a candidate (its trigger atoms
/// only) and the selection mark it sets: what a match needs, without reading the Atom.
struct PatternAtom {
    static constexpr std::uint32_t kNoCandidate = UINT32_MAX;
    std::uint32_t atom = 0;
    std::uint32_t candidate = kNoCandidate;
    std::uint32_t mark = Atom::kNoMark;
};

/// AND (`all`) or OR of atoms on one field: one `Field|mods: values` entry.
struct FieldTest {
    std::uint32_t slot = 0;
    std::string field;
    std::vector<std::uint32_t> atoms;
    bool all = false;
    bool patterns_only = false;  // every atom is a Pattern: its truth is its match mark
};

/// A named selection: OR of alternatives, each an AND of field tests.
struct Selection {
    std::string name;
    std::vector<std::vector<FieldTest>> alternatives;
    /// Atom::kNoMark, or a set-wide mark that a match of some atom of this selection sets
    /// and without which the selection is false: the rule's condition requires the
    /// selection, and each alternative has a field test made only of patterns, whose atoms
    /// set the mark. A candidate whose required mark is unset is false without evaluating it.
    std::uint32_t mark = Atom::kNoMark;
};

/// The logsource a rule is restricted to (lowercased; empty = any).
struct Logsource {
    std::string product, category, service;
};

/// The evaluation form of the rules, in one set-wide array of words
/// (CompiledRuleSet::Impl::code), so that evaluating a candidate reads contiguous words
/// instead of the rule, its condition tree and four levels of vectors (their cache misses
/// were most of the evaluation's time). At `rule_code[rule]`: the rule's logsource class,
/// 1 if it is evaluated as a candidate (0: a correlation), its number of required
/// selection marks and the marks (Selection::mark: the rule is false unless each is set),
/// its number of selections, where each selection starts, its condition, then its selections.
/// A selection: its number of alternatives, then each alternative: the index just past it,
/// then its field tests. A field test: a header (`test_header` flags and the number of
/// atoms), then its atom ids.
/// A condition node: a word whose `condition_node` kind is in the top bits and, for a
/// selection, its index below; an And or Or node then holds the index just past its
/// children (to skip them), then its children; a Not node its one child.
/// Built from `selections` and `condition` once the set is compiled; `selections` keeps
/// the names and fields that explanations report.
namespace test_header {
constexpr std::uint32_t kAll = 1u << 31;           // FieldTest::all
constexpr std::uint32_t kPatternsOnly = 1u << 30;  // FieldTest::patterns_only
constexpr std::uint32_t kAtomCount = kPatternsOnly - 1;
}  // namespace test_header
namespace condition_node {
constexpr std::uint32_t kShift = 30;
constexpr std::uint32_t kSelection = 0, kAnd = 1, kOr = 2, kNot = 3;
constexpr std::uint32_t kIndex = (1u << kShift) - 1;
}  // namespace condition_node

/// The compiler's form of a rule; evaluation reads only its evaluation form (above), and
/// the rule itself when it matched (the explanation's selection names and fields).
struct CompiledRule {
    std::vector<Selection> selections;
    ConditionNode condition;
    std::uint32_t logsource_class = 0;  // rules with equal logsource (and absence matching) share a class
    bool always_candidate = false;  // true on an event without any of its fields (e.g. "not x")
    bool needs_pattern = false;     // cannot be true unless one of its Hyperscan patterns matched
    bool generate = true;           // false when only correlations consume its matches
    bool generate_asked = false;    // a correlation over it said generate: true
    RuleInfo info;
    std::string name;  // Sigma `name`, referenced by correlations
    Logsource logsource;
};

/// A Sigma v2 correlation (or the new_value extension) over base rules.
struct Correlation {
    enum class Type : std::uint8_t { EventCount, ValueCount, Temporal, TemporalOrdered, NewValue };
    Type type = Type::EventCount;
    std::uint32_t rule = 0;               // its own index in rules (info, counters)
    std::vector<std::uint32_t> bases;     // base rule indexes, in declared order
    std::vector<std::uint32_t> group_slots;
    std::vector<std::string> group_fields;
    std::uint32_t value_slot = 0;         // value_count / new_value field
    bool has_value_field = false;
    std::int64_t timespan_ms = 0;
    // Condition on the count: lower and upper bounds, inclusive.
    std::int64_t min = 1, max = INT64_MAX;
};

struct HsDatabase {
    hs_database_t* db = nullptr;
    std::uint32_t id = 0;  // dense, per set (CompiledRuleSet::Impl::databases): groups scans by database
    ~HsDatabase();
    HsDatabase() = default;
    HsDatabase(HsDatabase&& o) noexcept : db(o.db), id(o.id) { o.db = nullptr; }
    HsDatabase& operator=(HsDatabase&&) = delete;
};

/// Logsource classes, one bit each.
using ClassSet = std::vector<std::uint64_t>;

inline bool has_class(const ClassSet& set, std::uint32_t c) { return (set[c / 64] >> (c % 64)) & 1; }
inline void add_class(ClassSet& set, std::uint32_t c) { set[c / 64] |= std::uint64_t{1} << (c % 64); }

/// The rules of some logsource classes with their own databases: an event scans the
/// smallest partition holding every class whose logsource applies to it (or, when none
/// does, every partition holding one of them), so that a Sysmon process creation event
/// does not meet the patterns of registry or Linux rules. Every class is in a partition.
struct Partition {
    ClassSet classes;
    // Per slot: one database of the field's patterns, case-insensitive ones (Sigma's
    // default) with HS_FLAG_CASELESS, scanned over the raw values.
    std::vector<HsDatabase> matchers;
};

/// Event paths (lowercased) -> the slots of the Sigma fields found there, looked up by a
/// path in any case without lowering it first: every event value goes through here, and
/// lowering each key, hashing it and a `std::unordered_map` probe (a division) were a
/// tenth of a Windows event's instructions. Open addressing over a case-folding hash of
/// eight bytes at a time; a hit compares the bytes once, folded.
class PathIndex {
public:
    /// Adds `slot` to the slots of `lowered_path` (compile time).
    void add(std::string_view lowered_path, std::uint32_t slot) {
        const auto hash = folded_hash(lowered_path);
        if (auto* found = find(lowered_path, hash)) {
            entries_[static_cast<std::size_t>(found - entries_.data())].slots.push_back(slot);
            return;
        }
        entries_.push_back({hash, std::string(lowered_path), {slot}});
        if (2 * entries_.size() > table_.size()) {
            table_.assign(std::bit_ceil(std::max<std::size_t>(64, 4 * entries_.size())), kEmpty);
            for (std::uint32_t e = 0; e < entries_.size(); ++e) place(e);
        } else {
            place(static_cast<std::uint32_t>(entries_.size() - 1));
        }
    }

    /// The slots of `path` (compared ASCII case-insensitively), or nullptr.
    const std::vector<std::uint32_t>* slots(std::string_view path) const {
        const auto* e = find(path, folded_hash(path));
        return e != nullptr ? &e->slots : nullptr;
    }

private:
    struct Entry {
        std::uint64_t hash;
        std::string path;
        std::vector<std::uint32_t> slots;
    };
    struct Cell {
        std::uint32_t hash;   // the low half of the entry's hash: most misses end here
        std::uint32_t entry;  // kEmpty: free
    };
    static constexpr Cell kEmpty{0, UINT32_MAX};
    std::vector<Entry> entries_;
    std::vector<Cell> table_;  // a power of two, at most half full

    /// Equal for paths equal but for ASCII case: each byte's 0x20 bit set before mixing.
    static std::uint64_t folded_hash(std::string_view s) {
        constexpr std::uint64_t kFold = 0x2020202020202020ULL, kMul = 0x9E3779B97F4A7C15ULL;
        std::uint64_t h = s.size() * kMul;
        std::size_t i = 0;
        auto mix = [&](std::uint64_t w) {
            h = (h ^ (w | kFold)) * kMul;
            h ^= h >> 29;
        };
        for (; i + 8 <= s.size(); i += 8) {
            std::uint64_t w;
            std::memcpy(&w, s.data() + i, 8);
            mix(w);
        }
        if (i < s.size()) {
            std::uint64_t w = 0;
            std::memcpy(&w, s.data() + i, s.size() - i);
            mix(w);
        }
        return h;
    }

    /// `path` (any case) equals `lowered`: no early exit, so that the loop vectorizes.
    static bool folded_equal(std::string_view path, std::string_view lowered) {
        if (path.size() != lowered.size()) return false;
        unsigned char diff = 0;
        for (std::size_t i = 0; i < path.size(); ++i) {
            const auto c = static_cast<unsigned char>(path[i]);
            diff |= static_cast<unsigned char>((c >= 'A' && c <= 'Z' ? c + 32 : c) ^ static_cast<unsigned char>(lowered[i]));
        }
        return diff == 0;
    }

    const Entry* find(std::string_view path, std::uint64_t hash) const {
        if (table_.empty()) return nullptr;
        const std::size_t mask = table_.size() - 1;
        for (auto i = static_cast<std::size_t>(hash >> 32) & mask;; i = (i + 1) & mask) {
            const Cell c = table_[i];
            if (c.entry == kEmpty.entry) return nullptr;
            if (c.hash == static_cast<std::uint32_t>(hash) && folded_equal(path, entries_[c.entry].path)) {
                return &entries_[c.entry];
            }
        }
    }

    void place(std::uint32_t entry) {
        const std::size_t mask = table_.size() - 1;
        const auto hash = entries_[entry].hash;
        auto i = static_cast<std::size_t>(hash >> 32) & mask;
        while (table_[i].entry != kEmpty.entry) i = (i + 1) & mask;
        table_[i] = {static_cast<std::uint32_t>(hash), entry};
    }
};

struct CompiledRuleSet::Impl {
    std::vector<CompiledRule> rules;
    std::unique_ptr<RuleCounters[]> counters;
    std::vector<Atom> atoms;
    std::vector<std::uint32_t> code;       // the rules for evaluation (see above CompiledRule)
    std::vector<std::uint32_t> rule_code;  // rule -> where its evaluation form starts in code
    std::vector<std::pair<std::string, std::string>> cidr_ranges;  // ip_sort_key low, high
    // Hyperscan pattern id -> its atoms: pattern_atoms[pattern_first[id] .. pattern_first[id + 1]).
    // Identical expressions of different rules are one pattern (in each database; ids are
    // distinct across databases).
    std::vector<std::uint32_t> pattern_first{0};
    std::vector<PatternAtom> pattern_atoms;
    std::uint32_t selection_marks = 0;  // Selection::mark ids are 0 .. selection_marks - 1
    std::vector<Correlation> correlations;
    std::vector<std::vector<std::uint32_t>> correlations_of_rule;  // base rule -> correlations

    std::vector<std::string> slot_names;                             // slot -> Sigma name
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    PathIndex path_slots;
    std::vector<Partition> partitions;  // fewest rules first
    std::vector<std::vector<std::uint32_t>> direct_rules;            // slot -> rules with non-pattern atoms
    std::vector<std::uint32_t> always_rules;
    std::vector<std::uint32_t> class_rule;  // logsource class -> a rule of that class
    std::vector<std::size_t> class_size;    // logsource class -> its number of rules
    // Keyword selections, by the product of their rule: [0] any product, [1] Windows,
    // [2] other products; an event searches [0] and the one of its kind. keyword_slot == [0].
    std::uint32_t keyword_slot = 0;
    std::uint32_t keyword_slots[3] = {0, 0, 0};
    bool has_keywords = false;
    // Fixed slots the logsource check needs, whether rules test them or not.
    std::uint32_t channel_slot = 0, event_id_slot = 0, provider_slot = 0, category_slot = 0, module_slot = 0, message_slot = 0;
    std::uint64_t generation = 0;  // distinct per compiled set: keys per-thread scratch
    std::size_t pattern_bytes = 0;
    std::uint32_t databases = 0;  // compiled Hyperscan databases, ids 0 .. databases - 1
    std::unordered_map<std::string, std::uint32_t> by_id;
};

}  // namespace sai::detection
