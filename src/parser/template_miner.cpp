#include "parser/template_miner.hpp"

#include "masker.hpp"
#include "text.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstring>
#include <limits>
#include <list>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

namespace sai::parser {
namespace {

constexpr std::string_view kWild = "<*>";

using detail::StringHash;

std::uint64_t fnv1a(std::string_view a, std::string_view b, std::uint64_t salt) {
    std::uint64_t h = 1469598103934665603ULL ^ salt;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h ^= c;
            h *= 1099511628211ULL;
        }
    };
    mix(a);
    mix("\x1f");
    mix(b);
    return h;
}

std::string hex_id(std::uint64_t h) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 15; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kDigits[h & 0xF];
        h >>= 4;
    }
    return out;
}

bool has_wild(std::string_view token) { return token.find(kWild) != std::string_view::npos; }

// What a template's token holds, worked out when the template changes rather than at every
// comparison of a line with it.
enum class TokenKind : std::uint8_t { Word, Wild, Partial };  // Partial: "<*>" inside other text

TokenKind kind_of(std::string_view token) {
    return token == kWild ? TokenKind::Wild : has_wild(token) ? TokenKind::Partial : TokenKind::Word;
}

// Raises `a` to `v` when it is lower (threads beyond the number of slots share one).
template <class T>
void raise_to(std::atomic<T>& a, T v) {
    T seen = a.load(std::memory_order_relaxed);
    while (v > seen && !a.compare_exchange_weak(seen, v, std::memory_order_relaxed)) {
    }
}

/// How often and how lately a template was used. Each thread counts in a cache line of its
/// own (its slot, see ThreadSlot), so that workers matching the same template write no common
/// line; readers add the slots up. Shared by the successive Templates of one cluster.
class Tally {
public:
    Tally(std::size_t slots, std::uint64_t count, std::int64_t last_seen_ms)
        : slots_(std::make_unique<Slot[]>(slots)), size_(slots), count_(count), last_seen_ms_(last_seen_ms) {}

    /// `tick`: the shard's LRU clock at the use (0 for none).
    void hit(std::size_t slot, std::int64_t now_ms, std::uint64_t tick) {
        Slot& s = slots_[slot];
        s.count.fetch_add(1, std::memory_order_relaxed);
        raise_to(s.last_seen_ms, now_ms);
        raise_to(s.tick, tick);
    }
    std::uint64_t count() const {
        std::uint64_t n = count_;
        for (std::size_t i = 0; i < size_; ++i) {
            n += slots_[i].count.load(std::memory_order_relaxed);
        }
        return n;
    }
    std::int64_t last_seen_ms() const {
        std::int64_t t = last_seen_ms_;
        for (std::size_t i = 0; i < size_; ++i) {
            t = std::max(t, slots_[i].last_seen_ms.load(std::memory_order_relaxed));
        }
        return t;
    }
    /// The shard's LRU clock at the latest use.
    std::uint64_t tick() const {
        std::uint64_t t = 0;
        for (std::size_t i = 0; i < size_; ++i) {
            t = std::max(t, slots_[i].tick.load(std::memory_order_relaxed));
        }
        return t;
    }

private:
    struct alignas(64) Slot {
        std::atomic<std::uint64_t> count{0};
        std::atomic<std::int64_t> last_seen_ms{std::numeric_limits<std::int64_t>::min()};
        std::atomic<std::uint64_t> tick{0};
    };
    std::unique_ptr<Slot[]> slots_;
    std::size_t size_;
    std::uint64_t count_;  // restored
    std::int64_t last_seen_ms_;
};

/// A template as lines are matched against it without the shard lock: never changed once
/// published (a template that generalises is replaced by a new Template sharing the Tally),
/// and kept alive by the leaf views and threads that hold it.
struct Template {
    std::string id;
    std::vector<std::string> tokens;
    std::vector<TokenKind> kinds;  // of tokens
    std::string text;
    std::size_t wildcards = 0;
    // A lower bound of the count, read instead of the tally once it reaches settled_after.
    std::uint64_t published_count = 0;
    std::shared_ptr<Tally> tally;

    bool settled(const MinerOptions& o) const {
        return o.settled_after > 0 &&
               (published_count >= o.settled_after || tally->count() >= o.settled_after);
    }
};

/// A template of `tokens` counted by `tally`; its id is the caller's to set.
std::shared_ptr<Template> make_template(std::vector<std::string> tokens, std::shared_ptr<Tally> tally) {
    auto t = std::make_shared<Template>();
    t->tokens = std::move(tokens);
    for (const auto& token : t->tokens) {
        if (!t->text.empty()) {
            t->text.push_back(' ');
        }
        t->text += token;
        t->kinds.push_back(kind_of(token));
        t->wildcards += t->kinds.back() == TokenKind::Wild ? 1 : 0;
    }
    t->published_count = tally->count();
    t->tally = std::move(tally);
    return t;
}

/// `t` with other tokens (or the same, to publish its count again), keeping its id and tally.
std::shared_ptr<const Template> renewed(const Template& t, std::vector<std::string> tokens) {
    auto next = make_template(std::move(tokens), t.tally);
    next->id = t.id;
    return next;
}

/// A leaf's templates in the order of its clusters, as lines are matched against them.
/// Published under the shard lock and never changed but for `replaced`, set when a newer
/// view of the leaf is published: a thread holding this one then looks the leaf up again.
struct LeafView {
    std::vector<std::shared_ptr<const Template>> templates;
    mutable std::atomic<bool> replaced{false};
};

