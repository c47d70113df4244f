#include "entity_scanner.hpp"

#include "text.hpp"

#include <arpa/inet.h>
#include <emmintrin.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace sai::parser::detail {
namespace {

enum : std::uint8_t {
    kDigit = 1,
    kHexLetter = 2,
    kLetter = 4,
    kWord = 8,        // [A-Za-z0-9_]: what \b separates
    kEmail = 16,      // [A-Za-z0-9._%+@-]
    kPath = 32,       // [A-Za-z0-9._~@%+/-]
    kUrlStop = 64,    // [\s"'<>]: ends a URL
    kPathLead = 128,  // [\s=:"'(\[,]: may precede a Unix path
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    auto set = [&t](std::string_view chars, std::uint8_t bits) {
        for (unsigned char c : chars) t[c] |= bits;
    };
    std::string_view digits = "0123456789";
    std::string_view letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    set(digits, kDigit | kWord | kEmail | kPath);
    set(letters, kLetter | kWord | kEmail | kPath);
    set("abcdefABCDEF", kHexLetter);
    set("_", kWord | kEmail | kPath);
    set(".%+@-", kEmail | kPath);
    set("~/", kPath);
    set(" \t\n\v\f\r\"'<>", kUrlStop);
    set(" \t\n\v\f\r=:\"'([,", kPathLead);
    return t;
}
constexpr auto kClass = make_classes();

// The anchor characters of the scans other than the words: a scan runs only when its
// anchors occur in the line, which the word pass notes on its way.
enum : std::uint8_t {
    kColon = 1,
    kDash = 2,
    kAtSign = 4,
    kDot = 8,
    kSlash = 16,
    kBracket = 32,
    kBackslash = 64,
};

// The word pass classifies 16 bytes at a time with SSE2 (part of x86-64, which Hyperscan
// requires anyway): a bit mask of the word characters and one of the anchor characters
// (the ':' and '-' among them are what IPv6 and MAC detection count). Word ends found from
// masks are fewer mispredicted branches than a test per byte.
struct Block {
    __m128i bytes;
    explicit Block(__m128i b) : bytes(b) {}

    __m128i equal(char c) const { return _mm_cmpeq_epi8(bytes, _mm_set1_epi8(c)); }
    /// Bytes b with b - low < count (unsigned), through a signed comparison.
    static __m128i in_range(__m128i b, char low, int count) {
        const __m128i shifted = _mm_xor_si128(_mm_sub_epi8(b, _mm_set1_epi8(low)), _mm_set1_epi8(static_cast<char>(0x80)));
        return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(count - 128)));
    }
    /// [A-Za-z0-9_], bit i for byte i.
    unsigned words() const {
        const __m128i letter = in_range(_mm_or_si128(bytes, _mm_set1_epi8(0x20)), 'a', 26);
        const __m128i digit = in_range(bytes, '0', 10);
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), equal('_'))));
    }
};

/// Bit i set when byte i of the block is an anchor character.
unsigned anchor_mask(const Block& b) {
    const __m128i any = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(b.equal(':'), b.equal('-')), _mm_or_si128(b.equal('@'), b.equal('.'))),
        _mm_or_si128(_mm_or_si128(b.equal('/'), b.equal('[')), b.equal('\\')));
    return static_cast<unsigned>(_mm_movemask_epi8(any));
}

constexpr std::array<std::uint8_t, 256> make_anchors() {
    std::array<std::uint8_t, 256> t{};
    t[':'] = kColon;
    t['-'] = kDash;
    t['@'] = kAtSign;
    t['.'] = kDot;
    t['/'] = kSlash;
    t['['] = kBracket;
    t['\\'] = kBackslash;
    return t;
}
constexpr auto kAnchors = make_anchors();

bool has(char c, std::uint8_t bits) { return (kClass[static_cast<unsigned char>(c)] & bits) != 0; }
bool word(char c) { return has(c, kWord); }
bool hex(char c) { return has(c, kDigit | kHexLetter); }
bool alnum(char c) { return has(c, kDigit | kLetter); }
bool ipv6_char(char c) { return hex(c) || c == ':'; }
// The extractor's URL and Windows path characters; unlike the regular expressions' stop
// sets they do not exclude \v and \f, so a URL ended by one of those is no entity.
bool url_char(char c) {
    return c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '<' && c != '>' && c != '\n' && c != '\r';
}
bool windows_path_char(char c) { return url_char(c) && c != '|' && c != '*' && c != '?'; }
bool windows_path_stop(char c) { return has(c, kUrlStop) || c == '|' || c == '*' || c == '?'; }
bool domain_char(char c) { return alnum(c) || c == '.' || c == '-'; }
bool user_char(char c) { return word(c) || c == '.' || c == '@' || c == '$' || c == '\\' || c == '-'; }
bool login_char(char c) { return word(c) || c == '.' || c == '@' || c == '-'; }  // in "for NAME from"
bool process_char(char c) { return word(c) || c == '.' || c == '/' || c == '(' || c == ')' || c == '-'; }

