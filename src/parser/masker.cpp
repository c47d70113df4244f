#include "masker.hpp"

#include "text.hpp"

#include <algorithm>
#include <cstring>
#include <array>
#include <utility>

namespace sai::parser::detail {
namespace {

constexpr std::string_view kWild = "<*>";

struct NamedMask {
    std::string_view name;
    std::string_view regex;
};

constexpr std::array<NamedMask, 11> kNamedMasks{{
    {"@ipv4", R"((?:\d{1,3}\.){3}\d{1,3})"},
    {"@ipv4_port", R"(/?(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?)"},
    {"@ipv6", R"((?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4})"},
    {"@uuid", R"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"},
    {"@hex", R"(\b0[xX][0-9a-fA-F]+\b)"},
    {"@domain", R"(\b(?:[A-Za-z0-9][A-Za-z0-9-]*\.){2,}[A-Za-z][A-Za-z0-9-]*\b)"},
    {"@domain_port", R"(\b(?:[A-Za-z0-9][A-Za-z0-9_-]*\.)+[A-Za-z0-9_-]+(?::\d+)?)"},
    {"@path", R"((?:/[A-Za-z0-9._~+-]+){2,}/?)"},
    {"@mac", R"(\b[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}\b)"},
    {"@email", R"(\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b)"},
    {"@url", R"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+)"},
}};


constexpr std::uint8_t kDelimiterClass = 1;
constexpr std::uint8_t kDigitClass = 2;
constexpr std::uint8_t kLetterClass = 4;
constexpr std::uint8_t kSpaceClass = 8;  // as is_space()

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    for (unsigned char c : std::string_view("=:,;()[]{}<>@#|/\"'")) {
        t[c] = kDelimiterClass;
    }
    for (unsigned char c : std::string_view(" \t\r\n\f\v")) {
        t[c] = kSpaceClass;
    }
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = kDigitClass;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = kLetterClass;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = kLetterClass;
    return t;
}
constexpr auto kClass = make_classes();
// `colon` false: the token has no ':' (the masker saw every delimiter of it).
bool looks_like_path(std::string_view token, bool colon) {
    if (token.size() < 3) {
        return false;
    }
    if (token.front() == '/') {
        return std::memchr(token.data() + 1, '/', token.size() - 1) != nullptr;
    }
    if (!colon) {
        return false;
    }
    if (token[1] == ':' && token[2] == '\\' && ((token[0] >= 'A' && token[0] <= 'Z') || (token[0] >= 'a' && token[0] <= 'z'))) {
        return true;
    }
    return token.find("://") != std::string_view::npos;
}

struct Span {
    std::size_t from;
    std::size_t to;
};

void add_span(void* ctx, std::size_t from, std::size_t to);

bool collect_span(void* ctx, unsigned, std::size_t from, std::size_t to) {
    add_span(ctx, from, to);
    return true;
}

void add_span(void* ctx, std::size_t from, std::size_t to) {
    auto* spans = static_cast<std::vector<Span>*>(ctx);
    // A repeated tail ("\d+") reports every end from the same start: keep the longest.
    if (!spans->empty() && spans->back().from == from) {
        spans->back().to = std::max(spans->back().to, to);
        return;
    }
    if (spans->size() < 100'000) {
        spans->push_back({from, to});
    }
}

// Length of a run of digits ending `piece` after '.', '_' or '-' ("core.42", "name_7",
// "error......0"), or 0. A word ending in a digit ("ssh2", "eth0") keeps it.
std::size_t trailing_number(std::string_view piece) {
    std::size_t k = piece.size();
    while (k > 0 && is_digit(piece[k - 1])) {
        --k;
    }
    if (k == piece.size() || k == 0) {
        return 0;
    }
    auto separator = [](char c) { return c == '.' || c == '_' || c == '-'; };
    if (!separator(piece[k - 1])) {
        return 0;
    }
    if (piece[k - 1] == '-' && k >= 2 && separator(piece[k - 2])) {
        --k;  // a sign: "blk_-42" is "blk_" and "-42"
    }
    return piece.size() - k;
}

// Month and weekday names: parts of timestamps inside messages ("at Sun Jul 10 ...").
constexpr std::array<std::string_view, 38> kDateWords{
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    "January", "February", "March", "April", "June", "July", "August", "September", "October",
    "November", "December", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "Sept"};

// Per capital letter, a bit per length of the date words starting with it, so that most
// capitalised words ("Created", "Address") are rejected without a comparison.
constexpr auto kDateWordShapes = [] {
    std::array<std::uint16_t, 26> shapes{};
    for (const auto w : kDateWords) {
        shapes[static_cast<std::size_t>(w[0] - 'A')] |= static_cast<std::uint16_t>(1u << w.size());
    }
    return shapes;
}();

bool is_date_word(std::string_view token) {
    if (token.size() < 3 || token.size() > 9 || token[0] < 'A' || token[0] > 'Z' ||
        !((kDateWordShapes[static_cast<std::size_t>(token[0] - 'A')] >> token.size()) & 1u)) {
        return false;
    }
    for (char c : token.substr(1)) {
        if (c < 'a' || c > 'z') {
            return false;
        }
    }
    for (const auto& w : kDateWords) {
        if (w.size() == token.size() && w[0] == token[0] && w == token) {
            return true;
        }
    }
    return false;
}

template <class InRun>
std::size_t run_end(std::string_view t, std::size_t k, InRun in_run) {
    while (k < t.size() && in_run(t[k])) ++k;
    return k;
}

// Calls on_chain(from, to, dots) for each maximal text of runs of `in_run` characters joined
// by single dots with at least one dot ("10.0.0.1", "proxy.cse.cuhk.edu.hk"): the runs are
// in_run's maximal runs, so a match of `(R+\.)+R+` ends in a chain's second or later run and
// its leftmost start is where the chain starts.
template <class InRun, class OnChain>
void dotted_chains(std::string_view t, InRun in_run, OnChain on_chain) {
    const std::size_t n = t.size();
    std::size_t i = 0;
    while (i < n) {
        const void* dot = std::memchr(t.data() + i, '.', n - i);
        if (dot == nullptr) return;
        const auto d = static_cast<std::size_t>(static_cast<const char*>(dot) - t.data());
        if (d == 0 || !in_run(t[d - 1]) || d + 1 >= n || !in_run(t[d + 1])) {
            i = d + 1;
            continue;
        }
        // A dot before this run was not joining one (else the chain would have started there).
        std::size_t from = d;
        while (from > 0 && in_run(t[from - 1])) --from;
        std::size_t to = d;
        std::size_t dots = 0;
        while (to + 1 < n && t[to] == '.' && in_run(t[to + 1])) {
            ++dots;
            to = run_end(t, to + 1, in_run);
        }
        on_chain(from, to, dots);
        i = to;
    }
}

// [\w-]
constexpr auto kNameChars = [] {
    std::array<bool, 256> t{};
    for (unsigned char c : std::string_view("_-")) t[c] = true;
    for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = true;
    for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = true;
    return t;
}();
bool is_name_char(char c) { return kNameChars[static_cast<unsigned char>(c)]; }

// The end of the digits from k on, at most `most` of them.
std::size_t digits_end(std::string_view t, std::size_t k, std::size_t most) {
    const std::size_t last = t.size() - k > most ? k + most : t.size();
    while (k < last && is_digit(t[k])) ++k;
    return k;
}

// `/?(\d{1,m}\.){3}\d{1,m}(:\d{1,p})?`, slash, port and the bounds m and p each optional: an end
// lies in run i+3 of a chain of digit runs (or in the port after it), so its leftmost start is
// in run i, at most m digits before its dot (or the '/' right before it). The two middle runs
// are whole groups, so at most m digits long; a port follows only a whole last run (else a
// digit follows the end).
void dotted_number_spans(std::string_view t, const HandMask& m,
                         void (*on_span)(void*, std::size_t, std::size_t), void* context) {
    dotted_chains(t, is_digit, [&](std::size_t from, std::size_t to, std::size_t dots) {
        if (dots < 3) return;
        std::array<std::size_t, 4> b{};  // the four runs of the window: [b[r], e[r])
        std::array<std::size_t, 4> e{};
        for (std::size_t r = 0, k = from; r < 4; ++r, k = e[r - 1] + 1) {
            b[r] = k;
            e[r] = run_end(t, k, is_digit);
        }
        while (true) {
            if (e[1] - b[1] <= m.max_digits && e[2] - b[2] <= m.max_digits) {
                std::size_t start = e[0] - b[0] > m.max_digits ? e[0] - m.max_digits : b[0];
                if (m.slash && start == b[0] && start > 0 && t[start - 1] == '/') --start;
                std::size_t end = e[3] - b[3] > m.max_digits ? b[3] + m.max_digits : e[3];
                if (m.port_digits > 0 && end + 1 < t.size() && t[end] == ':' && is_digit(t[end + 1])) {
                    end = digits_end(t, end + 1, m.port_digits);
                }
                on_span(context, start, end);
            }
            if (e[3] == to) return;
            std::copy(b.begin() + 1, b.end(), b.begin());
            std::copy(e.begin() + 1, e.end(), e.begin());
            b[3] = e[2] + 1;
            e[3] = run_end(t, b[3], is_digit);
        }
    });
}

// `([\w-]+\.){min_dots,}[\w-]+(:\d+)?` (port optional): one span per chain with enough dots,
// to the end of its port when the last run is followed by ':' and a digit.
void dotted_name_spans(std::string_view t, const HandMask& m,
                       void (*on_span)(void*, std::size_t, std::size_t), void* context) {
    dotted_chains(t, is_name_char, [&](std::size_t from, std::size_t to, std::size_t dots) {
        if (dots < m.min_dots) return;
        if (m.port_digits > 0 && to + 1 < t.size() && t[to] == ':' && is_digit(t[to + 1])) {
            to = digits_end(t, to + 1, m.port_digits);
        }
        on_span(context, from, to);
    });
}

// `prefix-?\d+` (sign optional): the prefix has no digit or '-', so each match's start is
// the prefix right before its number.
void prefixed_number_spans(std::string_view t, const HandMask& m,
                           void (*on_span)(void*, std::size_t, std::size_t), void* context) {
    for (auto at = t.find(m.prefix); at != std::string_view::npos; at = t.find(m.prefix, at + 1)) {
        std::size_t k = at + m.prefix.size();
        if (m.sign && k < t.size() && t[k] == '-') ++k;
        if (k < t.size() && is_digit(t[k])) {
            on_span(context, at, run_end(t, k, is_digit));
        }
    }
}

}  // namespace