struct Node;

struct Cluster {
    std::shared_ptr<const Template> tpl;  // replaced, never changed, when the template changes
    std::uint32_t format = 0;
    std::int64_t first_seen_ms = 0;
    Node* leaf = nullptr;
    std::list<Cluster*>::iterator lru;
    std::uint64_t lru_tick = 0;  // the shard's clock when the cluster was put at the list's front
};

constexpr std::uint64_t kHashMul = 0x9e3779b97f4a7c15ull;

// The tree's keys are short tokens looked up a few times per line: eight bytes at a time
// with a multiply, inline, instead of std::hash's out-of-line Murmur (the children maps are
// never iterated, so their order does not matter).
struct TokenHash {
    using is_transparent = void;
    [[gnu::always_inline]] std::size_t operator()(std::string_view s) const noexcept {
        std::uint64_t h = s.size() * kHashMul;
        std::size_t at = 0;
        for (; at + 8 <= s.size(); at += 8) {
            std::uint64_t word;
            std::memcpy(&word, s.data() + at, 8);
            h = (h ^ word) * kHashMul;
        }
        // The last 0-7 bytes by fixed-size loads (a memcpy of a variable size is a call):
        // two overlapping words of four, or the first, middle and last byte.
        const char* p = s.data() + at;
        const std::size_t left = s.size() - at;
        std::uint64_t tail = 0;
        if (left >= 4) {
            std::uint32_t lo;
            std::uint32_t hi;
            std::memcpy(&lo, p, 4);
            std::memcpy(&hi, p + left - 4, 4);
            tail = lo | (std::uint64_t{hi} << 32);
        } else if (left > 0) {
            tail = static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[left / 2]) << 8 |
                   static_cast<unsigned char>(p[left - 1]) << 16;
        }
        h = (h ^ tail) * kHashMul;
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

struct Node {
    Node* parent = nullptr;
    std::string key;  // in the parent's children
    std::uint64_t root_key = 0;
    std::unordered_map<std::string, std::unique_ptr<Node>, TokenHash, std::equal_to<>> children;
    std::vector<Cluster*> clusters;
    std::shared_ptr<const LeafView> view;  // of clusters, published under the shard lock
};

/// A shard's lock, taken by the lines that change the tree or a template and by those whose
/// leaf their thread does not know yet. Its critical section (one line's descent, match,
/// change and output, a few hundred nanoseconds) is far shorter than a futex sleep and wake-up, which is what
/// std::mutex costs as soon as two workers meet on the same shard: waiting briefly
/// on the CPU keeps the workers running, and yielding after that keeps a preempted
/// holder from being starved on a busy machine.
class SpinLock {
public:
    void lock() {
        for (unsigned spins = 0; locked_.exchange(true, std::memory_order_acquire); ++spins) {
            while (locked_.load(std::memory_order_relaxed)) {
                if (++spins < 64) {  // a few microseconds: longer than a critical section
                    _mm_pause();
                } else {
                    std::this_thread::yield();
                }
            }
        }
    }
    void unlock() { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

struct Shard {
    mutable SpinLock mu;
    // Written under the lock, read by every hit: on a cache line of their own, which a hit
    // never writes.
    alignas(64) std::atomic<std::uint64_t> pruned{0};  // changes when tree nodes are removed
    std::atomic<std::uint64_t> clock{1};  // LRU time: advances when a cluster is put at the front
    // (format << 32 | token count)
    alignas(64) std::unordered_map<std::uint64_t, std::unique_ptr<Node>> roots;
    std::unordered_map<std::string, std::unique_ptr<Cluster>, StringHash, std::equal_to<>> by_id;
    std::list<Cluster*> lru;  // put at the front when created or found used (see add_cluster)
    std::uint64_t evictions = 0;
};

// A counter alone on its cache line.
struct alignas(64) Counter {
    std::atomic<std::uint64_t> value{0};
};

// Each change of any miner's formats takes a new number from here, so that a thread's cached
// format (below) is never mistaken for one of another miner.
std::atomic<std::uint64_t> next_formats_version{1};

struct FormatState {
    std::string name;
    MinerOptions options;
    detail::Masker masker;
};

// Length first: most tokens that differ differ in length. Tokens are mostly short, and the
// comparison runs for every token of every candidate template: up to 16 bytes are compared
// inline, as two loads from each end (overlapping when shorter), not by a call to memcmp.
// This and the other functions that every line runs through are always inline: g++ stops
// inlining them into parse() once they have a few callers, and the calls cost 1-2 % of the
// instructions of a line (callgrind).
[[gnu::always_inline]] inline bool same_token(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    if (n != b.size()) return false;
    const auto same = [&](auto word, std::size_t at) {
        decltype(word) x;
        decltype(word) y;
        std::memcpy(&x, a.data() + at, sizeof x);
        std::memcpy(&y, b.data() + at, sizeof y);
        return x == y;
    };
    if (n >= 8) {
        return n <= 16 ? same(std::uint64_t{}, 0) && same(std::uint64_t{}, n - 8)
                       : std::memcmp(a.data(), b.data(), n) == 0;
    }
    if (n >= 4) return same(std::uint32_t{}, 0) && same(std::uint32_t{}, n - 4);
    if (n >= 2) return same(std::uint16_t{}, 0) && same(std::uint16_t{}, n - 2);
    return n == 0 || a[0] == b[0];
}

/// Writes a line's parameters over those of the previous line, so that their strings are
/// reused instead of allocated again; finish() drops what is left over.
class ParamWriter {
public:
    explicit ParamWriter(std::vector<std::string>& params) : params_(params) {}
    [[gnu::always_inline]] void add(std::string_view value) {
        if (count_ < params_.size()) {
            params_[count_].assign(value);
        } else {
            params_.emplace_back(value);
        }
        ++count_;
    }
    std::size_t size() const { return count_; }
    void truncate(std::size_t size) { count_ = std::min(count_, size); }
    void finish() { params_.resize(count_); }

private:
    std::vector<std::string>& params_;
    std::size_t count_ = 0;
};

// Whether `text` fits `pattern`, where each <*> of the pattern stands for any text
// (possibly empty). The texts the <*> cover are added to `captures` when given.
bool glob_match(std::string_view pattern, std::string_view text, ParamWriter* captures) {
    std::size_t wild = pattern.find(kWild);
    if (wild == std::string_view::npos) {
        return pattern == text;
    }
    if (text.substr(0, wild) != pattern.substr(0, wild)) {
        return false;
    }
    std::size_t pos = wild;  // in text
    pattern.remove_prefix(wild + kWild.size());
    for (;;) {
        const std::size_t next = pattern.find(kWild);
        const std::string_view literal = pattern.substr(0, next);
        if (next == std::string_view::npos) {
            // The last literal must end the text.
            if (text.size() < pos + literal.size() || text.substr(text.size() - literal.size()) != literal) {
                return false;
            }
            if (captures) captures->add(text.substr(pos, text.size() - literal.size() - pos));
            return true;
        }
        const std::size_t at = literal.empty() ? pos : text.find(literal, pos);
        if (at == std::string_view::npos) {
            return false;
        }
        if (captures) captures->add(text.substr(pos, at - pos));
        pos = at + literal.size();
        pattern.remove_prefix(next + kWild.size());
    }
}

enum class Fit { None, LineFitsTemplate, TemplateFitsLine };

/// How two different tokens relate when one has a partial mask ("blk_<*>", "(<*>)").
Fit fits(std::string_view tpl, std::string_view tok) {
    if (has_wild(tpl) && glob_match(tpl, tok, nullptr)) {
        return Fit::LineFitsTemplate;
    }
    if (has_wild(tok) && glob_match(tok, tpl, nullptr)) {
        return Fit::TemplateFitsLine;
    }
    return Fit::None;
}

// Drain routes tokens with digits to the <*> child: they are likely variables even when
// masking kept them (a word that merely ends in a digit).
[[gnu::always_inline]] inline bool tree_wild(std::string_view token) {
    return has_wild(token) || std::any_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}


// The key a token has in the tree (before the cap on a node's children).
std::string_view route_token(std::string_view token) { return tree_wild(token) ? kWild : token; }

/// Whether a line that template `t` takes changes it: a word that differs becomes <*>, and a
/// partly masked token of the line replaces a word of the template that fits it. When it
/// does and `merged` is given, that is set to the template's new tokens.
[[gnu::always_inline]] inline bool generalise(const Template& t, const std::vector<std::string_view>& tokens,
                                              std::vector<std::string>* merged) {
    bool changed = false;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        if (t.kinds[i] == TokenKind::Wild || same_token(t.tokens[i], tokens[i])) {
            continue;
        }
        const Fit fit = fits(t.tokens[i], tokens[i]);
        if (fit == Fit::LineFitsTemplate) {
            continue;
        }
        if (merged == nullptr) {
            return true;
        }
        if (!changed) {
            *merged = t.tokens;
            changed = true;
        }
        (*merged)[i] = fit == Fit::TemplateFitsLine ? std::string(tokens[i]) : std::string(kWild);
    }
    return changed;
}

struct Choice {
    const Template* best = nullptr;
    std::size_t index = 0;  // of best in the leaf
    double similarity = -1.0;
    bool stale_settled = false;  // a template of the leaf settled after it was published
};

/// Drain's choice of a template in a leaf for a masked line: the most similar (equal tokens
/// over token count), ties to the one with more variables, skipping templates whose
/// structure the line does not have.
[[gnu::always_inline]] inline Choice choose(const LeafView& leaf, const std::vector<std::string_view>& tokens,
                                            const MinerOptions& o) {
    Choice choice;
    std::size_t best_wild = 0;
    const std::size_t n = tokens.size();
    for (std::size_t k = 0; k < leaf.templates.size(); ++k) {
        const Template& c = *leaf.templates[k];
        std::size_t same = 0;
        bool structural_mismatch = false;
        const bool settled = c.settled(o);
        choice.stale_settled |= settled && c.published_count < o.settled_after;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& t = c.tokens[i];
            const TokenKind kind = c.kinds[i];
            if (same_token(t, tokens[i])) {
                ++same;
            } else if (kind != TokenKind::Wild && (kind == TokenKind::Partial || has_wild(tokens[i]))) {
                // A partly masked token ("(uid=<*>)", "port:<*>") is structure: a token that
                // fits it ("(uid=42)", "(host.name)") or that it fits agrees with the template;
                // one that does not ("LOGIN(uid=<*>)") belongs to another template.
                if (fits(t, tokens[i]) != Fit::None) {
                    ++same;
                    continue;
                }
                if (kind == TokenKind::Partial || settled) {
                    structural_mismatch = true;
                    break;
                }
            } else if (kind != TokenKind::Wild && settled) {
                // A word that stayed the same over many lines is part of the message, not a
                // value: a line with another word there is another message.
                structural_mismatch = true;
                break;
            }
        }
        if (structural_mismatch) {
            continue;
        }
        const double sim = n == 0 ? 1.0 : static_cast<double>(same) / static_cast<double>(n);
        if (sim > choice.similarity || (sim == choice.similarity && c.wildcards > best_wild)) {
            choice.best = &c;
            choice.index = k;
            choice.similarity = sim;
            best_wild = c.wildcards;
        }
    }
    return choice;
}

/// The result for a line that template `t` took: its id, text and the values of its <*>.
void write_match(const Template& t, const detail::MaskedLine& line, TemplateMatch& out) {
    out.template_id.assign(t.id);
    out.template_text.assign(t.text);
    ParamWriter params(out.params);
    for (std::size_t i = 0; i < line.tokens.size(); ++i) {
        const auto b = line.first_masked[i];
        const auto e = line.first_masked[i + 1];
        const bool wild = t.kinds[i] == TokenKind::Wild;
        if (wild && !(e - b == 1 && line.tokens[i] == kWild)) {
            params.add(line.raw_tokens[i]);
        } else if (wild || same_token(t.tokens[i], line.tokens[i])) {
            for (auto k = b; k < e; ++k) {
                params.add(line.masked[k]);
            }
        } else if (t.kinds[i] == TokenKind::Partial) {
            // The line fits a partly masked token: its values are what the <*> cover.
            const auto before = params.size();
            if (!glob_match(t.tokens[i], line.raw_tokens[i], &params)) {
                params.truncate(before);
                params.add(line.raw_tokens[i]);
            }
        }
    }
    params.finish();
}

/// A thread's way to the leaf of a line's first tokens: good while the view is the leaf's
/// latest and no tree node of the shard was removed since (adding nodes never reroutes a
/// line that had a route: it only happens below nodes that still have room).
struct Route {
    std::uint64_t pruned = 0;  // Shard::pruned when the route was found
    std::shared_ptr<const LeafView> view;
};

std::uint64_t root_key(std::uint32_t format, std::size_t length) {
    return (static_cast<std::uint64_t>(format) << 32) | static_cast<std::uint32_t>(length);
}

/// Per thread: the routes found in one miner under one version of its formats, so that a
/// line whose leaf is known is matched without the shard lock. A table of 4,096 routes
/// (about 300 KiB and the tokens), open addressing over a few places: a route that finds
/// them taken replaces one (it is found again under the lock when needed). Routes of another
/// miner or of older formats count as free places.
class RouteCache {
public:
    RouteCache() : routes_(kSize) {}
    /// Takes the routes found under `formats_version` (see Impl) as the valid ones.
    void use(std::uint64_t formats_version) { formats_version_ = formats_version; }
    /// Makes the current line's key: its format and token count, and the tree keys of its
    /// first `levels` tokens (as descend() takes them).
    void set_key(std::uint32_t format, const std::vector<std::string_view>& tokens, std::size_t levels) {
        root_ = root_key(format, tokens.size());
        levels_ = levels;
        std::uint64_t h = root_ * kHashMul;
        for (std::size_t d = 0; d < levels; ++d) {
            key_[d] = route_token(tokens[d]);
            h = (h ^ TokenHash{}(key_[d])) * kHashMul;
        }
        hash_ = h ^ (h >> 29);
    }
    const Route* find() const {
        for (std::size_t i = 0; i < kProbes; ++i) {
            const Entry& e = routes_[(hash_ + i) & (kSize - 1)];
            if (!valid(e)) {
                return nullptr;
            }
            if (matches(e)) {
                return &e.route;
            }
        }
        return nullptr;
    }
    void store(std::uint64_t pruned, std::shared_ptr<const LeafView> view) {
        Entry* slot = &routes_[hash_ & (kSize - 1)];  // replaced when every place is taken
        for (std::size_t i = 0; i < kProbes; ++i) {
            Entry& e = routes_[(hash_ + i) & (kSize - 1)];
            if (!valid(e)) {
                slot = &e;
                break;
            }
            if (matches(e)) {
                e.route = Route{pruned, std::move(view)};
                return;
            }
        }
        slot->formats_version = formats_version_;
        slot->hash = hash_;
        slot->root = root_;
        slot->tokens.assign(key_.begin(), key_.begin() + static_cast<std::ptrdiff_t>(levels_));
        slot->route = Route{pruned, std::move(view)};
    }

private:
    static constexpr std::size_t kSize = 4096;
    static constexpr std::size_t kProbes = 4;
    static constexpr std::size_t kMaxLevels = 14;  // depth - 2, depth at most 16 (check_options)

