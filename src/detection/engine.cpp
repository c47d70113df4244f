#include "detection/engine.hpp"

#include "compiled.hpp"
#include "extra_json.hpp"
#include "logsource.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <exception>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace sai::detection {
namespace {

constexpr std::uint32_t kNone = UINT32_MAX;
constexpr std::size_t kMaxValuesPerEvent = 4096;
// Events loaded before their scans run: each database is then scanned for all of them in
// a row and stays in cache (the process creation CommandLine database, 2.7 MB, costs
// about four times as much per value when other scans evicted it in between). 32 events:
// in a cache simulation, 16 to 64 halve the L1 misses; from 64 up, the chunk's own data
// adds more L2 misses than it saves. A chunk also ends once it holds kMaxValuesPerEvent
// values, so that it stores at most twice the values one event may.
constexpr std::size_t kChunkEvents = 32;
constexpr std::size_t kMaxSourcesRemembered = 4096;
constexpr std::size_t kMaxScannedBytes = 64 * 1024;  // per value: bounded work on huge fields
constexpr int kMaxCorrelationDepth = 4;

void ascii_lower(std::string_view in, std::string& out) {
    out.resize(in.size());
    // Through plain pointers: a store via out[i] may alias the string's own pointer, which
    // kept the compiler from vectorizing the loop (every event key goes through here).
    const char* from = in.data();
    char* to = out.data();
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = from[i];
        to[i] = c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
    }
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

std::optional<double> number_of(std::string_view s) {
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
    return d;
}

/// A hash of a text from its length and its first and last eight bytes: texts that
/// repeat (event paths, field values) are told apart without reading all their bytes.
std::uint64_t ends_hash(std::string_view text) {
    std::uint64_t first = 0, last = 0;
    if (text.size() >= 8) {
        std::memcpy(&first, text.data(), 8);
        std::memcpy(&last, text.data() + text.size() - 8, 8);
    } else {
        for (char c : text) first = first << 8 | static_cast<unsigned char>(c);
    }
    return (first ^ std::rotl(last, 29) ^ text.size()) * 0x9E3779B97F4A7C15ULL;
}

/// The slots of event paths as events spell them: a direct-mapped cache in front of the
/// set's PathIndex. Events of one kind repeat their keys byte for byte, and comparing a
/// key exactly (one memcmp) is cheaper than hashing it and comparing it with its case
/// folded (about 150 instructions for a `winlog.event_data.*` key). Per thread and set.
class PathCache {
public:
    void clear() { entries_.assign(kEntries, Entry{}); }

    const std::vector<std::uint32_t>* slots(const PathIndex& index, std::string_view path) {
        auto& e = entries_[spot(path)];
        // Sizes first, then the bytes (string_view::compare stays out of line here).
        if (!e.filled || e.path.size() != path.size() ||
            std::memcmp(e.path.data(), path.data(), path.size()) != 0) {
            e.path.assign(path);
            e.slots = index.slots(path);
            e.filled = true;
        }
        return e.slots;
    }

private:
    static constexpr int kBits = 9;
    static constexpr std::size_t kEntries = std::size_t{1} << kBits;
    struct Entry {
        std::string path;
        const std::vector<std::uint32_t>* slots = nullptr;
        bool filled = false;
    };
    std::vector<Entry> entries_;

