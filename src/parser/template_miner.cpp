#include "parser/template_miner.hpp"

#include "masker.hpp"
#include "text.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <atomic>
#include <cstring>
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

struct Node;

bool has_wild(std::string_view token) { return token.find(kWild) != std::string_view::npos; }

// What a template's token holds, worked out when the template changes rather than at every
// comparison of a line with it.
enum class TokenKind : std::uint8_t { Word, Wild, Partial };  // Partial: "<*>" inside other text

TokenKind kind_of(std::string_view token) {
    return token == kWild ? TokenKind::Wild : has_wild(token) ? TokenKind::Partial : TokenKind::Word;
}

struct Cluster {
    std::string id;
    std::uint32_t format = 0;
    std::vector<std::string> tokens;
    std::vector<TokenKind> kinds;  // of tokens
    std::string text;
    std::size_t wildcards = 0;
    std::uint64_t count = 0;
    std::int64_t first_seen_ms = 0;
    std::int64_t last_seen_ms = 0;
    Node* leaf = nullptr;
    std::list<Cluster*>::iterator lru;

    void rebuild_text() {
        text.clear();
        wildcards = 0;
        kinds.clear();
        for (const auto& t : tokens) {
            if (!text.empty()) {
                text.push_back(' ');
            }
            text += t;
            kinds.push_back(kind_of(t));
            wildcards += kinds.back() == TokenKind::Wild ? 1 : 0;
        }
    }
};

// The tree's keys are short tokens looked up a few times per line: eight bytes at a time
// with a multiply, inline, instead of std::hash's out-of-line Murmur (the children maps are
// never iterated, so their order does not matter).
struct TokenHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
        constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ull;
        std::uint64_t h = s.size() * kMul;
        std::size_t at = 0;
        for (; at + 8 <= s.size(); at += 8) {
            std::uint64_t word;
            std::memcpy(&word, s.data() + at, 8);
            h = (h ^ word) * kMul;
        }
        std::uint64_t tail = 0;
        std::memcpy(&tail, s.data() + at, s.size() - at);
        h = (h ^ tail) * kMul;
        return static_cast<std::size_t>(h ^ (h >> 29));
    }
};

struct Node {
    Node* parent = nullptr;
    std::string key;  // in the parent's children
    std::uint64_t root_key = 0;
    std::unordered_map<std::string, std::unique_ptr<Node>, TokenHash, std::equal_to<>> children;
    std::vector<Cluster*> clusters;
};