    struct Entry {
        std::uint64_t formats_version = 0;  // 0: never used
        std::uint64_t hash = 0;
        std::uint64_t root = 0;
        std::vector<std::string> tokens;
        Route route;
    };

    bool valid(const Entry& e) const { return e.formats_version == formats_version_; }

    [[gnu::always_inline]] bool matches(const Entry& e) const {
        if (e.hash != hash_ || e.root != root_ || e.tokens.size() != levels_) {
            return false;
        }
        for (std::size_t d = 0; d < levels_; ++d) {
            if (!same_token(e.tokens[d], key_[d])) return false;
        }
        return true;
    }

    std::uint64_t formats_version_ = 0;
    std::vector<Entry> routes_;
    // The current line's key.
    std::uint64_t hash_ = 0;
    std::uint64_t root_ = 0;
    std::array<std::string_view, kMaxLevels> key_;
    std::size_t levels_ = 0;
};

// Bit i is set while a thread holds slot number i.
std::atomic<std::uint64_t> taken_slots{0};

/// A thread's slot in the tallies: the lowest number no other live thread holds, so that
/// workers running at the same time count in different cache lines whatever threads came
/// and went before them.
class ThreadSlot {
public:
    ThreadSlot() {
        std::uint64_t taken = taken_slots.load(std::memory_order_relaxed);
        while (taken != ~std::uint64_t{0}) {
            const int bit = std::countr_one(taken);
            if (taken_slots.compare_exchange_weak(taken, taken | (std::uint64_t{1} << bit),
                                                  std::memory_order_relaxed)) {
                index_ = static_cast<std::size_t>(bit);
                return;
            }
        }
    }
    ~ThreadSlot() {
        if (index_ < 64) {
            taken_slots.fetch_and(~(std::uint64_t{1} << index_), std::memory_order_relaxed);
        }
    }
    ThreadSlot(const ThreadSlot&) = delete;
    ThreadSlot& operator=(const ThreadSlot&) = delete;
    std::size_t index() const { return index_; }

private:
    std::size_t index_ = 64;  // past 64 threads at once, they share
};

core::Result<void> check_options(const MinerOptions& o) {
    if (!(o.similarity > 0.0 && o.similarity <= 1.0)) {
        return core::make_error(core::Errc::InvalidArgument, "similarity must be in (0, 1]");
    }
    if (o.depth < 3 || o.depth > 16) {
        return core::make_error(core::Errc::InvalidArgument, "depth must be between 3 and 16");
    }
    if (o.max_children < 2 || o.max_children > 100'000) {
        return core::make_error(core::Errc::InvalidArgument, "max_children must be between 2 and 100000");
    }
    return {};
}

}  // namespace