std::optional<HandMask> HandMask::recognise(std::string_view mask) {
    using enum Shape;
    if (mask == "@ipv4") return HandMask{.shape = DottedNumbers, .max_digits = 3};
    if (mask == "@ipv4_port") {
        return HandMask{.shape = DottedNumbers, .slash = true, .max_digits = 3, .port_digits = 5};
    }
    // Without captures, "(?:" and "(" mean the same; outside the spellings below (whose
    // classes hold no '(') the rewritten text matches nothing, so nothing else is rewritten.
    std::string m(mask);
    for (auto at = m.find("(?:"); at != std::string::npos; at = m.find("(?:", at + 1)) m.erase(at + 1, 2);
    if (m == R"((\d+\.){3}\d+)" || m == R"(/?(\d+\.){3}\d+)") {
        return HandMask{.shape = DottedNumbers, .slash = m.front() == '/'};
    }
    for (const bool port : {false, true}) {
        const std::string tail = port ? R"([\w-]+(:\d+)?)" : R"([\w-]+)";
        const std::size_t port_digits = port ? kAny : 0;
        if (m == R"(([\w-]+\.)+)" + tail) return HandMask{.shape = DottedNames, .port_digits = port_digits};
        if (m == R"(([\w-]+\.){2,})" + tail) {
            return HandMask{.shape = DottedNames, .port_digits = port_digits, .min_dots = 2};
        }
    }
    for (const std::string_view number : {R"(-?\d+)", R"(\d+)"}) {
        if (m.size() > number.size() && m.ends_with(number)) {
            const std::string_view prefix = std::string_view(m).substr(0, m.size() - number.size());
            if (std::all_of(prefix.begin(), prefix.end(), [](char c) { return is_alpha(c) || c == '_'; })) {
                return HandMask{
                    .shape = PrefixedNumber, .sign = number.front() == '-', .prefix = std::string(prefix)};
            }
        }
    }
    return std::nullopt;
}