    /// From the length and the first and last eight bytes (paths share prefixes).
    static std::size_t spot(std::string_view path) {
        return static_cast<std::size_t>(ends_hash(path) >> (64 - kBits));
    }
};

/// Per-thread working memory: the values of a chunk of events, the current event's
/// values by slot, its fired atoms and candidate rules, the chunk's scans and their
/// matches; reused across events (epoch stamps instead of clearing).
struct Scratch {
    /// A value of an event of the chunk; its text lies in the event (the events outlive
    /// the evaluation of their batch) or in `texts`.
    struct Value {
        std::string_view raw;
        std::uint32_t next = kNone;  // the slot's next value
        std::uint32_t slot = kNone;  // kNone: keyword-only
        bool keyword = false;        // also searched by keyword selections
    };
    /// A slot of an event as its loading left it: its first value.
    struct SavedSlot {
        std::uint32_t slot = 0, head = kNone;
    };
    /// What an event source implies: the logsource classes that apply, the partitions to scan.
    struct SourceClasses {
        ClassSet applies;
        std::vector<const Partition*> partitions;
    };
    /// One Hyperscan scan of a chunk: a value (or, kNone, its event's keyword text) against
    /// a database; its matches, in report order, are matches[match_first .. match_end).
    struct Job {
        const HsDatabase* matcher = nullptr;
        std::uint32_t value = kNone;
        std::uint32_t event = 0;
        std::uint32_t match_first = 0, match_end = 0;
    };
    /// An event of the chunk: its slots (saved[slots_first .. slots_present) those with
    /// values, in the order they came, then up to slots_end the keyword slots when it has
    /// keyword values), its scans (in the order of an event-by-event scan), its source's classes.
    struct Planned {
        std::uint32_t slots_first = 0, slots_present = 0, slots_end = 0;
        std::uint32_t jobs_first = 0, jobs_end = 0;
        const SourceClasses* classes = nullptr;
    };
    std::uint64_t generation = 0;
    hs_scratch_t* hs = nullptr;
    std::vector<Value> values;
    std::size_t used = 0, event_first = 0;  // values of the chunk; the current event's first
    TextArena texts;                        // the chunk's values that do not lie in their event
    std::vector<SavedSlot> saved;           // the chunk's events' slots
    std::vector<std::uint32_t> slot_head, slot_tail, slot_epoch, atom_epoch;
    std::vector<std::uint32_t> mark_epoch;  // per selection mark (Selection::mark): set in this epoch
    /// Per rule: the epoch it became a candidate in, and its evaluations in this batch;
    /// together, so that counting an evaluation touches the line the candidate mark did.
    struct RuleMark {
        std::uint32_t epoch = 0;
        std::uint32_t evaluations = 0;
    };
    std::vector<RuleMark> rule_marks;
    std::vector<std::uint64_t> eval_ns;    // per rule, this batch (sampled events)
    std::vector<std::uint32_t> evaluated;  // rules with evaluations in this batch
    std::vector<std::uint32_t> present, candidates, keyword_only;
    std::vector<std::string> keyword_texts;  // per event of the chunk
    std::vector<Job> jobs;
    std::vector<std::uint32_t> job_order, matches;
    std::exception_ptr match_error;  // from on_match_thunk
    std::vector<std::uint32_t> database_jobs, databases_used;  // run_scans: jobs per database id
    // run_scans: the chunk's scans run, by database and text (kNone: free).
    std::vector<std::uint32_t> scanned;
    std::vector<Planned> planned;
    /// Per selection of the candidate rule being evaluated: its first true alternative (-1:
    /// none), valid when stamped with the evaluation's `memo_stamp` (nothing cleared per rule).
    struct Memo {
        std::uint32_t stamp = 0;
        std::int8_t alternative = 0;
    };
    std::vector<Memo> selection_memo;
    std::uint32_t memo_stamp = 0;
    std::unordered_map<std::string, SourceClasses, CompiledRuleSet::Impl::StringHash, std::equal_to<>> sources;
    std::string source_key;
    EventSource source;
    PathCache paths;
    std::uint32_t epoch = 0;
    const CompiledRuleSet::Impl* set = nullptr;

    ~Scratch() {
        if (hs != nullptr) hs_free_scratch(hs);
    }

    void prepare(const CompiledRuleSet::Impl& s) {
        set = &s;
        if (generation == s.generation) return;
        for (const auto& p : s.partitions) {
            for (const auto& m : p.matchers) {
                if (m.db != nullptr && hs_alloc_scratch(m.db, &hs) != HS_SUCCESS) {
                    throw std::runtime_error("hyperscan: cannot allocate scratch");
                }
            }
        }
        slot_head.assign(s.slot_names.size(), kNone);
        slot_tail.assign(s.slot_names.size(), kNone);
        slot_epoch.assign(s.slot_names.size(), 0);
        atom_epoch.assign(s.atoms.size(), 0);
        mark_epoch.assign(s.selection_marks, 0);
        database_jobs.assign(s.databases, 0);
        rule_marks.assign(s.rules.size(), RuleMark{});
        eval_ns.assign(s.rules.size(), 0);
        evaluated.clear();
        sources.clear();
        paths.clear();
        epoch = 0;
        generation = s.generation;
    }

    void next_event() {
        if (++epoch == 0) {
            std::fill(slot_epoch.begin(), slot_epoch.end(), 0);
            std::fill(atom_epoch.begin(), atom_epoch.end(), 0);
            std::fill(mark_epoch.begin(), mark_epoch.end(), 0);
            for (auto& m : rule_marks) m.epoch = 0;
            epoch = 1;
        }
        present.clear();
        candidates.clear();
        keyword_only.clear();
    }

    void next_chunk() {
        used = 0;
        texts.clear();
        saved.clear();
        jobs.clear();
        planned.clear();
        // The chunk's events point into `sources`: forget them only between chunks.
        if (sources.size() + kChunkEvents > kMaxSourcesRemembered) sources.clear();
    }

    /// Saves the slots of the event just loaded, for activate().
    void save_slots(Planned& p) {
        p.slots_first = static_cast<std::uint32_t>(saved.size());
        for (auto slot : present) saved.push_back({slot, slot_head[slot]});
        p.slots_present = static_cast<std::uint32_t>(saved.size());
        if (has(set->keyword_slot)) {
            for (auto k : set->keyword_slots) saved.push_back({k, slot_head[k]});
        }
        p.slots_end = static_cast<std::uint32_t>(saved.size());
    }

    /// Makes `p` the current event again (after the chunk's scans): its values by slot, as
    /// its loading left them (the values' links are the event's own, they stay).
    void activate(const Planned& p) {
        next_event();
        for (auto i = p.slots_first; i < p.slots_end; ++i) {
            const auto [slot, head] = saved[i];
            slot_epoch[slot] = epoch;
            slot_head[slot] = head;
            if (i < p.slots_present) present.push_back(slot);
        }
    }