struct TemplateMiner::Impl {
    MinerOptions defaults;
    MinerLimits limits;
    std::size_t shard_cap = 1;

    mutable std::shared_mutex formats_mu;
    std::vector<std::shared_ptr<const FormatState>> formats;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> format_index;

    // Changes (under the unique lock) whenever `formats` does: parse() then needs no lock
    // while its thread's cached format is current.
    std::atomic<std::uint64_t> formats_version{0};

    std::vector<std::unique_ptr<Shard>> shards;
    // One per tally slot: about as many as the machine runs threads at once (a power of two,
    // at most 8), so that each template costs a few cache lines, not one per possible thread.
    std::size_t slots = 1;
    std::unique_ptr<Counter[]> messages;  // lines parsed, per slot

    void formats_changed() { formats_version.store(next_formats_version.fetch_add(1), std::memory_order_release); }

    std::size_t slot() const {
        thread_local const ThreadSlot mine;
        return mine.index() & (slots - 1);
    }

    /// Counts a line that template `t` took; `tick` is the shard's LRU clock (0: not a use
    /// that keeps the template from eviction).
    void count_hit(const Template& t, std::int64_t now_ms, std::uint64_t tick) const {
        const std::size_t s = slot();
        t.tally->hit(s, now_ms, tick);
        messages[s].value.fetch_add(1, std::memory_order_relaxed);
    }