/// A word boundary before `at` for a pattern whose first character is a word character.
bool boundary_before(std::string_view text, std::size_t at) { return at == 0 || !word(text[at - 1]); }
/// A word boundary at `at` after a word character.
bool boundary_at(std::string_view text, std::size_t at) { return at == text.size() || !word(text[at]); }

template <class Pred>
std::size_t back(std::string_view text, std::size_t end, Pred allowed) {
    while (end > 0 && allowed(text[end - 1])) --end;
    return end;
}
template <class Pred>
std::size_t forward(std::string_view text, std::size_t from, Pred allowed) {
    while (from < text.size() && allowed(text[from])) ++from;
    return from;
}

/// A dotted quad of 1-3 digit groups as inet_pton() accepts it: no group above 255 and no
/// leading zero ("0" alone is one).
bool valid_quad(std::string_view s) {
    unsigned group = 0;
    std::size_t digits = 0;
    for (const char c : s) {
        if (c == '.') {
            group = 0;
            digits = 0;
            continue;
        }
        if (digits++ == 1 && group == 0) return false;
        group = group * 10 + static_cast<unsigned>(c - '0');
        if (group > 255) return false;
    }
    return true;
}

bool valid_ipv6(std::string_view s) {
    char buf[64];
    if (s.size() >= sizeof(buf)) {
        return false;
    }
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    unsigned char out[16];
    return inet_pton(AF_INET6, buf, out) == 1;
}

bool iequal(std::string_view a, std::string_view lower) {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if ((a[i] | 0x20) != lower[i]) return false;
    }
    return true;
}

/// Where a pattern that needed a terminating character reported its match ending at `end`.
std::size_t after_terminator(std::string_view text, std::size_t end) { return end < text.size() ? end + 1 : end; }

enum class Keyword : std::uint8_t { Success, Failure, Unknown, Timed, Port, User, Status, For, HttpMethod, SudoTty, Auth };

struct KeywordEntry {
    std::string_view word;  // lower case, or as written when exact_case
    Keyword kind;
    bool exact_case = false;
};

// Grouped by first letter (lower case), for the index below.
constexpr auto kKeywords = std::to_array<KeywordEntry>({
    {"accepted", Keyword::Success}, {"allowed", Keyword::Success}, {"authenticated", Keyword::Success},
    {"authentication", Keyword::Auth},
    {"bad", Keyword::Failure},
    {"closed", Keyword::Unknown}, {"CONNECT", Keyword::HttpMethod, true},
    {"denied", Keyword::Failure}, {"disconnected", Keyword::Unknown}, {"disconnect", Keyword::Unknown},
    {"DELETE", Keyword::HttpMethod, true},
    {"error", Keyword::Failure}, {"errors", Keyword::Failure},
    {"failed", Keyword::Failure}, {"failure", Keyword::Failure}, {"failures", Keyword::Failure},
    {"forbidden", Keyword::Failure}, {"for", Keyword::For, true},
    {"granted", Keyword::Success}, {"GET", Keyword::HttpMethod, true},
    {"HEAD", Keyword::HttpMethod, true},
    {"invalid", Keyword::Failure}, {"illegal", Keyword::Failure}, {"incorrect", Keyword::Failure},
    {"login", Keyword::Auth}, {"logon", Keyword::Auth},
    {"opened", Keyword::Success}, {"OPTIONS", Keyword::HttpMethod, true},
    {"password", Keyword::Auth}, {"publickey", Keyword::Auth},
    {"port", Keyword::Port}, {"POST", Keyword::HttpMethod, true}, {"PUT", Keyword::HttpMethod, true},
    {"PATCH", Keyword::HttpMethod, true}, {"PROPFIND", Keyword::HttpMethod, true},
    {"rejected", Keyword::Failure}, {"refused", Keyword::Failure}, {"reset", Keyword::Unknown},
    {"succeeded", Keyword::Success}, {"successful", Keyword::Success}, {"successfully", Keyword::Success},
    {"success", Keyword::Success}, {"status", Keyword::Status},
    {"timeout", Keyword::Unknown}, {"timed", Keyword::Timed}, {"TRACE", Keyword::HttpMethod, true},
    {"TTY", Keyword::SudoTty, true},
    {"unauthorized", Keyword::Failure}, {"user", Keyword::User}, {"username", Keyword::User},
});

