#pragma once
// Private: the engine's reader of `model::Event::extra`.
//
// `extra` is a JSON object of dotted paths to scalars or arrays of scalars (the ingest
// mapping writes it with boost::json::serialize). The engine needs its top-level members'
// scalar values as text, once per event: boost::json's SAX parser spent about 12% of a
// Windows event's instructions on it (UTF-8 validation, callbacks, copies of every
// escaped string into the handler's buffer), this reader two thirds of that. Plain
// string runs are skipped sixteen bytes at a time, a string without escapes is handed over
// as a span of the text, an escaped one is decoded once into an arena that keeps it for the
// engine's chunk of events (so the engine stores neither kind again).
//
// What it yields, for each top-level member in order: `key(name)` (unescaped), then
// `value(text, is_string)` for a scalar value, or for each scalar element of an array
// value: a string unescaped (is_string), a number as written, true/false as "true" /
// "false"; null yields nothing, nor do objects and arrays below the top level (skipped).
// Malformed text: reading stops where the JSON cannot go on, after the values before it;
// string bytes are passed on as they are (not checked as UTF-8) and skipped nested values
// are not checked, at any depth: a valid `extra`, as the ingest mapping writes it, reads
// the same as with a validating parser.

#include <emmintrin.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace sai::detection {

/// Text kept for a chunk of events: their decoded `extra` strings and the engine's copies of
/// values that do not live in an event (numbers printed by model::visit_fields). A span
/// handed out stays valid until clear(): blocks are only ever added, never moved or grown,
/// and clear() reuses them. Per thread; no copy of a value that lives in its event.
class TextArena {
public:
    /// At least `n` writable bytes at the top; keep() then takes what was written there.
    char* reserve(std::size_t n) {
        if (static_cast<std::size_t>(limit_ - top_) < n) next_block(n);
        return top_;
    }
    /// Takes the `n` bytes written at the top since reserve().
    void keep(std::size_t n) { top_ += n; }

    std::string_view copy(std::string_view text) {
        char* to = reserve(text.size());
        std::copy(text.begin(), text.end(), to);
        keep(text.size());
        return {to, text.size()};
    }

    /// Forgets every text; keeps the blocks unless they grew past kKeptBytes (huge events).
    void clear() {
        if (bytes_ > kKeptBytes) {
            blocks_.resize(1);
            bytes_ = blocks_.front().size;
        }
        current_ = 0;
        top_ = blocks_.empty() ? nullptr : blocks_.front().data.get();
        limit_ = blocks_.empty() ? nullptr : top_ + blocks_.front().size;
    }

private:
    static constexpr std::size_t kBlockBytes = 128 * 1024;
    static constexpr std::size_t kKeptBytes = 4 * 1024 * 1024;
    struct Block {
        std::unique_ptr<char[]> data;
        std::size_t size = 0;
    };
    std::vector<Block> blocks_;
    std::size_t current_ = 0, bytes_ = 0;  // the block in use; all blocks' bytes
    char* top_ = nullptr;
    char* limit_ = nullptr;

    /// Moves to the next block, a new one when there is none of at least `n` bytes.
    void next_block(std::size_t n) {
        const std::size_t next = blocks_.empty() ? 0 : current_ + 1;
        if (next == blocks_.size() || blocks_[next].size < n) {
            const std::size_t size = std::max(n, kBlockBytes);
            blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(next),
                           Block{std::make_unique_for_overwrite<char[]>(size), size});
            bytes_ += size;
        }
        current_ = next;
        top_ = blocks_[next].data.get();
        limit_ = top_ + blocks_[next].size;
    }
};