    core::Result<std::shared_ptr<const FormatState>> make_state(const std::string& name, const MinerOptions& o) const {
        if (auto ok = check_options(o); !ok) {
            return core::make_error(ok.error().code, "format '" + name + "': " + ok.error().detail);
        }
        auto masker = detail::Masker::create(o.masks, o.generic_masking, limits.max_tokens);
        if (!masker) {
            return core::make_error(masker.error().code, "format '" + name + "': " + masker.error().detail);
        }
        return std::make_shared<const FormatState>(FormatState{name, o, std::move(*masker)});
    }

    std::pair<std::uint32_t, std::shared_ptr<const FormatState>> format(std::string_view name) {
        {
            std::shared_lock lock(formats_mu);
            if (auto it = format_index.find(name); it != format_index.end()) {
                return {it->second, formats[it->second]};
            }
        }
        // The default options compiled once in create(), so this cannot fail.
        auto state = make_state(std::string(name), defaults).value();
        std::unique_lock lock(formats_mu);
        if (auto it = format_index.find(name); it != format_index.end()) {
            return {it->second, formats[it->second]};
        }
        const auto idx = static_cast<std::uint32_t>(formats.size());
        formats.push_back(state);
        format_index.emplace(std::string(name), idx);
        formats_changed();
        return {idx, state};
    }

    std::string format_name(std::uint32_t idx) const {
        std::shared_lock lock(formats_mu);
        return idx < formats.size() ? formats[idx]->name : std::string();
    }

    Shard& shard_for(std::uint32_t format, std::size_t length) {
        const std::uint64_t h = (static_cast<std::uint64_t>(format) * 0x9E3779B97F4A7C15ULL) ^ (length * 0xBF58476D1CE4E5B9ULL);
        return *shards[(h >> 17) % shards.size()];
    }