/// Per first letter, the range of kKeywords starting with it and a bit per keyword length,
/// so that most words are rejected without being compared.
struct KeywordRange {
    std::uint8_t begin = 0;
    std::uint8_t end = 0;
    std::uint16_t sizes = 0;
};
constexpr std::array<KeywordRange, 26> make_keyword_index() {
    std::array<KeywordRange, 26> index{};
    for (std::size_t i = 0; i < kKeywords.size(); ++i) {
        auto& r = index[static_cast<std::size_t>((kKeywords[i].word[0] | 0x20) - 'a')];
        if (r.begin == r.end) r.begin = static_cast<std::uint8_t>(i);
        r.end = static_cast<std::uint8_t>(i + 1);
        r.sizes = static_cast<std::uint16_t>(r.sizes | (1u << kKeywords[i].word.size()));
    }
    return index;
}
constexpr auto kKeywordIndex = make_keyword_index();

constexpr std::size_t kLongestKeyword = 14;  // "authentication"

/// Up to 8 letters, lower-cased, one per byte (letters are never 0, so lengths differ too).
constexpr std::uint64_t pack_lower(std::string_view letters) {
    std::uint64_t packed = 0;
    for (std::size_t i = 0; i < letters.size(); ++i) {
        packed |= std::uint64_t{static_cast<unsigned char>(letters[i] | 0x20)} << (8 * i);
    }
    return packed;
}

/// The common top-level domains of the domain rule.
constexpr std::array<std::string_view, 41> kTldNames{
    "com", "net", "org", "edu", "gov", "mil", "int", "io", "info", "biz", "dev", "app", "cloud", "local",
    "lan", "internal", "arpa", "uk", "de", "fr", "jp", "cn", "ru", "hk", "nl", "it", "es", "ca", "au", "br",
    "in", "kr", "ch", "se", "no", "pl", "eu", "us", "me", "tv", "co"};

/// The TLDs packed and sorted for a binary search.
constexpr auto kTlds = [] {
    std::array<std::uint64_t, kTldNames.size()> packed{};
    for (std::size_t i = 0; i < kTldNames.size(); ++i) packed[i] = pack_lower(kTldNames[i]);
    std::sort(packed.begin(), packed.end());
    return packed;
}();

/// Per first letter, a bit per length of the TLDs starting with it: most labels after a dot
/// ("org.apache.hadoop") are rejected without being packed and searched.
constexpr auto kTldShapes = [] {
    std::array<std::uint16_t, 26> shapes{};
    for (const auto name : kTldNames) {
        shapes[static_cast<std::size_t>(name[0] - 'a')] |= static_cast<std::uint16_t>(1u << name.size());
    }
    return shapes;
}();

class Scanner {
public:
    Scanner(std::string_view text, std::vector<ScanMatch>& out, std::size_t max, OutcomeWords& outcome)
        : t_(text), n_(text.size()), out_(out), max_(out.size() + max), outcome_(outcome) {}

    // One pass over the words (the only per-byte loop); every other scan jumps between its
    // anchor characters with memchr, and runs only when they occur.
    void run() {
        words();
        const auto all = [this](std::uint8_t bits) { return (anchors_ & bits) == bits; };
        ipv6_possible_ = ipv6_possible();
        if (mac_possible_ || ipv6_possible_) colons_and_dashes();
        if (all(kAtSign)) at_signs();
        if (all(kColon | kSlash)) schemes();
        if (all(kDot)) dots();
        if (all(kSlash)) {
            unix_paths();
            status_lines();
        }
        if (all(kColon | kBackslash)) windows_paths();
        if (all(kBracket)) pids();
    }

private:
    void emit(EntityType type, Rule rule, std::size_t b, std::size_t e, std::size_t report) {
        if (out_.size() < max_) out_.push_back({type, rule, b, e, report});
    }