    bool has(std::uint32_t slot) const { return slot_epoch[slot] == epoch; }

    /// Whether each of the `count` selection marks at `marks` is set: a rule with an unset
    /// required mark is false (most candidates, made so by a match of another selection).
    bool marked(const std::uint32_t* marks, std::uint32_t count) const {
        for (std::uint32_t i = 0; i < count; ++i) {
            if (mark_epoch[marks[i]] != epoch) return false;
        }
        return true;
    }

    /// Stores a value of the current event, linked into `slot` (kNone: keyword-only).
    void push(std::uint32_t slot, std::string_view text, bool keyword) {
        if (used - event_first >= kMaxValuesPerEvent) return;
        if (used == values.size()) values.emplace_back();
        const auto index = static_cast<std::uint32_t>(used++);
        values[index] = {text, kNone, slot, keyword};
        if (keyword && !has(set->keyword_slot)) {
            for (auto k : set->keyword_slots) {
                slot_epoch[k] = epoch;
                slot_head[k] = kNone;
            }
        }
        if (slot == kNone) {
            keyword_only.push_back(index);
            return;
        }
        if (slot_epoch[slot] != epoch) {
            slot_epoch[slot] = epoch;
            slot_head[slot] = kNone;
            present.push_back(slot);
        }
        // Values keep their order per slot: the first value is the head.
        if (slot_head[slot] == kNone) {
            slot_head[slot] = index;
        } else {
            values[slot_tail[slot]].next = index;
        }
        slot_tail[slot] = index;
    }

    /// A value at `path` (in any case). Its text must stay valid for the chunk, unless it
    /// is `transient`: then it is copied into `texts` when stored.
    void add_path(std::string_view path, std::string_view text, bool keyword, bool transient) {
        keyword = keyword && set->has_keywords;
        const auto* slots = paths.slots(set->path_slots, path);
        if (slots == nullptr && !keyword) return;
        text = text.substr(0, kMaxScannedBytes);
        if (transient) text = texts.copy(text);
        if (slots != nullptr) {
            for (auto slot : *slots) {
                push(slot, text, keyword);
                keyword = false;  // searched once
            }
        }
        if (keyword) push(kNone, text, true);
    }

    /// A fresh memo of `selections` selections for the next candidate's evaluation.
    void next_memo(std::uint32_t selections) {
        if (selection_memo.size() < selections) selection_memo.resize(selections);
        if (++memo_stamp == 0) {
            for (auto& m : selection_memo) m.stamp = 0;
            memo_stamp = 1;
        }
    }

    void candidate(std::uint32_t rule) {
        if (rule_marks[rule].epoch != epoch) {
            rule_marks[rule].epoch = epoch;
            candidates.push_back(rule);
        }
    }

    /// Counts an evaluation of `rule` (and its sampled time) for this batch.
    void count_evaluation(std::uint32_t rule, std::uint64_t ns) {
        if (rule_marks[rule].evaluations++ == 0) evaluated.push_back(rule);
        if (ns != 0) eval_ns[rule] += ns;  // only sampled events: the array stays out of the way
    }

    /// Adds the batch's evaluation counts to the set's counters: one atomic add per rule
    /// evaluated instead of one per evaluation (a cache miss per candidate).
    void fold_counters() {
        for (auto r : evaluated) {
            auto& counters = set->counters[r];
            counters.evaluations.fetch_add(rule_marks[r].evaluations, std::memory_order_relaxed);
            if (eval_ns[r] != 0) counters.eval_ns.fetch_add(eval_ns[r], std::memory_order_relaxed);
            rule_marks[r].evaluations = 0;
            eval_ns[r] = 0;
        }
        evaluated.clear();
    }

    template <class F>
    void for_values(std::uint32_t slot, F&& f) const {
        if (!has(slot)) return;
        for (auto i = slot_head[slot]; i != kNone; i = values[i].next) {
            if (f(values[i])) return;
        }
    }

    /// Plans a scan of `text` (a value, or kNone: the keyword text) of the current event.
    void plan_scan(const HsDatabase& matcher, std::uint32_t value) {
        if (matcher.db != nullptr) {
            jobs.push_back({&matcher, value, static_cast<std::uint32_t>(planned.size())});
        }
    }

    std::string_view text_of(const Job& job) const {
        return job.value == kNone ? std::string_view(keyword_texts[job.event]) : values[job.value].raw;
    }

    /// Runs the chunk's scans grouped by database; each keeps its matches in report order.
    /// A text its database already scanned in this chunk takes that scan's matches (they
    /// are a function of database and text): events repeat many short values (users,
    /// integrity levels, parent images), on which a scan's fixed cost is most of its cost.
    void run_scans() {
        group_jobs_by_database();
        matches.clear();
        scanned.assign(std::bit_ceil(2 * jobs.size()), kNone);
        for (auto j : job_order) {
            auto& job = jobs[j];
            const std::string_view text = text_of(job);
            if (const auto same = same_scan(j, text); same != kNone) {
                job.match_first = jobs[same].match_first;
                job.match_end = jobs[same].match_end;
                continue;
            }
            job.match_first = static_cast<std::uint32_t>(matches.size());
            const auto size = static_cast<unsigned>(text.size());
            hs_scan(job.matcher->db, text.data(), size, 0, hs, on_match_thunk, this);
            if (match_error) std::rethrow_exception(std::exchange(match_error, nullptr));
            job.match_end = static_cast<std::uint32_t>(matches.size());
        }
    }