    /// Walks (creating) the tree path of a token sequence down to its leaf.
    static Node* descend(Shard& shard, std::uint64_t key, const std::vector<std::string_view>& tokens,
                         const MinerOptions& o) {
        auto& root = shard.roots[key];
        if (!root) {
            root = std::make_unique<Node>();
            root->root_key = key;
        }
        Node* node = root.get();
        const std::size_t levels = std::min(tokens.size(), o.depth - 2);
        for (std::size_t d = 0; d < levels; ++d) {
            std::string_view k = route_token(tokens[d]);
            auto it = node->children.find(k);
            if (it == node->children.end()) {
                if (k != kWild && node->children.size() >= o.max_children) {
                    k = kWild;
                    it = node->children.find(k);
                }
                if (it == node->children.end()) {
                    auto child = std::make_unique<Node>();
                    child->parent = node;
                    child->key = std::string(k);
                    child->root_key = key;
                    it = node->children.emplace(std::string(k), std::move(child)).first;
                }
            }
            node = it->second.get();
        }
        return node;
    }

    /// The template that takes a line without changing, when its thread knows the line's
    /// leaf and its route is still good (once templates settle, nearly every line): found
    /// without the lock, and alive as long as the thread's route. Else null.
    static const Template* match_known(const Shard& shard, const RouteCache& routes,
                                       const std::vector<std::string_view>& tokens, const MinerOptions& o) {
        const Route* route = routes.find();
        if (route == nullptr || route->view->replaced.load(std::memory_order_acquire) ||
            route->pruned != shard.pruned.load(std::memory_order_acquire)) {
            return nullptr;
        }
        const Choice choice = choose(*route->view, tokens, o);
        const bool takes = choice.best && choice.similarity >= o.similarity && !choice.stale_settled &&
                           !generalise(*choice.best, tokens, nullptr);
        return takes ? choice.best : nullptr;
    }

    /// The same choice under the shard's lock, which creates or changes the template, and
    /// learns the line's route. `is_new` is set when the line created the template.
    std::shared_ptr<const Template> match_locked(Shard& shard, RouteCache& routes, std::uint32_t fmt,
                                                 const FormatState& state,
                                                 const std::vector<std::string_view>& tokens,
                                                 std::int64_t now_ms, bool& is_new) {
        const MinerOptions& o = state.options;
        std::lock_guard lock(shard.mu);
        Node* leaf = descend(shard, root_key(fmt, tokens.size()), tokens, o);
        const Choice choice = leaf->view ? choose(*leaf->view, tokens, o) : Choice{};
        bool changed = choice.stale_settled;
        Cluster* c = nullptr;
        if (choice.best && choice.similarity >= o.similarity) {
            c = leaf->clusters[choice.index];
            if (std::vector<std::string> merged; generalise(*c->tpl, tokens, &merged)) {
                c->tpl = renewed(*c->tpl, std::move(merged));
                changed = true;
            }
        } else {
            c = add_cluster(shard, leaf, fmt, state.name, {tokens.begin(), tokens.end()}, o);
            c->first_seen_ms = now_ms;
            is_new = true;
            changed = true;
        }
        if (choice.stale_settled) {
            republish_settled(*leaf, o);
        }
        if (changed) {
            publish(*leaf);
        }
        routes.store(shard.pruned.load(std::memory_order_relaxed), leaf->view);
        return c->tpl;
    }

    /// A leaf's clusters changed: lines see its new view, and threads holding the old one
    /// look the leaf up again.
    static void publish(Node& leaf) {
        auto view = std::make_shared<LeafView>();
        view->templates.reserve(leaf.clusters.size());
        for (const Cluster* c : leaf.clusters) {
            view->templates.push_back(c->tpl);
        }
        if (leaf.view) {
            leaf.view->replaced.store(true, std::memory_order_release);
        }
        leaf.view = std::move(view);
    }

    /// Templates of the leaf that settled since they were published are published again,
    /// so that lines stop reading their tallies.
    static void republish_settled(Node& leaf, const MinerOptions& o) {
        for (Cluster* c : leaf.clusters) {
            if (c->tpl->published_count < o.settled_after && c->tpl->settled(o)) {
                c->tpl = renewed(*c->tpl, c->tpl->tokens);
            }
        }
    }

    /// Puts `c` at the front of the LRU list as of now: uses from here on tick past it.
    static void stamp(Shard& shard, Cluster& c) {
        c.lru_tick = shard.clock.load(std::memory_order_relaxed);
        shard.clock.store(c.lru_tick + 1, std::memory_order_relaxed);
    }

    void remove_cluster(Shard& shard, Cluster* c) {
        Node* leaf = c->leaf;
        auto& v = leaf->clusters;
        v.erase(std::remove(v.begin(), v.end(), c), v.end());
        publish(*leaf);
        shard.lru.erase(c->lru);
        ++shard.evictions;
        // Prune nodes left empty so the tree stays as small as its templates.
        Node* node = leaf;
        while (node && node->clusters.empty() && node->children.empty()) {
            shard.pruned.store(shard.pruned.load(std::memory_order_relaxed) + 1, std::memory_order_release);
            Node* parent = node->parent;
            if (parent) {
                parent->children.erase(node->key);
            } else {
                shard.roots.erase(node->root_key);
            }
            node = parent;
        }
        auto it = shard.by_id.find(c->tpl->id);
        if (it != shard.by_id.end()) {
            shard.by_id.erase(it);  // destroys c
        }
    }