/// A shard's lock. Its critical section (one line's descent, match and output, a few
/// hundred nanoseconds) is far shorter than a futex sleep and wake-up, which is what
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
    std::unordered_map<std::uint64_t, std::unique_ptr<Node>> roots;  // (format << 32 | token count)
    std::unordered_map<std::string, std::unique_ptr<Cluster>, StringHash, std::equal_to<>> by_id;
    std::list<Cluster*> lru;  // most recently used first
    std::uint64_t evictions = 0;
    std::uint64_t messages = 0;  // counted under the lock: no shared counter between workers
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
inline bool same_token(std::string_view a, std::string_view b) {
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
    void add(std::string_view value) {
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
bool tree_wild(std::string_view token) {
    return has_wild(token) || std::any_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
}

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
    std::atomic<std::size_t> templates{0};

    void formats_changed() { formats_version.store(next_formats_version.fetch_add(1), std::memory_order_release); }

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

    static std::uint64_t root_key(std::uint32_t format, std::size_t length) {
        return (static_cast<std::uint64_t>(format) << 32) | static_cast<std::uint32_t>(length);
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
            std::string_view k = tree_wild(tokens[d]) ? kWild : tokens[d];
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

    void remove_cluster(Shard& shard, Cluster* c) {
        Node* leaf = c->leaf;
        auto& v = leaf->clusters;
        v.erase(std::remove(v.begin(), v.end(), c), v.end());
        shard.lru.erase(c->lru);
        ++shard.evictions;
        templates.fetch_sub(1, std::memory_order_relaxed);
        // Prune nodes left empty so the tree stays as small as its templates.
        Node* node = leaf;
        while (node && node->clusters.empty() && node->children.empty()) {
            Node* parent = node->parent;
            if (parent) {
                parent->children.erase(node->key);
            } else {
                shard.roots.erase(node->root_key);
            }
            node = parent;
        }
        auto it = shard.by_id.find(c->id);
        if (it != shard.by_id.end()) {
            shard.by_id.erase(it);  // destroys c
        }
    }

    Cluster* add_cluster(Shard& shard, Node* leaf, std::uint32_t format, std::string_view format_name_view,
                         std::vector<std::string> tokens, const MinerOptions& o) {
        if (leaf->clusters.size() >= o.max_children) {
            auto victim = std::min_element(leaf->clusters.begin(), leaf->clusters.end(),
                                           [](const Cluster* a, const Cluster* b) {
                                               return a->last_seen_ms != b->last_seen_ms
                                                          ? a->last_seen_ms < b->last_seen_ms
                                                          : a->count < b->count;
                                           });
            remove_cluster(shard, *victim);
        }
        while (!shard.lru.empty() && shard.by_id.size() >= shard_cap) {
            Cluster* victim = shard.lru.back();
            if (victim->leaf == leaf && leaf->clusters.size() == 1) {
                // Never prune the leaf we are about to insert into.
                shard.lru.splice(shard.lru.begin(), shard.lru, victim->lru);
                if (shard.lru.size() == 1) {
                    break;
                }
                continue;
            }
            remove_cluster(shard, victim);
        }
        auto c = std::make_unique<Cluster>();
        c->format = format;
        c->tokens = std::move(tokens);
        c->rebuild_text();
        std::uint64_t salt = 0;
        do {
            c->id = hex_id(fnv1a(format_name_view, c->text, salt++));
        } while (shard.by_id.contains(c->id));
        c->leaf = leaf;
        shard.lru.push_front(c.get());
        c->lru = shard.lru.begin();
        leaf->clusters.push_back(c.get());
        Cluster* raw = c.get();
        shard.by_id.emplace(raw->id, std::move(c));
        templates.fetch_add(1, std::memory_order_relaxed);
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
    std::lock_guard lock(shard.mu);
    ++shard.messages;
    Node* leaf = Impl::descend(shard, Impl::root_key(fmt, n), tokens, o);

    Cluster* best = nullptr;
    double best_sim = -1.0;
    std::size_t best_wild = 0;
    for (Cluster* c : leaf->clusters) {
        std::size_t same = 0;
        bool structural_mismatch = false;
        const bool settled = o.settled_after > 0 && c->count >= o.settled_after;
        for (std::size_t i = 0; i < n; ++i) {
            const auto& t = c->tokens[i];
            const TokenKind kind = c->kinds[i];
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
        if (sim > best_sim || (sim == best_sim && c->wildcards > best_wild)) {
            best = c;
            best_sim = sim;
            best_wild = c->wildcards;
        }
    }

    out.is_new = false;
    if (best && best_sim >= o.similarity) {
        bool changed = false;
        for (std::size_t i = 0; i < n; ++i) {
            auto& t = best->tokens[i];
            if (best->kinds[i] == TokenKind::Wild || same_token(t, tokens[i])) {
                continue;
            }
            switch (fits(t, tokens[i])) {
                case Fit::LineFitsTemplate: break;
                case Fit::TemplateFitsLine: t = std::string(tokens[i]); changed = true; break;
                case Fit::None: t = std::string(kWild); changed = true; break;
            }
        }
        if (changed) {
            best->rebuild_text();
        }
        if (best->lru != shard.lru.begin()) {  // no write when it already leads: workers share this
            shard.lru.splice(shard.lru.begin(), shard.lru, best->lru);
        }
    } else {
        std::vector<std::string> copy(tokens.begin(), tokens.end());
        best = impl.add_cluster(shard, leaf, fmt, state->name, std::move(copy), o);
        best->first_seen_ms = now_ms;
        out.is_new = true;
    }
    ++best->count;
    if (now_ms > best->last_seen_ms) {
        best->last_seen_ms = now_ms;
    }
    out.template_id.assign(best->id);
    out.template_text.assign(best->text);
    ParamWriter params(out.params);
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = line.first_masked[i];
        const auto e = line.first_masked[i + 1];
        const bool wild = best->kinds[i] == TokenKind::Wild;
        if (wild && !(e - b == 1 && tokens[i] == kWild)) {
            params.add(line.raw_tokens[i]);
        } else if (wild || same_token(best->tokens[i], tokens[i])) {
            for (auto k = b; k < e; ++k) {
                params.add(line.masked[k]);
            }
        } else if (best->kinds[i] == TokenKind::Partial) {
            // The line fits a partly masked token: its values are what the <*> cover.
            const auto before = params.size();
            if (!glob_match(best->tokens[i], line.raw_tokens[i], &params)) {
                params.truncate(before);
                params.add(line.raw_tokens[i]);
            }
        }
    }
    params.finish();
}

std::vector<TemplateRecord> TemplateMiner::snapshot() const {
    std::vector<std::pair<std::uint32_t, TemplateRecord>> rows;
    for (const auto& shard : impl_->shards) {
        std::lock_guard lock(shard->mu);
        for (const auto& [id, c] : shard->by_id) {
            rows.push_back({c->format, {c->id, {}, c->text, c->count, c->first_seen_ms, c->last_seen_ms}});
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
            const auto& c = *it->second;
            TemplateRecord r{c.id, {}, c.text, c.count, c.first_seen_ms, c.last_seen_ms};
            const auto fmt = c.format;
            r.format = impl_->format_name(fmt);
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
        } else {
            Node* leaf = Impl::descend(shard, Impl::root_key(fmt, n), views, state->options);
            c = impl_->add_cluster(shard, leaf, fmt, state->name, tokens, state->options);
            // add_cluster derived an id from the text; the persisted one wins.
            auto node = shard.by_id.extract(c->id);
            c->id = r.id;
            node.key() = r.id;
            shard.by_id.insert(std::move(node));
        }
        c->tokens = std::move(tokens);
        c->rebuild_text();
        c->count = r.count;
        c->first_seen_ms = r.first_seen_ms;
        c->last_seen_ms = r.last_seen_ms;
        ++loaded;
    }
    if (bad > 0) {
        return core::make_error(core::Errc::InvalidArgument,
                                std::to_string(bad) + " template record(s) without id or format were skipped");
    }
    return loaded;
}

MinerStats TemplateMiner::stats() const {
    MinerStats s;
    for (const auto& shard : impl_->shards) {
        std::lock_guard lock(shard->mu);
        s.messages += shard->messages;
        s.templates += shard->by_id.size();
        s.evictions += shard->evictions;
    }
    return s;
}

}  // namespace sai::parser