    /// A job run before `j` with its database and `text`, or kNone (then `j` is remembered,
    /// when there is room within a few places: the work per job stays bounded).
    std::uint32_t same_scan(std::uint32_t j, std::string_view text) {
        constexpr std::size_t kMaxProbes = 8;
        const auto* matcher = jobs[j].matcher;
        const std::size_t mask = scanned.size() - 1;
        const std::uint64_t h = ends_hash(text) ^ (matcher->id * 0x9E3779B97F4A7C15ULL);
        auto i = static_cast<std::size_t>(h >> 32) & mask;
        for (std::size_t probe = 0; probe < kMaxProbes; ++probe, i = (i + 1) & mask) {
            const auto k = scanned[i];
            if (k == kNone) {
                scanned[i] = j;
                return kNone;
            }
            const auto other = text_of(jobs[k]);
            if (jobs[k].matcher == matcher && other.size() == text.size() &&
                std::memcmp(other.data(), text.data(), text.size()) == 0) {
                return k;
            }
        }
        return kNone;
    }

    /// job_order: the jobs, those of one database together (a counting sort by database id;
    /// the groups' order does not matter, the matches are replayed by job).
    void group_jobs_by_database() {
        databases_used.clear();
        for (const auto& job : jobs) {
            if (database_jobs[job.matcher->id]++ == 0) databases_used.push_back(job.matcher->id);
        }
        std::uint32_t start = 0;
        for (auto d : databases_used) {
            start += std::exchange(database_jobs[d], start);  // its count -> its first place
        }
        job_order.resize(jobs.size());
        for (std::uint32_t j = 0; j < jobs.size(); ++j) job_order[database_jobs[jobs[j].matcher->id]++] = j;
        for (auto d : databases_used) database_jobs[d] = 0;
    }

    /// The matches of the current event's scans, in the order an event-by-event scan
    /// reported them: the atoms they fire, the rules they make candidates.
    void replay_matches(const Planned& p) {
        for (auto j = p.jobs_first; j < p.jobs_end; ++j) {
            for (auto m = jobs[j].match_first; m < jobs[j].match_end; ++m) matched(matches[m]);
        }
    }

    void matched(std::uint32_t id) {
        for (auto i = set->pattern_first[id]; i < set->pattern_first[id + 1]; ++i) {
            const auto [atom, rule, mark] = set->pattern_atoms[i];
            if (atom_epoch[atom] != epoch) {
                atom_epoch[atom] = epoch;
                if (mark != Atom::kNoMark) mark_epoch[mark] = epoch;
                if (rule != PatternAtom::kNoCandidate) candidate(rule);
            }
        }
    }