namespace extra_json {

/// The first '"', '\' or control character (below 0x20) in [p, end), or end: where a
/// string's plain run stops. Sixteen bytes at a time (SSE2, which every x86-64 has, as
/// the Hyperscan this library needs).
inline const char* find_special(const char* p, const char* end) {
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), control = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)),
                                         _mm_cmpeq_epi8(_mm_max_epu8(x, control), control));
        if (const int mask = _mm_movemask_epi8(hit); mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
    while (p != end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    return p;
}

class Reader {
public:
    /// Decoded keys and strings go to `texts` and stay there until its clear(); the other
    /// spans handed out point into `json`.
    Reader(std::string_view json, TextArena& texts)
        : p_(json.data()), end_(json.data() + json.size()), texts_(texts) {}

    template <class Handler>
    void run(Handler& handler) {
        if (!consume('{')) return;
        if (consume('}')) return;
        do {
            std::string_view key;
            if (!consume('"') || !string(key) || !consume(':')) return;
            handler.key(key);
            skip_space();
            if (p_ == end_) return;
            if (*p_ == '[') {
                ++p_;
                if (consume(']')) continue;
                do {
                    if (!element(handler)) return;
                } while (consume(','));
                if (!consume(']')) return;
            } else if (!element(handler)) {
                return;
            }
        } while (consume(','));
    }

private:
    const char* p_;
    const char* end_;
    TextArena& texts_;

    void skip_space() {
        while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
    }

    bool consume(char c) {
        skip_space();
        if (p_ == end_ || *p_ != c) return false;
        ++p_;
        return true;
    }

    /// A value that is a member's or a top-level array's element: scalars go to the
    /// handler, objects and arrays are skipped.
    template <class Handler>
    bool element(Handler& handler) {
        skip_space();
        if (p_ == end_) return false;
        switch (*p_) {
            case '"': {
                ++p_;
                std::string_view text;
                if (!string(text)) return false;
                handler.value(text, true);
                return true;
            }
            case 't':
            case 'f': {
                const std::string_view word = *p_ == 't' ? "true" : "false";
                if (!literal(word)) return false;
                handler.value(word, false);
                return true;
            }
            case 'n':
                return literal("null");
            case '{':
            case '[':
                return skip_nested();
            default: {
                // The number as written; its grammar is not checked beyond its first byte.
                auto number_byte = [](char c) {
                    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
                };
                const char* start = p_;
                while (p_ != end_ && number_byte(*p_)) ++p_;
                if (p_ == start || (*start != '-' && (*start < '0' || *start > '9'))) return false;
                handler.value(std::string_view(start, static_cast<std::size_t>(p_ - start)), false);
                return true;
            }
        }
    }

    bool literal(std::string_view word) {
        if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
        p_ += word.size();
        return true;
    }

    /// The string whose opening quote was just read: a span of the text when it has no
    /// escape, else decoded into the arena. False when malformed.
    bool string(std::string_view& out) {
        const char* start = p_;
        p_ = find_special(p_, end_);
        if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
        if (*p_ == '"') {
            out = std::string_view(start, static_cast<std::size_t>(p_ - start));
            ++p_;
            return true;
        }
        // Decoded, a string is never longer than written: the rest of the text bounds it.
        char* const first = texts_.reserve(static_cast<std::size_t>(end_ - start));
        char* to = std::copy(start, p_, first);
        while (true) {
            // At a '\': one escape, then the next plain run.
            if (++p_ == end_ || !escape(to)) return false;
            start = p_;
            p_ = find_special(p_, end_);
            to = std::copy(start, p_, to);
            if (p_ == end_ || static_cast<unsigned char>(*p_) < 0x20) return false;
            if (*p_ == '"') {
                ++p_;
                out = std::string_view(first, static_cast<std::size_t>(to - first));
                texts_.keep(out.size());
                return true;
            }
        }
    }

    /// The escape after a '\' (p_ at its letter), written at `to` in UTF-8.
    bool escape(char*& to) {
        switch (*p_++) {
            case '"': *to++ = '"'; return true;
            case '\\': *to++ = '\\'; return true;
            case '/': *to++ = '/'; return true;
            case 'b': *to++ = '\b'; return true;
            case 'f': *to++ = '\f'; return true;
            case 'n': *to++ = '\n'; return true;
            case 'r': *to++ = '\r'; return true;
            case 't': *to++ = '\t'; return true;
            case 'u': return unicode(to);
            default: return false;
        }
    }

    bool hex4(std::uint32_t& out) {
        if (end_ - p_ < 4) return false;
        out = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = *p_++;
            const int digit = c >= '0' && c <= '9'   ? c - '0'
                              : c >= 'a' && c <= 'f' ? c - 'a' + 10
                              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                     : -1;
            if (digit < 0) return false;
            out = out * 16 + static_cast<std::uint32_t>(digit);
        }
        return true;
    }

    /// \uXXXX (p_ past the 'u'), a surrogate pair as one code point; a lone surrogate is
    /// malformed (as boost::json's parser has it).
    bool unicode(char*& to) {
        std::uint32_t cp = 0;
        if (!hex4(cp) || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            if (!hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        auto put = [&](std::uint32_t byte) { *to++ = static_cast<char>(byte); };
        if (cp < 0x80) {
            put(cp);
        } else if (cp < 0x800) {
            put(0xC0 | (cp >> 6));
            put(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            put(0xE0 | (cp >> 12));
            put(0x80 | ((cp >> 6) & 0x3F));
            put(0x80 | (cp & 0x3F));
        } else {
            put(0xF0 | (cp >> 18));
            put(0x80 | ((cp >> 12) & 0x3F));
            put(0x80 | ((cp >> 6) & 0x3F));
            put(0x80 | (cp & 0x3F));
        }
        return true;
    }

    /// Past an object or array (p_ at its bracket), strings included; its content is not checked.
    bool skip_nested() {
        int depth = 0;
        while (p_ != end_) {
            const char c = *p_++;
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (--depth == 0) return true;
            } else if (c == '"') {
                while (true) {
                    p_ = find_special(p_, end_);
                    if (p_ == end_) return false;
                    const char d = *p_++;
                    if (d == '"') break;
                    if (d == '\\' && p_ != end_) ++p_;  // the escaped byte, a quote included
                }
            }
        }
        return false;
    }
};

}  // namespace extra_json
}  // namespace sai::detection