    /// Makes room under the caps and adds a template of `tokens` to `leaf`; the caller
    /// publishes the leaf.
    Cluster* add_cluster(Shard& shard, Node* leaf, std::uint32_t format, std::string_view format_name_view,
                         std::vector<std::string> tokens, const MinerOptions& o) {
        if (leaf->clusters.size() >= o.max_children) {
            auto victim = std::min_element(leaf->clusters.begin(), leaf->clusters.end(),
                                           [](const Cluster* a, const Cluster* b) {
                                               const Tally& x = *a->tpl->tally;
                                               const Tally& y = *b->tpl->tally;
                                               return x.last_seen_ms() != y.last_seen_ms()
                                                          ? x.last_seen_ms() < y.last_seen_ms()
                                                          : x.count() < y.count();
                                           });
            remove_cluster(shard, *victim);
        }
        // Least recently used, approximately (second chance): lines that a template takes
        // without the lock cannot move it in the list, so they note the shard's clock in its
        // tally instead, and a template used since it was put at the front goes back there
        // rather than being evicted.
        while (!shard.lru.empty() && shard.by_id.size() >= shard_cap) {
            Cluster* victim = shard.lru.back();
            // Never prune the leaf we are about to insert into.
            const bool guarded = victim->leaf == leaf && leaf->clusters.size() == 1;
            if (guarded || victim->tpl->tally->tick() > victim->lru_tick) {
                shard.lru.splice(shard.lru.begin(), shard.lru, victim->lru);
                stamp(shard, *victim);
                if (guarded && shard.lru.size() == 1) {
                    break;
                }
                continue;
            }
            remove_cluster(shard, victim);
        }
        auto c = std::make_unique<Cluster>();
        c->format = format;
        auto t = make_template(std::move(tokens), std::make_shared<Tally>(slots, 0, 0));
        std::uint64_t salt = 0;
        do {
            t->id = hex_id(fnv1a(format_name_view, t->text, salt++));
        } while (shard.by_id.contains(t->id));
        c->tpl = std::move(t);
        c->leaf = leaf;
        shard.lru.push_front(c.get());
        c->lru = shard.lru.begin();
        stamp(shard, *c);
        leaf->clusters.push_back(c.get());
        Cluster* raw = c.get();
        shard.by_id.emplace(raw->tpl->id, std::move(c));
        return raw;
    }
};

TemplateMiner::TemplateMiner(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TemplateMiner::~TemplateMiner() = default;

core::Result<std::unique_ptr<TemplateMiner>> TemplateMiner::create(MinerOptions defaults, MinerLimits limits) {
    if (limits.max_templates == 0 || limits.shards == 0 || limits.shards > 1024 || limits.max_tokens < 2 ||
        limits.max_content_bytes == 0) {
        return core::make_error(core::Errc::InvalidArgument,
                                "miner limits: max_templates, shards (<= 1024), max_tokens (>= 2) and "
                                "max_content_bytes must be positive");
    }
    auto impl = std::make_unique<Impl>();
    impl->defaults = std::move(defaults);
    impl->limits = limits;
    impl->shard_cap = std::max<std::size_t>(1, limits.max_templates / limits.shards);
    impl->formats_changed();  // never 0, the version of no thread's cache
    if (auto probe = impl->make_state("default", impl->defaults); !probe) {
        return probe.error();
    }
    for (std::size_t i = 0; i < limits.shards; ++i) {
        impl->shards.push_back(std::make_unique<Shard>());
    }
    impl->slots = std::bit_floor(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8));
    impl->messages = std::make_unique<Counter[]>(impl->slots);
    return std::unique_ptr<TemplateMiner>(new TemplateMiner(std::move(impl)));
}

core::Result<void> TemplateMiner::add_format(const std::string& format, const MinerOptions& options) {
    auto state = impl_->make_state(format, options);
    if (!state) {
        return state.error();
    }
    std::unique_lock lock(impl_->formats_mu);
    if (auto it = impl_->format_index.find(format); it != impl_->format_index.end()) {
        impl_->formats[it->second] = std::move(*state);
    } else {
        impl_->format_index.emplace(format, static_cast<std::uint32_t>(impl_->formats.size()));
        impl_->formats.push_back(std::move(*state));
    }
    impl_->formats_changed();
    return {};
}

std::uint32_t TemplateMiner::format_id(std::string_view format) { return impl_->format(format).first; }

TemplateMatch TemplateMiner::parse(std::string_view format, std::string_view content, std::int64_t now_ms) {
    TemplateMatch out;
    parse(format_id(format), content, now_ms, out);
    return out;
}

void TemplateMiner::parse(std::uint32_t format_id, std::string_view content, std::int64_t now_ms,
                          TemplateMatch& out) {
    auto& impl = *impl_;
    const std::uint32_t fmt = format_id;
    // Formats are only ever added or replaced (never removed); a replaced state stays alive
    // through the thread's cached reference. Taking the shared lock on every line would make
    // the workers write to one cache line.
    struct CachedFormat {
        std::uint64_t version = 0;
        std::uint32_t format = 0;
        std::shared_ptr<const FormatState> state;
    };
    thread_local CachedFormat cached;
    if (cached.version != impl.formats_version.load(std::memory_order_acquire) || cached.format != fmt) {
        std::shared_lock lock(impl.formats_mu);
        SAI_CHECK(fmt < impl.formats.size(), "format id not from format_id()");
        cached = {impl.formats_version.load(std::memory_order_relaxed), fmt, impl.formats[fmt]};
    }
    const FormatState* state = cached.state.get();
    const MinerOptions& o = state->options;
    if (content.size() > impl.limits.max_content_bytes) {
        content = content.substr(0, impl.limits.max_content_bytes);
    }
    thread_local detail::MaskedLine line;
    state->masker.mask(content, line);
    const auto& tokens = line.tokens;
    const std::size_t n = tokens.size();
    Shard& shard = impl.shard_for(fmt, n);
    thread_local RouteCache routes;
    routes.use(cached.version);
    routes.set_key(fmt, tokens, std::min(n, o.depth - 2));
    out.is_new = false;
    const Template* t = Impl::match_known(shard, routes, tokens, o);
    std::shared_ptr<const Template> held;  // keeps a template found under the lock alive after it
    if (t == nullptr) {
        held = impl.match_locked(shard, routes, fmt, *state, tokens, now_ms, out.is_new);
        t = held.get();
    }
    // The line that creates a template is not a later use of it (see add_cluster).
    impl.count_hit(*t, now_ms, out.is_new ? 0 : shard.clock.load(std::memory_order_relaxed));
    write_match(*t, line, out);
}