    /// Hyperscan's callback: keeps the id. No exception crosses Hyperscan's C code: a failed
    /// allocation stops the scan and is rethrown after it.
    static int on_match_thunk(unsigned id, unsigned long long, unsigned long long, unsigned, void* ctx) {
        auto& s = *static_cast<Scratch*>(ctx);
        try {
            s.matches.push_back(id);
        } catch (...) {
            s.match_error = std::current_exception();
            return 1;
        }
        return 0;
    }
};

thread_local Scratch t_scratch;

/// Feeds the top-level members of `extra` to the scratch: each scalar value at its path
/// (strings also searched by keyword selections).
struct ExtraSink {
    Scratch& s;
    std::string_view path;  // valid until the next key
    void key(std::string_view name) { path = name; }
    void value(std::string_view text, bool is_string) { s.add_path(path, text, is_string, false); }
};

void load_event(Scratch& s, const model::Event& e) {
    // Some texts visit_fields hands over are numbers it prints: all are copied.
    model::visit_fields(e, [&](std::string_view path, std::string_view text) {
        s.add_path(path, text, path == "message", true);
    });
    if (!e.extra.empty()) {
        ExtraSink sink{s};
        extra_json::Reader(e.extra, s.texts).run(sink);
    }
}

/// The current event's Hyperscan scans, planned (Scratch::run_scans runs them): one per
/// field value for every pattern on that field of the rules of `parts`; keyword values
/// against their keyword patterns for this kind of event.
void plan_scans(Scratch& s, const std::vector<const Partition*>& parts, bool windows) {
    const auto& set = *s.set;
    // Keyword values are searched as one text, one value per line: one scan per database.
    if (s.keyword_texts.size() <= s.planned.size()) s.keyword_texts.resize(s.planned.size() + 1);
    auto& text = s.keyword_texts[s.planned.size()];
    text.clear();
    auto keywords = [&](const Scratch::Value& v) {
        text += v.raw;
        text += '\n';
    };
    for (std::size_t p = 0; p < s.present.size(); ++p) {
        const auto slot = s.present[p];
        for (auto i = s.slot_head[slot]; i != kNone; i = s.values[i].next) {
            for (const auto* part : parts) s.plan_scan(part->matchers[slot], i);
            if (s.values[i].keyword) keywords(s.values[i]);
        }
    }
    for (auto i : s.keyword_only) keywords(s.values[i]);
    if (!text.empty()) {
        for (auto k : {set.keyword_slots[0], set.keyword_slots[windows ? 1 : 2]}) {
            for (const auto* part : parts) s.plan_scan(part->matchers[k], kNone);
        }
    }
}

/// The current event's candidates that no pattern announces: rules with direct tests on
/// its fields, and rules that can match without any of their fields.
void direct_candidates(Scratch& s) {
    const auto& set = *s.set;
    for (auto slot : s.present) {
        for (auto r : set.direct_rules[slot]) s.candidate(r);
    }
    if (s.has(set.keyword_slot)) {
        for (auto k : set.keyword_slots) {
            for (auto r : set.direct_rules[k]) s.candidate(r);
        }
    }
    for (auto r : set.always_rules) s.candidate(r);
}

/// The event's source, into `src` (reused per thread: its strings keep their capacity).
void event_source(const Scratch& s, EventSource& src) {
    const auto& set = *s.set;
    for (auto* text : {&src.product, &src.channel, &src.provider, &src.category}) text->clear();
    src.event_id = -1;
    s.for_values(set.channel_slot, [&](const Scratch::Value& v) { ascii_lower(v.raw, src.channel); return true; });
    s.for_values(set.provider_slot, [&](const Scratch::Value& v) { ascii_lower(v.raw, src.provider); return true; });
    s.for_values(set.event_id_slot, [&](const Scratch::Value& v) {
        if (auto n = number_of(v.raw)) src.event_id = static_cast<std::int64_t>(*n);
        return true;
    });
    s.for_values(set.category_slot, [&](const Scratch::Value& v) { ascii_lower(v.raw, src.category); return true; });
    src.windows = !src.channel.empty() || !src.provider.empty();
    if (src.windows) {
        src.product = "windows";
    } else {
        s.for_values(set.module_slot, [&](const Scratch::Value& v) { ascii_lower(v.raw, src.product); return true; });
    }
}


/// The logsource classes that apply to `src` and the partition to scan, remembered per
/// thread by source (events of one kind share it).
const Scratch::SourceClasses& classes_of(Scratch& s, const EventSource& src) {
    auto& key = s.source_key;
    key.assign(src.windows ? "w" : "o");
    for (const auto* part : {&src.product, &src.channel, &src.provider, &src.category}) {
        key += '\x1f';
        key += *part;
    }
    key += '\x1f';
    key += std::to_string(src.event_id);
    if (auto it = s.sources.find(key); it != s.sources.end()) return it->second;
    const auto& set = *s.set;
    Scratch::SourceClasses out;
    out.applies = applying_classes(set, src);
    auto covers = [&](const Partition& part) {
        for (std::size_t w = 0; w < out.applies.size(); ++w) {
            if ((out.applies[w] & ~part.classes[w]) != 0) return false;
        }
        return true;
    };
    auto meets = [&](const Partition& part) {
        for (std::size_t w = 0; w < out.applies.size(); ++w) {
            if ((out.applies[w] & part.classes[w]) != 0) return true;
        }
        return false;
    };
    if (auto it = std::find_if(set.partitions.begin(), set.partitions.end(), covers); it != set.partitions.end()) {
        out.partitions = {&*it};
    } else {
        for (const auto& part : set.partitions) {
            if (meets(part)) out.partitions.push_back(&part);
        }
    }
    return s.sources.emplace(key, std::move(out)).first->second;
}

/// Loads an event of the chunk and plans its scans.
void plan_event(Scratch& s, const model::Event& e) {
    s.next_event();
    s.event_first = s.used;
    Scratch::Planned p;
    p.jobs_first = static_cast<std::uint32_t>(s.jobs.size());
    load_event(s, e);
    s.save_slots(p);
    event_source(s, s.source);
    p.classes = &classes_of(s, s.source);
    plan_scans(s, p.classes->partitions, s.source.windows);
    p.jobs_end = static_cast<std::uint32_t>(s.jobs.size());
    s.planned.push_back(p);
}

bool atom_true(const Scratch& s, const Atom& a, std::uint32_t id) {
    switch (a.kind) {
        case Atom::Kind::Pattern:
            return s.atom_epoch[id] == s.epoch;
        case Atom::Kind::Exists:
            return s.has(a.slot) == a.flag;
        case Atom::Kind::Null: {
            bool empty = true;
            s.for_values(a.slot, [&](const Scratch::Value& v) { return !(empty = v.raw.empty()); });
            return empty;
        }
        case Atom::Kind::Cidr: {
            bool hit = false;
            s.for_values(a.slot, [&](const Scratch::Value& v) {
                const auto key = model::ip_sort_key(v.raw);
                const auto& [low, high] = s.set->cidr_ranges[a.range];
                return hit = !key.empty() && key >= low && key <= high;
            });
            return hit;
        }
        case Atom::Kind::FieldRef: {
            bool hit = false;
            s.for_values(a.slot, [&](const Scratch::Value& v) {
                s.for_values(a.other_slot, [&](const Scratch::Value& o) { return hit = iequals(o.raw, v.raw); });
                return hit;
            });
            return hit;
        }
        default: {
            bool hit = false;
            s.for_values(a.slot, [&](const Scratch::Value& v) {
                const auto n = number_of(v.raw);
                if (!n) return false;
                switch (a.kind) {
                    case Atom::Kind::Less: hit = *n < a.number; break;
                    case Atom::Kind::LessEq: hit = *n <= a.number; break;
                    case Atom::Kind::Greater: hit = *n > a.number; break;
                    default: hit = *n >= a.number; break;
                }
                return hit;
            });
            return hit;
        }
    }
}

/// A field test in evaluation form: `header` (test_header flags, number of atoms), its atom ids.
bool test_true(const Scratch& s, std::uint32_t header, const std::uint32_t* atoms) {
    // any: the first true atom decides; all: the first false one.
    const bool all = (header & test_header::kAll) != 0;
    const auto* end = atoms + (header & test_header::kAtomCount);
    if ((header & test_header::kPatternsOnly) != 0) {
        for (; atoms != end; ++atoms) {
            if ((s.atom_epoch[*atoms] == s.epoch) != all) return !all;
        }
        return all;
    }
    for (; atoms != end; ++atoms) {
        const bool a = atom_true(s, s.set->atoms[*atoms], *atoms);
        if (all != a) return a;
    }
    return all;
}

/// Index of the first alternative of the selection at `at` in the evaluation code that
/// holds, or -1.
int selection_match(const Scratch& s, std::uint32_t at) {
    const auto* code = s.set->code.data();
    const auto alternatives = code[at++];
    for (std::uint32_t i = 0; i < alternatives; ++i) {
        const auto end = code[at++];
        bool ok = true;
        for (; at < end; at += 1 + (code[at] & test_header::kAtomCount)) {
            if (!test_true(s, code[at], code + at + 1)) {
                ok = false;
                break;
            }
        }
        if (ok) return static_cast<int>(i);
        at = end;
    }
    return -1;
}

/// The condition node at `at` in the evaluation code (`at` moves past it), given the truth
/// of each selection; And and Or stop at their first deciding child, as evaluate_condition.
template <class SelectionValue>
bool condition_true(const std::uint32_t* code, std::uint32_t& at, const SelectionValue& selection) {
    namespace cn = condition_node;
    const auto word = code[at++];
    switch (word >> cn::kShift) {
        case cn::kSelection:
            return selection(word & cn::kIndex);
        case cn::kNot:
            return !condition_true(code, at, selection);
        default: {
            const bool all = word >> cn::kShift == cn::kAnd;
            const auto end = code[at++];
            while (at < end) {
                if (condition_true(code, at, selection) != all) {
                    at = end;
                    return !all;
                }
            }
            return all;
        }
    }
}

std::string first_value(const Scratch& s, std::uint32_t slot) {
    std::string out;
    const auto* k = s.set->keyword_slots;
    if (slot == k[0] || slot == k[1] || slot == k[2]) {
        // Keyword values are not linked to a field: the message is the usual match.
        s.for_values(s.set->message_slot, [&](const Scratch::Value& v) { out = v.raw; return true; });
        return out;
    }
    s.for_values(slot, [&](const Scratch::Value& v) { out = v.raw; return true; });
    return out;
}

// ---- correlation state ----

struct Group {
    std::deque<std::pair<std::int64_t, std::string>> events;  // (event time, event id), oldest first
    std::deque<std::pair<std::int64_t, std::string>> values;  // value_count: (time, value)
    std::vector<std::int64_t> seen;                           // temporal: last time per base
    std::size_t next = 0;                                     // temporal_ordered: next step
    std::int64_t start = 0;
    std::int64_t last_wall = 0;
    std::list<std::string>::iterator lru;
};

struct CorrelationState {
    std::mutex mu;
    std::unordered_map<std::string, Group> groups;
    std::list<std::string> lru;  // most recent first
    std::int64_t timespan_ms = 0;
};

}  // namespace