    /// Next position of `c` at or after `from`, or n_.
    std::size_t next(char c, std::size_t from) const {
        if (from >= n_) return n_;
        const void* p = std::memchr(t_.data() + from, c, n_ - from);
        return p ? static_cast<std::size_t>(static_cast<const char*>(p) - t_.data()) : n_;
    }

    // A maximal run of word characters is a whole word: \b on both sides. The line is read
    // 16 bytes at a time; the words are found from where the bit mask of word characters
    // changes, 64 bytes at a time. The anchors and separators are noted on the way.
    void words() {
        std::uint64_t chunk = 0;  // word characters of the 64 bytes being read, bit i for byte i
        std::uint64_t carry = 0;  // whether the byte before them was a word character
        bool in_word = false;
        std::size_t ws = 0;
        for (std::size_t at = 0; at < n_; at += 16) {
            const Block block(load16(at));
            chunk |= std::uint64_t{block.words()} << (at % 64);
            for (unsigned found = anchor_mask(block); found != 0; found &= found - 1) {
                const std::size_t i = at + static_cast<std::size_t>(std::countr_zero(found));
                const auto anchor = kAnchors[static_cast<unsigned char>(t_[i])];
                anchors_ |= anchor;
                if (anchor & (kColon | kDash)) separator(i);
            }
            if (at % 64 != 48 && at + 16 < n_) continue;
            // Each change is a word's start or, past it, its end (the zeros past the end of
            // the line end the last word unless the line fills the 64 bytes).
            const std::size_t base = at - at % 64;
            for (std::uint64_t changes = chunk ^ ((chunk << 1) | carry); changes != 0; changes &= changes - 1) {
                const std::size_t p = base + static_cast<std::size_t>(std::countr_zero(changes));
                if (in_word) {
                    on_word(ws, p);
                } else {
                    ws = p;
                }
                in_word = !in_word;
            }
            carry = chunk >> 63;
            chunk = 0;
        }
        if (in_word) on_word(ws, n_);
    }