std::vector<TemplateRecord> TemplateMiner::snapshot() const {
    std::vector<std::pair<std::uint32_t, TemplateRecord>> rows;
    for (const auto& shard : impl_->shards) {
        std::lock_guard lock(shard->mu);
        for (const auto& [id, c] : shard->by_id) {
            const Template& t = *c->tpl;
            rows.push_back(
                {c->format, {t.id, {}, t.text, t.tally->count(), c->first_seen_ms, t.tally->last_seen_ms()}});
        }
    }
    std::vector<TemplateRecord> out;
    out.reserve(rows.size());
    for (auto& [fmt, r] : rows) {
        r.format = impl_->format_name(fmt);
        out.push_back(std::move(r));
    }
    std::sort(out.begin(), out.end(), [](const TemplateRecord& a, const TemplateRecord& b) {
        return a.format != b.format ? a.format < b.format : a.id < b.id;
    });
    return out;
}

core::Result<TemplateRecord> TemplateMiner::find(std::string_view id) const {
    for (const auto& shard : impl_->shards) {
        std::lock_guard lock(shard->mu);
        if (auto it = shard->by_id.find(id); it != shard->by_id.end()) {
            const Cluster& c = *it->second;
            const Template& t = *c.tpl;
            TemplateRecord r{t.id, {}, t.text, t.tally->count(), c.first_seen_ms, t.tally->last_seen_ms()};
            r.format = impl_->format_name(c.format);
            return r;
        }
    }
    return core::make_error(core::Errc::NotFound, "no template '" + std::string(id) + "'");
}

core::Result<std::size_t> TemplateMiner::restore(const std::vector<TemplateRecord>& records) {
    std::size_t loaded = 0;
    std::size_t bad = 0;
    for (const auto& r : records) {
        if (r.id.empty() || r.id.size() > 256 || r.format.empty()) {
            ++bad;
            continue;
        }
        const auto [fmt, state] = impl_->format(r.format);
        std::vector<std::string> tokens;
        std::vector<std::string_view> views;
        std::string_view text = r.template_text;
        std::size_t i = 0;
        while (i < text.size() && tokens.size() < impl_->limits.max_tokens) {
            while (i < text.size() && text[i] == ' ') {
                ++i;
            }
            const std::size_t b = i;
            while (i < text.size() && text[i] != ' ') {
                ++i;
            }
            if (i > b) {
                tokens.emplace_back(text.substr(b, i - b));
            }
        }
        for (const auto& t : tokens) {
            views.emplace_back(t);
        }
        const std::size_t n = tokens.size();
        Shard& shard = impl_->shard_for(fmt, n);
        std::lock_guard lock(shard.mu);
        Cluster* c = nullptr;
        if (auto it = shard.by_id.find(r.id); it != shard.by_id.end()) {
            c = it->second.get();
            // The cluster sits in the leaf of its format and token count: a record of the
            // same id with another shape would put a template there that lines of that
            // leaf index past the end of.
            if (c->format != fmt || c->tpl->tokens.size() != n) {
                ++bad;
                continue;
            }
        } else {
            Node* leaf = Impl::descend(shard, root_key(fmt, n), views, state->options);
            c = impl_->add_cluster(shard, leaf, fmt, state->name, tokens, state->options);
            // add_cluster derived an id from the text; the persisted one wins.
            auto node = shard.by_id.extract(c->tpl->id);
            node.key() = r.id;
            shard.by_id.insert(std::move(node));
        }
        auto tally = std::make_shared<Tally>(impl_->slots, r.count, r.last_seen_ms);
        auto t = make_template(std::move(tokens), std::move(tally));
        t->id = r.id;
        c->tpl = std::move(t);
        c->first_seen_ms = r.first_seen_ms;
        Impl::publish(*c->leaf);
        ++loaded;
    }
    if (bad > 0) {
        return core::make_error(core::Errc::InvalidArgument,
                                std::to_string(bad) +
                                    " template record(s) without id or format, or of an id already restored "
                                    "with another format or token count, were skipped");
    }
    return loaded;
}

MinerStats TemplateMiner::stats() const {
    MinerStats s;
    for (std::size_t i = 0; i < impl_->slots; ++i) {
        s.messages += impl_->messages[i].value.load(std::memory_order_relaxed);
    }
    for (const auto& shard : impl_->shards) {
        std::lock_guard lock(shard->mu);
        s.templates += shard->by_id.size();
        s.evictions += shard->evictions;
    }
    return s;
}

}  // namespace sai::parser