struct Engine::State {
    EngineOptions options;
    std::atomic<std::shared_ptr<const CompiledRuleSet>> rules;
    mutable std::mutex correlations_mu;  // guards the map, not the groups
    std::unordered_map<std::string, std::unique_ptr<CorrelationState>> correlations;

    CorrelationState& correlation_state(const std::string& id, std::int64_t timespan) {
        std::lock_guard lock(correlations_mu);
        auto& p = correlations[id];
        if (!p) p = std::make_unique<CorrelationState>();
        p->timespan_ms = timespan;
        return *p;
    }

    std::int64_t now() const {
        return options.now_ms ? options.now_ms()
                              : std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    }

    void fire(const std::shared_ptr<const CompiledRuleSet>& set, std::uint32_t rule, const model::Event& e,
              std::size_t index, std::vector<Detection>& out, const Scratch& s, int depth);
};

void Engine::State::fire(const std::shared_ptr<const CompiledRuleSet>& set, std::uint32_t rule,
                         const model::Event& e, std::size_t index, std::vector<Detection>& out,
                         const Scratch& s, int depth) {
    const auto& impl = set->impl();
    if (depth > kMaxCorrelationDepth) return;
    for (auto ci : impl.correlations_of_rule[rule]) {
        const auto& c = impl.correlations[ci];
        const auto& info = impl.rules[c.rule].info;
        std::string key;
        for (std::size_t g = 0; g < c.group_slots.size(); ++g) {
            if (g > 0) key += ',';
            key += c.group_fields[g] + "=" + first_value(s, c.group_slots[g]);
        }
        const std::string value = c.has_value_field ? first_value(s, c.value_slot) : std::string();
        if (c.has_value_field && value.empty() && c.type != Correlation::Type::EventCount) continue;
        auto& st = correlation_state(info.id, c.timespan_ms);
        const std::int64_t t = e.timestamp;
        bool fired = false;
        std::vector<std::string> ids;
        {
            std::lock_guard lock(st.mu);
            const std::string state_key = c.type == Correlation::Type::NewValue ? key + "|" + value : key;
            auto [it, inserted] = st.groups.try_emplace(state_key);
            Group& g = it->second;
            if (inserted) {
                st.lru.push_front(state_key);
                g.lru = st.lru.begin();
                if (st.groups.size() > options.max_groups_per_correlation) {
                    st.groups.erase(st.lru.back());
                    st.lru.pop_back();
                }
            } else {
                st.lru.splice(st.lru.begin(), st.lru, g.lru);
            }
            g.last_wall = now();
            const std::int64_t from = t - c.timespan_ms;
            auto remember = [&] {
                g.events.emplace_back(t, e.id);
                while (!g.events.empty() && g.events.front().first < from) g.events.pop_front();
                if (g.events.size() > options.max_events_per_group) g.events.pop_front();
            };
            switch (c.type) {
                case Correlation::Type::EventCount: {
                    remember();
                    const auto n = static_cast<std::int64_t>(g.events.size());
                    fired = n >= c.min && n <= c.max;
                    break;
                }
                case Correlation::Type::ValueCount: {
                    remember();
                    g.values.emplace_back(t, value);
                    while (!g.values.empty() && g.values.front().first < from) g.values.pop_front();
                    if (g.values.size() > options.max_events_per_group) g.values.pop_front();
                    std::vector<std::string_view> distinct;
                    for (const auto& [ts, v] : g.values) distinct.push_back(v);
                    std::sort(distinct.begin(), distinct.end());
                    const auto n = std::unique(distinct.begin(), distinct.end()) - distinct.begin();
                    fired = n >= c.min && n <= c.max;
                    break;
                }
                case Correlation::Type::Temporal: {
                    remember();
                    g.seen.resize(c.bases.size(), INT64_MIN);
                    for (std::size_t b = 0; b < c.bases.size(); ++b) {
                        if (c.bases[b] == rule) g.seen[b] = t;
                    }
                    fired = std::all_of(g.seen.begin(), g.seen.end(), [&](std::int64_t x) { return x >= from; });
                    break;
                }
                case Correlation::Type::TemporalOrdered: {
                    if (g.next > 0 && t - g.start > c.timespan_ms) {
                        g.next = 0;
                        g.events.clear();
                    }
                    if (c.bases[g.next] == rule) {
                        if (g.next == 0) g.start = t;
                        g.events.emplace_back(t, e.id);
                        if (g.events.size() > options.max_events_per_group) g.events.pop_front();
                        ++g.next;
                    } else if (g.next > 0 && c.bases[g.next - 1] == rule) {
                        g.events.emplace_back(t, e.id);  // a repeat of the current step
                        if (g.events.size() > options.max_events_per_group) g.events.pop_front();
                    }
                    fired = g.next == c.bases.size();
                    break;
                }
                case Correlation::Type::NewValue: {
                    // `start` holds when the pair was last seen; a fresh group is a first sighting.
                    fired = inserted || t - g.start > c.timespan_ms;
                    g.start = t;
                    break;
                }
            }
            if (fired) {
                for (auto i = g.events.size() > options.max_event_ids_in_detection
                                  ? g.events.size() - options.max_event_ids_in_detection
                                  : 0;
                     i < g.events.size(); ++i) {
                    ids.push_back(g.events[i].second);
                }
                if (ids.empty()) ids.push_back(e.id);
                if (c.type != Correlation::Type::NewValue) {
                    // Start a new window so one burst gives one detection.
                    g.events.clear();
                    g.values.clear();
                    g.seen.clear();
                    g.next = 0;
                }
            }
        }
        if (!fired) continue;
        auto& counters = impl.counters[c.rule];
        counters.matches.fetch_add(1, std::memory_order_relaxed);
        counters.last_match_ms.store(t, std::memory_order_relaxed);
        if (impl.rules[c.rule].generate) {
            Detection d;
            d.rule = std::shared_ptr<const RuleInfo>(set, &info);
            d.event_ids = std::move(ids);
            d.event_index = index;
            d.group_key = c.type == Correlation::Type::NewValue ? key + (key.empty() ? "" : ",") + "value=" + value : key;
            d.timestamp_ms = t;
            d.correlation = true;
            out.push_back(std::move(d));
        }
        fire(set, c.rule, e, index, out, s, depth + 1);
    }
}