void HandMask::spans(std::string_view text, void (*on_span)(void*, std::size_t, std::size_t),
                     void* context) const {
    switch (shape) {
        case Shape::DottedNumbers: return dotted_number_spans(text, *this, on_span, context);
        case Shape::DottedNames: return dotted_name_spans(text, *this, on_span, context);
        case Shape::PrefixedNumber: return prefixed_number_spans(text, *this, on_span, context);
    }
}

std::string_view Masker::builtin_mask(std::string_view name) {
    for (const auto& m : kNamedMasks) {
        if (m.name == name) {
            return m.regex;
        }
    }
    return {};
}

core::Result<Masker> Masker::create(const std::vector<std::string>& masks, bool generic, std::size_t max_tokens) {
    std::vector<HsPattern> patterns;
    unsigned id = 0;
    Masker masker;
    for (const auto& m : masks) {
        if (auto hand = HandMask::recognise(m)) {
            masker.hand_.push_back(std::move(*hand));
            continue;
        }
        std::string regex = m;
        if (!m.empty() && m.front() == '@') {
            const auto builtin = builtin_mask(m);
            if (builtin.empty()) {
                return core::make_error(core::Errc::InvalidArgument, "unknown built-in mask '" + m + "'");
            }
            regex = std::string(builtin);
        }
        if (regex.empty()) {
            return core::make_error(core::Errc::InvalidArgument, "empty mask");
        }
        patterns.push_back({std::move(regex), id++, false});
    }
    auto db = HsDatabase::compile(patterns);
    if (!db) {
        return db.error();
    }
    masker.db_ = std::move(*db);
    masker.generic_ = generic;
    masker.max_tokens_ = std::max<std::size_t>(max_tokens, 2);
    return masker;
}