    /// The 16 bytes at `at`, zeros past the end of the line.
    __m128i load16(std::size_t at) const {
        if (n_ - at >= 16) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(t_.data() + at));
        alignas(16) char tail[16] = {};
        std::memcpy(tail, t_.data() + at, n_ - at);
        return _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
    }

    // Inlined into words(): a call per word cost about as much as the classification saved.
    [[gnu::always_inline]] void on_word(std::size_t ws, std::size_t we) {
        const std::size_t size = we - ws;
        if (is_digit(t_[ws])) {
            // A dotted quad starts a run of [0-9.]: not after a '.'.
            if (ws == 0 || t_[ws - 1] != '.') ipv4_from(ws);
        } else if (size <= kLongestKeyword) {
            keyword(ws, we);
        }
        if (size == 32 || size == 40 || size == 64) hash(ws, we);
    }

    void keyword(std::size_t ws, std::size_t we) {
        const std::string_view w(t_.data() + ws, we - ws);
        if (!has(w[0], kLetter)) return;
        const auto range = kKeywordIndex[static_cast<std::size_t>((w[0] | 0x20) - 'a')];
        if (!((range.sizes >> w.size()) & 1u)) return;
        for (auto k = range.begin; k < range.end; ++k) {
            const auto& entry = kKeywords[k];
            if (entry.word.size() == w.size() && (entry.exact_case ? w == entry.word : iequal(w, entry.word))) {
                on_keyword(entry.kind, ws, we);
                return;
            }
        }
    }

    void on_keyword(Keyword kind, std::size_t ws, std::size_t we) {
        switch (kind) {
            case Keyword::Success: outcome_.success = true; break;
            case Keyword::Failure: outcome_.failure = true; break;
            case Keyword::Unknown: outcome_.unknown = true; break;
            case Keyword::Timed:
                if (we + 4 <= n_ && t_[we] == ' ' && iequal(t_.substr(we + 1, 3), "out") && boundary_at(t_, we + 4)) {
                    outcome_.unknown = true;
                }
                break;
            case Keyword::Port: port_after(we); break;
            case Keyword::User: user_after(we); break;
            case Keyword::Status: status_after(we); break;
            case Keyword::For: for_user_from(we); break;
            case Keyword::HttpMethod: http_method(ws, we); break;
            case Keyword::SudoTty: sudo_user_before(ws, we); break;
            case Keyword::Auth: outcome_.authentication = true; break;
        }
    }

    /// sudo's "alice : [3 incorrect password attempts ;] TTY=pts/0 ; PWD=... ; USER=root ;
    /// COMMAND=...": the account before " : " is the one acting (its USER= is the account
    /// the command runs as), so it comes first among the line's users.
    void sudo_user_before(std::size_t ws, std::size_t we) {
        if (we >= n_ || t_[we] != '=' || ws < 4) return;
        const std::size_t colon = t_.rfind(" : ", ws - 3);
        if (colon == std::string_view::npos) return;
        std::size_t ns = colon;
        while (ns > 0 && user_char(t_[ns - 1])) --ns;
        if (ns < colon && !not_a_user(t_.substr(ns, colon - ns))) {
            emit(EntityType::User, Rule::SudoUser, ns, colon, colon + 3);
        }
    }

    /// End of the run of [ =:] at `from`.
    std::size_t separators(std::size_t from) const {
        return forward(t_, from, [](char c) { return c == ' ' || c == '=' || c == ':'; });
    }

    void port_after(std::size_t we) {
        const std::size_t d = separators(we);
        if (d == we) return;
        const std::size_t e = forward(t_, d, is_digit);
        if (e == d || e - d > 5 || !boundary_at(t_, e)) return;
        if (number(d, e) <= 65535) emit(EntityType::Port, Rule::Port, d, e, e);
    }

    unsigned number(std::size_t b, std::size_t e) const {
        unsigned value = 0;
        for (std::size_t k = b; k < e; ++k) value = value * 10 + static_cast<unsigned>(t_[k] - '0');
        return value;
    }

    void user_after(std::size_t we) {
        const std::size_t ns = separators(we);
        if (ns == we) return;
        const std::size_t ne = forward(t_, ns, user_char);
        if (ne > ns && !not_a_user(t_.substr(ns, ne - ns))) {
            emit(EntityType::User, Rule::User, ns, ne, after_terminator(t_, ne));
        }
    }

    void for_user_from(std::size_t we) {
        if (we >= n_ || t_[we] != ' ') return;
        const std::size_t ns = we + 1;
        const std::size_t ne = forward(t_, ns, login_char);
        if (ne == ns || t_.substr(ne, 5) != " from" || !boundary_at(t_, ne + 5)) return;
        const auto name = t_.substr(ns, ne - ns);
        if (name != "invalid" && name != "illegal" && !not_a_user(name)) {
            emit(EntityType::User, Rule::ForUserFrom, ns, ne, ne + 5);
        }
    }

    static bool not_a_user(std::string_view name) {
        static constexpr std::array<std::string_view, 14> kNotUsers{
            "unknown", "authentication", "name", "from", "for", "of", "not", "is", "none", "logged", "session", "id",
            "by", "root's"};
        return std::find(kNotUsers.begin(), kNotUsers.end(), name) != kNotUsers.end();
    }

    /// Three digits, the first 1-5, ending at a word boundary.
    bool http_status_at(std::size_t d) const {
        return d + 3 <= n_ && t_[d] >= '1' && t_[d] <= '5' && is_digit(t_[d + 1]) && is_digit(t_[d + 2]) &&
               boundary_at(t_, d + 3);
    }

    void status_after(std::size_t we) {
        std::size_t d = separators(we);
        if (d == we || !http_status_at(d)) {
            // "status code 403"
            if (we + 5 > n_ || t_[we] != ' ' || !iequal(t_.substr(we + 1, 4), "code")) return;
            d = separators(we + 5);
            if (d == we + 5 || !http_status_at(d)) return;
        }
        emit(EntityType::HttpStatus, Rule::HttpStatusWord, d, d + 3, d + 3);
    }

    void http_method(std::size_t ws, std::size_t we) {
        const std::size_t k = forward(t_, we, [](char c) { return c == ' '; });
        if (k == we || k >= n_) return;
        const auto rest = t_.substr(k);
        std::size_t report = 0;
        if (rest[0] == '/') {
            report = k + 1;
        } else if (rest.starts_with("http://")) {
            report = k + 7;
        } else if (rest.starts_with("https://")) {
            report = k + 8;
        } else {
            return;
        }
        emit(EntityType::HttpMethod, Rule::HttpMethod, ws, we, report);
    }

    // A dotted quad at `rs`, the start of a word and of a run of [0-9.].
    void ipv4_from(std::size_t rs) {
        std::size_t to = rs;
        for (int group = 0; group < 4; ++group) {
            if (group > 0) {
                if (to >= n_ || t_[to] != '.') return;
                ++to;
            }
            const std::size_t g = to;
            while (to < n_ && to - g <= 3 && is_digit(t_[to])) ++to;  // a fourth digit is enough to fail
            if (to == g || to - g > 3) return;
        }
        if (!boundary_at(t_, to)) return;
        if (to + 1 < n_ && t_[to] == '.' && is_digit(t_[to + 1])) return;  // 1.2.3.4.5
        if (!valid_quad(t_.substr(rs, to - rs))) return;
        emit(EntityType::Ipv4, Rule::Ipv4, rs, to, to);
        // "ip:port"
        std::size_t e = to + 1;
        while (e < n_ && e - to <= 6 && is_digit(t_[e])) ++e;
        if (to < n_ && t_[to] == ':' && e > to + 1 && e - to <= 6 && (e == n_ || !alnum(t_[e])) &&
            number(to + 1, e) <= 65535) {
            emit(EntityType::Port, Rule::Port, to + 1, e, to);
        }
    }

    // A word of exactly 32, 40 or 64 hex digits.
    void hash(std::size_t ws, std::size_t we) {
        for (std::size_t k = ws; k < we; ++k) {
            if (!hex(t_[k])) return;
        }
        const std::size_t size = we - ws;
        emit(size == 32 ? EntityType::Md5 : size == 40 ? EntityType::Sha1 : EntityType::Sha256, Rule::Hash, ws, we, we);
    }

    // What IPv6 and MAC addresses need, noted by the word pass: "::" or seven colons in the
    // line; five ':' or '-' three characters apart. Dates and times have neither.
    void separator(std::size_t i) {
        if (t_[i] == ':') {
            ++colons_;
            double_colon_ = double_colon_ || (i > 0 && t_[i - 1] == ':');
        }
        separator_chain_ = last_separator_ + 3 == i ? separator_chain_ + 1 : 1;
        last_separator_ = i;
        mac_possible_ = mac_possible_ || separator_chain_ >= 5;
    }
    // An address without "::" has eight groups of up to four digits: seven colons each at
    // most five characters after the one before ("key: value" lists have seven colons too).
    bool ipv6_possible() const {
        if (double_colon_) return true;
        if (colons_ < 7) return false;
        std::size_t chain = 0;
        std::size_t last = 0;
        for (std::size_t c = next(':', 0); c < n_; c = next(':', c + 1)) {
            chain = chain > 0 && c - last <= 5 ? chain + 1 : 1;
            if (chain == 7) return true;
            last = c;
        }
        return false;
    }

    // IPv6 and MAC addresses: runs of [0-9A-Fa-f:-] with a ':' or '-' in them.
    void colons_and_dashes() {
        const auto run_char = [](char c) { return hex(c) || c == ':' || c == '-'; };
        std::size_t colon = next(':', 0);
        std::size_t dash = next('-', 0);
        while (colon < n_ || dash < n_) {
            const std::size_t at = std::min(colon, dash);
            const std::size_t rs = back(t_, at, run_char);
            const std::size_t re = forward(t_, at, run_char);
            if (mac_possible_ && re - rs >= 17) macs_in(rs, re);
            if (colon < re && ipv6_possible_) ipv6_in(rs, re);
            if (colon < re) colon = next(':', re);
            if (dash < re) dash = next('-', re);
        }
    }

    void macs_in(std::size_t rs, std::size_t re) {
        for (std::size_t s = rs; s + 17 <= re; ++s) {
            bool ok = boundary_before(t_, s) && boundary_at(t_, s + 17);
            for (std::size_t k = 0; ok && k < 17; ++k) {
                ok = k % 3 == 2 ? (t_[s + k] == ':' || t_[s + k] == '-') : hex(t_[s + k]);
            }
            if (ok) emit(EntityType::Mac, Rule::Mac, s, s + 17, s + 17);
        }
    }

    void ipv6_in(std::size_t rs, std::size_t re) {
        // Sub-runs of [0-9A-Fa-f:] (dashes split them); each is walked from its start, when
        // it has a "::" or seven colons (a time such as 12:30:45 has neither).
        std::size_t b = rs;
        while (b < re) {
            if (!ipv6_char(t_[b])) {
                ++b;
                continue;
            }
            const std::size_t e = forward(t_.substr(0, re), b, ipv6_char);
            if (!may_hold_ipv6(b, e)) {
                b = e;
                continue;
            }
            std::size_t colons = 0;
            bool double_colon = false;
            for (std::size_t to = b + 1; to <= e && to - b < 64; ++to) {
                if (t_[to - 1] == ':') {
                    ++colons;
                    double_colon = double_colon || (to - 1 > b && t_[to - 2] == ':');
                }
                if (to - b >= 3 && (double_colon || colons == 7) && valid_ipv6(t_.substr(b, to - b))) {
                    emit(EntityType::Ipv6, Rule::Ipv6, b, to, to);
                }
            }
            b = e;
        }
    }

    bool may_hold_ipv6(std::size_t b, std::size_t e) const {
        std::size_t colons = 0;
        for (std::size_t k = b; k < e; ++k) {
            if (t_[k] == ':') {
                if (k > b && t_[k - 1] == ':') return true;
                ++colons;
            }
        }
        return colons >= 7;
    }

    void at_signs() {
        for (std::size_t at = next('@', 0); at < n_;) {
            const std::size_t rs = back(t_, at, [](char c) { return has(c, kEmail); });
            const std::size_t re = forward(t_, at, [](char c) { return has(c, kEmail); });
            email_in(rs, at, re);
            at = next('@', re);
        }
    }

    void email_in(std::size_t rs, std::size_t at, std::size_t re) {
        if (at == rs || std::memchr(t_.data() + at + 1, '@', re - at - 1)) return;
        // After the '@': two or more labels of [A-Za-z0-9-], the last one two or more letters.
        std::size_t labels = 0;
        bool letters_only = false;
        std::size_t label_size = 0;
        for (std::size_t k = at + 1; k <= re; ++k) {
            if (k == re || t_[k] == '.') {
                if (label_size == 0) return;
                ++labels;
                if (k < re) label_size = 0;
                continue;
            }
            if (!alnum(t_[k]) && t_[k] != '-') return;
            ++label_size;
            letters_only = (label_size == 1 || letters_only) && has(t_[k], kLetter);  // of the last label
        }
        if (labels < 2 || !letters_only || label_size < 2) return;
        emit(EntityType::Email, Rule::Email, rs, re, after_terminator(t_, re));
    }

    void schemes() {
        std::size_t last_report = std::string_view::npos;
        for (std::size_t p = t_.find("://"); p != std::string_view::npos; p = t_.find("://", p + 1)) {
            const std::size_t ws = back(t_, p, word);
            const auto scheme = t_.substr(ws, p - ws);
            if (!(iequal(scheme, "http") || iequal(scheme, "https") || iequal(scheme, "ftp") ||
                  iequal(scheme, "ws") || iequal(scheme, "wss"))) {
                continue;
            }
            std::size_t e = p + 3;
            while (e < n_ && !has(t_[e], kUrlStop)) ++e;
            if (e == p + 3) continue;
            const std::size_t report = after_terminator(t_, e);
            if (report == last_report) continue;  // one match per end
            last_report = report;
            if (e < n_ && url_char(t_[e])) continue;  // ended by \v or \f
            const std::size_t token = back(t_, e, url_char);
            const std::size_t scheme_end = t_.find("://", token);
            emit(EntityType::Url, Rule::Url, back(t_, scheme_end, [](char c) { return has(c, kLetter); }), e, report);
        }
    }

    static bool common_tld(std::string_view tld) {
        // `tld` is letters only, so a label and a TLD are equal ignoring case exactly when
        // their lower-cased packings are equal: one binary search instead of 41 comparisons.
        if (tld.size() < 2 || tld.size() > 8 ||
            !((kTldShapes[static_cast<std::size_t>((tld[0] | 0x20) - 'a')] >> tld.size()) & 1u)) {
            return false;
        }
        return std::binary_search(kTlds.begin(), kTlds.end(), pack_lower(tld));
    }

    // Domains: <alnum>.<tld>.
    void dots() {
        for (std::size_t d = next('.', 1); d < n_; d = next('.', d + 1)) {
            if (!alnum(t_[d - 1])) continue;
            const std::size_t e = forward(t_, d + 1, [](char c) { return has(c, kLetter); });
            if (e < n_ && (alnum(t_[e]) || t_[e] == '-')) continue;
            if (!common_tld(t_.substr(d + 1, e - d - 1))) continue;
            // A '.' after the name ends it only at the end of a sentence, not of a label.
            if (e + 1 < n_ && t_[e] == '.' && alnum(t_[e + 1])) continue;
            std::size_t b = back(t_, e, domain_char);
            while (b < e && (t_[b] == '.' || t_[b] == '-')) ++b;
            emit(EntityType::Domain, Rule::Domain, b, e, after_terminator(t_, e));
        }
    }

    void unix_paths() {
        for (std::size_t slash = next('/', 0); slash < n_;) {
            const std::size_t rs = back(t_, slash, [](char c) { return has(c, kPath); });
            const std::size_t re = forward(t_, slash, [](char c) { return has(c, kPath); });
            slash = next('/', re);
            if (t_[rs] != '/' || (rs > 0 && !has(t_[rs - 1], kPathLead))) continue;
            // (/component)+ with two or more components, then at most one '/'.
            std::size_t components = 0;
            std::size_t k = rs;
            while (k < re && t_[k] == '/') {
                std::size_t ce = k + 1;
                while (ce < re && t_[ce] != '/') ++ce;
                if (ce == k + 1) break;
                ++components;
                k = ce;
            }
            if (components >= 2 && (k == re || k + 1 == re)) {
                emit(EntityType::UnixPath, Rule::UnixPath, rs, re, after_terminator(t_, re));
            }
        }
    }

    void windows_paths() {
        std::size_t last_report = std::string_view::npos;
        for (std::size_t p = t_.find(":\\", 1); p != std::string_view::npos; p = t_.find(":\\", p + 1)) {
            if (!has(t_[p - 1], kLetter) || !boundary_before(t_, p - 1)) continue;
            std::size_t e = p + 2;
            while (e < n_ && !windows_path_stop(t_[e])) ++e;
            if (e == p + 2) continue;
            const std::size_t report = after_terminator(t_, e);
            if (report == last_report) continue;
            last_report = report;
            if (e < n_ && windows_path_char(t_[e])) continue;  // ended by \v or \f
            const std::size_t token = back(t_, e, windows_path_char);
            const std::size_t drive = t_.find(":\\", token);
            if (drive > token && drive < e) emit(EntityType::WindowsPath, Rule::WindowsPath, drive - 1, e, report);
        }
    }

    // "name[pid]": the process name may start after a '.', '/', '(', ')' or '-' inside it.
    void pids() {
        for (std::size_t open = next('[', 0); open < n_; open = next('[', open + 1)) {
            const std::size_t close = forward(t_, open + 1, is_digit);
            if (close == open + 1 || close - open - 1 > 10 || close >= n_ || t_[close] != ']') continue;
            const std::size_t ps = back(t_, open, process_char);
            bool starts = false;
            for (std::size_t s = std::max(ps, open >= 64 ? open - 64 : 0); s < open && !starts; ++s) {
                starts = has(t_[s], kLetter) && boundary_before(t_, s);
            }
            if (!starts) continue;
            std::size_t b = ps;
            while (b < open && !has(t_[b], kLetter)) ++b;
            emit(EntityType::Process, Rule::Process, b, open, close + 1);
            emit(EntityType::Pid, Rule::Pid, open + 1, close, close + 1);
        }
    }

    // HTTP/1.1" 404
    void status_lines() {
        for (std::size_t h = t_.find("HTTP/"); h != std::string_view::npos; h = t_.find("HTTP/", h + 1)) {
            std::size_t k = h + 5;
            if (k >= n_ || !is_digit(t_[k])) continue;
            ++k;
            if (k + 1 < n_ && t_[k] == '.' && is_digit(t_[k + 1])) k += 2;
            if (k >= n_ || t_[k] != '"') continue;
            const std::size_t d = forward(t_, k + 1, [](char c) { return c == ' '; });
            if (d == k + 1 || !http_status_at(d)) continue;
            emit(EntityType::HttpStatus, Rule::HttpStatusLine, d, d + 3, d + 3);
        }
    }

    std::string_view t_;
    std::size_t n_;
    std::vector<ScanMatch>& out_;
    std::size_t max_;
    OutcomeWords& outcome_;
    std::uint8_t anchors_ = 0;  // kAnchors bits of the characters seen
    std::size_t colons_ = 0;
    bool double_colon_ = false;
    std::size_t last_separator_ = std::string_view::npos - 3;  // of ':' or '-'
    std::size_t separator_chain_ = 0;  // separators three characters apart, ending at the last
    bool mac_possible_ = false;
    bool ipv6_possible_ = false;
};

}  // namespace

void scan_entities(std::string_view text, std::vector<ScanMatch>& out, std::size_t max_matches,
                   OutcomeWords& outcome) {
    Scanner(text, out, max_matches, outcome).run();
}

}  // namespace sai::parser::detail