Engine::Engine(std::shared_ptr<const CompiledRuleSet> rules, EngineOptions options)
    : state_(std::make_unique<State>()) {
    state_->options = std::move(options);
    state_->rules.store(std::move(rules));
}

Engine::~Engine() = default;

void Engine::swap(std::shared_ptr<const CompiledRuleSet> rules) { state_->rules.store(std::move(rules)); }

std::shared_ptr<const CompiledRuleSet> Engine::rules() const { return state_->rules.load(); }

std::vector<Detection> Engine::evaluate(std::span<const model::Event> events) {
    const auto holder = state_->rules.load();
    std::vector<Detection> out;
    if (!holder || holder->size() == 0) return out;
    const auto& set = holder->impl();
    Scratch& s = t_scratch;
    s.prepare(set);
    // The counters get the batch's evaluations when it ends, thrown out of or not.
    struct Fold {
        Scratch& s;
        ~Fold() { s.fold_counters(); }
    } fold{s};
    std::size_t chunk_first = 0, chunk_end = 0;
    for (std::size_t index = 0; index < events.size(); ++index) {
        if (index == chunk_end) {
            s.next_chunk();
            chunk_first = index;
            do {
                plan_event(s, events[chunk_end++]);
            } while (chunk_end < events.size() && chunk_end - chunk_first < kChunkEvents &&
                     s.used < kMaxValuesPerEvent);
            s.run_scans();
        }
        const model::Event& e = events[index];
        const auto& planned = s.planned[index - chunk_first];
        s.activate(planned);
        s.replay_matches(planned);
        direct_candidates(s);
        const auto& classes = *planned.classes;
        const bool timed = index % 16 == 0;
        for (auto r : s.candidates) {
            // Evaluation form: class, evaluated, required marks, number of selections, their
            // starts, condition, ...
            const std::uint32_t* code = set.code.data();
            const std::uint32_t rule_at = set.rule_code[r];
            if (!has_class(classes.applies, code[rule_at]) || code[rule_at + 1] == 0) continue;
            const auto started = timed ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
            const auto marks = code[rule_at + 2];
            const std::uint32_t at = rule_at + 3 + marks;  // the number of selections
            const auto selections = code[at];
            auto memo = [&](std::size_t i) {
                auto& m = s.selection_memo[i];
                if (m.stamp != s.memo_stamp) {
                    m = {s.memo_stamp, static_cast<std::int8_t>(selection_match(s, code[at + 1 + i]))};
                }
                return m.alternative;
            };
            bool match = s.marked(code + rule_at + 3, marks);
            if (match) {
                s.next_memo(selections);
                std::uint32_t condition = at + 1 + selections;
                match = condition_true(code, condition, [&](std::size_t i) { return memo(i) >= 0; });
            }
            s.count_evaluation(r, timed ? static_cast<std::uint64_t>(
                                              std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                  std::chrono::steady_clock::now() - started)
                                                  .count())
                                        : 0);
            if (!match) continue;
            const auto& rule = set.rules[r];
            auto& counters = set.counters[r];
            counters.matches.fetch_add(1, std::memory_order_relaxed);
            counters.last_match_ms.store(e.timestamp, std::memory_order_relaxed);
            if (rule.generate) {
                Detection d;
                d.rule = std::shared_ptr<const RuleInfo>(holder, &rule.info);
                d.event_ids = {e.id};
                d.event_index = index;
                d.timestamp_ms = e.timestamp;
                d.matched.reserve(rule.selections.size());
                for (std::size_t i = 0; i < rule.selections.size(); ++i) {
                    if (memo(i) < 0) continue;
                    auto& ms = d.matched.emplace_back(MatchedSelection{rule.selections[i].name, {}});
                    const auto& tests = rule.selections[i].alternatives[s.selection_memo[i].alternative];
                    ms.fields.reserve(tests.size());
                    for (const auto& t : tests) ms.fields.push_back({t.field, first_value(s, t.slot)});
                }
                out.push_back(std::move(d));
            }
            if (!set.correlations_of_rule[r].empty()) {
                state_->fire(holder, r, e, index, out, s, 0);
            }
        }
    }
    return out;
}

void Engine::expire() {
    const std::int64_t now = state_->now();
    std::lock_guard lock(state_->correlations_mu);
    for (auto& [id, st] : state_->correlations) {
        std::lock_guard g(st->mu);
        for (auto it = st->groups.begin(); it != st->groups.end();) {
            if (it->second.last_wall + st->timespan_ms < now) {
                st->lru.erase(it->second.lru);
                it = st->groups.erase(it);
            } else {
                ++it;
            }
        }
    }
}

std::size_t Engine::correlation_groups() const {
    std::lock_guard lock(state_->correlations_mu);
    std::size_t n = 0;
    for (auto& [id, st] : state_->correlations) {
        std::lock_guard g(st->mu);
        n += st->groups.size();
    }
    return n;
}

}  // namespace sai::detection