void Masker::mask(std::string_view content, MaskedLine& out) const {
    out.text.clear();
    out.tokens.clear();
    out.raw_tokens.clear();
    out.masked.clear();
    out.first_masked.clear();

    // Configured masks: leftmost-longest, non-overlapping.
    thread_local std::vector<Span> spans;
    spans.clear();
    db_->scan(content, collect_span, &spans);
    for (const auto& hand : hand_) hand.spans(content, add_span, &spans);
    if (!spans.empty()) {
        std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
            return a.from != b.from ? a.from < b.from : a.to > b.to;
        });
        std::size_t kept = 0;
        std::size_t end = 0;
        for (const auto& s : spans) {
            if (s.to > s.from && (kept == 0 || s.from >= end)) {
                spans[kept++] = s;
                end = s.to;
            }
        }
        spans.resize(kept);
    }

    // Local copies: the compiler cannot keep a thread_local vector's fields in registers
    // across the stores into `out`.
    const Span* const sp = spans.data();
    const std::size_t nspans = spans.size();
    thread_local std::vector<std::pair<std::uint32_t, std::uint32_t>> offsets;  // token offsets in out.text
    offsets.clear();
    std::size_t next_span = 0;
    std::size_t i = 0;
    const std::size_t n = content.size();

    // Text that stays as it is (words, delimiters, a single space between tokens) is copied
    // in one piece up to the next variable or other whitespace, not token by token: content
    // from `copied` on is still to be appended, so out.text's size is `text_size()`.
    std::size_t copied = 0;
    std::size_t last_end = 0;  // of the last token
    auto text_size = [&](std::size_t at) { return out.text.size() + (at - copied); };
    auto flush = [&](std::size_t upto) {
        out.text.append(content.substr(copied, upto - copied));
        copied = upto;
    };
    auto wild = [&](std::size_t from, std::size_t to) {
        flush(from);
        out.text.append(kWild);
        out.masked.push_back(content.substr(from, to - from));
        copied = to;
    };
    // Masks the token starting at b, up to a space outside a configured-mask span: the spans
    // are replaced, and generic masking is applied to each delimiter-separated piece when
    // `generic_` is set; returns where the token ends. The token's bounds and the digit
    // statistics of its pieces are found in the same pass, so each byte is looked at once.
    // `colon` tells whether the token may hold a ':' (one outside spans was seen, or a span).
    auto emit_token = [&](std::size_t b, bool& colon) {
        std::size_t piece = b;
        std::size_t runs = 0;
        std::size_t max_run = 0;
        bool letter = false;
        // Only a piece with digits can be a variable; others stay as they are.
        auto flush_piece = [&](std::size_t upto) {
            if (generic_ && upto > piece) {
                const auto text = content.substr(piece, upto - piece);
                const std::size_t tail = runs == 1 && letter ? trailing_number(text) : 0;
                if (tail > 0) {
                    // "core.42", "blk_-42": a word with a number attached keeps the word.
                    wild(upto - tail, upto);
                } else if (runs >= 2 || max_run >= 3 || is_digit(text[0]) ||
                           ((text[0] == '-' || text[0] == '+') && text.size() > 1 && is_digit(text[1]))) {
                    wild(piece, upto);
                }
            }
            runs = max_run = 0;
        };
        auto end_piece = [&](std::size_t upto) {
            if (runs > 0) {
                flush_piece(upto);
            }
            letter = false;
        };
        std::size_t k = b;
        while (k < n) {
            const std::size_t stop = next_span < nspans ? sp[next_span].from : n;
            if (stop == k) {
                end_piece(k);
                wild(k, sp[next_span].to);
                colon = true;
                k = sp[next_span].to;
                piece = k;
                ++next_span;
                continue;
            }
            // A run of letters or digits is passed in one step; a run of digits is never
            // continued by the next step (a letter, delimiter, other byte or span follows it).
            const auto cls = kClass[static_cast<unsigned char>(content[k])];
            if (cls & kLetterClass) {
                letter = true;
                k = letters_end(content, k + 1, stop);
            } else if (cls & kDigitClass) {
                std::size_t e = k + 1;
                while (e < stop && is_digit(content[e])) ++e;
                ++runs;
                max_run = std::max(max_run, e - k);
                k = e;
            } else if (cls & kSpaceClass) {
                break;
            } else {
                if (cls & kDelimiterClass) {
                    end_piece(k);
                    colon = colon || content[k] == ':';
                    piece = k + 1;
                }
                ++k;
            }
        }
        end_piece(k);
        return k;
    };

    while (i < n) {
        const std::size_t previous_end = i;
        while (i < n && (kClass[static_cast<unsigned char>(content[i])] & kSpaceClass) &&
               !(next_span < nspans && sp[next_span].from == i)) {
            ++i;
        }
        if (i >= n) {
            break;
        }
        const std::size_t b = i;
        if (offsets.empty()) {
            copied = b;
        } else if (b != previous_end + 1 || content[previous_end] != ' ') {
            flush(previous_end);
            out.text.push_back(' ');
            copied = b;
        }
        const auto start = static_cast<std::uint32_t>(text_size(b));
        const auto masked_before = out.masked.size();
        out.first_masked.push_back(static_cast<std::uint32_t>(masked_before));
        const bool overlong = offsets.size() + 1 >= max_tokens_;
        bool colon = false;
        // The rest of an overlong message is one variable token.
        i = overlong ? n : emit_token(b, colon);
        std::size_t e = i;
        while (e > b && is_space(content[e - 1])) {
            --e;  // a configured span that ended with spaces
        }
        const auto raw = content.substr(b, e - b);
        out.raw_tokens.push_back(raw);
        if (overlong || (generic_ && (looks_like_path(raw, colon) || is_date_word(raw)))) {
            // A whole token that is a path or date word is one variable: what emit_token
            // wrote for its pieces is replaced.
            flush(i);
            out.text.resize(start);
            out.masked.resize(masked_before);
            out.text.append(kWild);
            out.masked.push_back(raw);
        }
        offsets.emplace_back(start, static_cast<std::uint32_t>(text_size(i)));
        last_end = i;
        while (next_span < nspans && sp[next_span].to <= i) {
            ++next_span;
        }
    }
    if (!offsets.empty()) {
        flush(last_end);
    }
    out.first_masked.push_back(static_cast<std::uint32_t>(out.masked.size()));
    for (const auto& [from, to] : offsets) {
        out.tokens.emplace_back(out.text.data() + from, to - from);
    }
}

}  // namespace sai::parser::detail
