#include "address_finder.hpp"

#include "text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
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

bool valid_ip(int family, std::string_view s) {
    char buf[64];
    if (s.size() >= sizeof(buf)) {
        return false;
    }
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = '\0';
    unsigned char out[16];
    return inet_pton(family, buf, out) == 1;
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

class Finder {
public:
    Finder(std::string_view text, std::vector<AddressMatch>& out, std::size_t max)
        : t_(text), n_(text.size()), out_(out), max_(out.size() + max) {}

    void run() {
        dotted_and_hex_runs();
        colon_runs();
        at_signs();
        schemes();
        domains();
        unix_paths();
        windows_paths();
    }

private:
    void emit(EntityType type, std::size_t b, std::size_t e, std::size_t report) {
        if (out_.size() < max_) out_.push_back({type, b, e, report});
    }

    // IPv4 (runs of digits and dots) and hashes (runs of hex digits), in one pass over the
    // runs of hex digits and dots.
    void dotted_and_hex_runs() {
        std::size_t i = 0;
        while (i < n_) {
            if (!hex(t_[i]) && t_[i] != '.') {
                ++i;
                continue;
            }
            const std::size_t rs = i;
            const std::size_t re = forward(t_, i, [](char c) { return hex(c) || c == '.'; });
            ipv4_from(rs, re);
            hashes_in(rs, re);
            i = re;
        }
    }

    void ipv4_from(std::size_t rs, std::size_t re) {
        // Only a quad at the start of a run of [0-9.] can be valid.
        if (!is_digit(t_[rs]) || !boundary_before(t_, rs)) return;
        std::size_t to = rs;
        for (int group = 0; group < 4; ++group) {
            if (group > 0) {
                if (to >= re || t_[to] != '.') return;
                ++to;
            }
            const std::size_t g = to;
            while (to < re && is_digit(t_[to])) ++to;
            if (to == g || to - g > 3) return;
        }
        if (!boundary_at(t_, to)) return;
        if (to + 1 < n_ && t_[to] == '.' && is_digit(t_[to + 1])) return;  // 1.2.3.4.5
        if (!valid_ip(AF_INET, t_.substr(rs, to - rs))) return;
        emit(EntityType::Ipv4, rs, to, to);
        // "ip:port"
        std::size_t e = to + 1;
        while (e < n_ && e - to <= 6 && is_digit(t_[e])) ++e;
        if (to < n_ && t_[to] == ':' && e > to + 1 && e - to <= 6 && (e == n_ || !alnum(t_[e]))) {
            unsigned port = 0;
            for (std::size_t k = to + 1; k < e; ++k) port = port * 10 + static_cast<unsigned>(t_[k] - '0');
            if (port <= 65535) emit(EntityType::Port, to + 1, e, to);
        }
    }

    void hashes_in(std::size_t rs, std::size_t re) {
        std::size_t i = rs;
        while (i < re) {
            if (t_[i] == '.') {
                ++i;
                continue;
            }
            const std::size_t hs = i;
            const std::size_t he = forward(t_.substr(0, re), i, hex);
            const std::size_t len = he - hs;
            if ((len == 32 || len == 40 || len == 64) && boundary_before(t_, hs) && boundary_at(t_, he)) {
                emit(len == 32 ? EntityType::Md5 : len == 40 ? EntityType::Sha1 : EntityType::Sha256, hs, he, he);
            }
            i = he;
        }
    }

    // IPv6 and MAC addresses: runs of [0-9A-Fa-f:-] with a ':' or '-' in them.
    void colon_runs() {
        const auto run_char = [](char c) { return hex(c) || c == ':' || c == '-'; };
        std::size_t i = 0;
        while (i < n_) {
            if (t_[i] != ':' && t_[i] != '-') {
                ++i;
                continue;
            }
            const std::size_t rs = back(t_, i, run_char);
            const std::size_t re = forward(t_, i, run_char);
            macs_in(rs, re);
            ipv6_in(rs, re);
            i = re + 1;
        }
    }

    void macs_in(std::size_t rs, std::size_t re) {
        for (std::size_t s = rs; s + 17 <= re; ++s) {
            bool ok = boundary_before(t_, s) && boundary_at(t_, s + 17);
            for (std::size_t k = 0; ok && k < 17; ++k) {
                ok = k % 3 == 2 ? (t_[s + k] == ':' || t_[s + k] == '-') : hex(t_[s + k]);
            }
            if (ok) emit(EntityType::Mac, s, s + 17, s + 17);
        }
    }

    void ipv6_in(std::size_t rs, std::size_t re) {
        // Sub-runs of [0-9A-Fa-f:] (dashes split them); each is walked from its start.
        std::size_t b = rs;
        while (b < re) {
            if (!ipv6_char(t_[b])) {
                ++b;
                continue;
            }
            const std::size_t e = forward(t_.substr(0, re), b, ipv6_char);
            std::size_t colons = 0;
            bool double_colon = false;
            for (std::size_t to = b + 1; to <= e && to - b < 64; ++to) {
                if (t_[to - 1] == ':') {
                    ++colons;
                    double_colon = double_colon || (to - 1 > b && t_[to - 2] == ':');
                }
                if (to - b >= 3 && colons >= 2 && (double_colon || colons == 7) &&
                    valid_ip(AF_INET6, t_.substr(b, to - b))) {
                    emit(EntityType::Ipv6, b, to, to);
                }
            }
            b = e;
        }
    }

    void at_signs() {
        std::size_t i = 0;
        while (i < n_) {
            const char* p = static_cast<const char*>(std::memchr(t_.data() + i, '@', n_ - i));
            if (!p) return;
            const std::size_t at = static_cast<std::size_t>(p - t_.data());
            const std::size_t rs = back(t_, at, [](char c) { return has(c, kEmail); });
            const std::size_t re = forward(t_, at, [](char c) { return has(c, kEmail); });
            email_in(rs, at, re);
            i = re;
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
        emit(EntityType::Email, rs, re, after_terminator(t_, re));
    }

    void schemes() {
        std::size_t i = 0;
        std::size_t last_report = std::string_view::npos;
        while (true) {
            const std::size_t p = t_.find("://", i);
            if (p == std::string_view::npos) return;
            i = p + 1;
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
            emit(EntityType::Url, back(t_, scheme_end, [](char c) { return has(c, kLetter); }), e, report);
        }
    }

    static bool common_tld(std::string_view tld) {
        static constexpr std::array<std::string_view, 42> kTlds{
            "com", "net", "org", "edu", "gov", "mil", "int", "io", "info", "biz", "dev", "app", "cloud", "local",
            "lan", "internal", "arpa", "uk", "de", "fr", "jp", "cn", "ru", "hk", "nl", "it", "es", "ca", "au", "br",
            "in", "kr", "ch", "se", "no", "pl", "eu", "us", "me", "tv", "co", ""};
        if (tld.size() < 2 || tld.size() > 8) return false;
        return std::any_of(kTlds.begin(), kTlds.end() - 1, [tld](std::string_view t) { return iequal(tld, t); });
    }

    void domains() {
        std::size_t i = 1;
        while (i < n_) {
            const char* p = static_cast<const char*>(std::memchr(t_.data() + i, '.', n_ - i));
            if (!p) return;
            const std::size_t d = static_cast<std::size_t>(p - t_.data());
            i = d + 1;
            if (d == 0 || !alnum(t_[d - 1])) continue;
            const std::size_t e = forward(t_, d + 1, [](char c) { return has(c, kLetter); });
            if (e < n_ && (alnum(t_[e]) || t_[e] == '-')) continue;
            if (!common_tld(t_.substr(d + 1, e - d - 1))) continue;
            // A '.' after the name ends it only at the end of a sentence, not of a label.
            if (e + 1 < n_ && t_[e] == '.' && alnum(t_[e + 1])) continue;
            std::size_t b = back(t_, e, domain_char);
            while (b < e && (t_[b] == '.' || t_[b] == '-')) ++b;
            emit(EntityType::Domain, b, e, after_terminator(t_, e));
        }
    }

    void unix_paths() {
        std::size_t i = 0;
        while (i < n_) {
            const char* p = static_cast<const char*>(std::memchr(t_.data() + i, '/', n_ - i));
            if (!p) return;
            const std::size_t slash = static_cast<std::size_t>(p - t_.data());
            const std::size_t rs = back(t_, slash, [](char c) { return has(c, kPath); });
            const std::size_t re = forward(t_, slash, [](char c) { return has(c, kPath); });
            i = re + 1;
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
                emit(EntityType::UnixPath, rs, re, after_terminator(t_, re));
            }
        }
    }

    void windows_paths() {
        std::size_t i = 1;
        std::size_t last_report = std::string_view::npos;
        while (true) {
            const std::size_t p = t_.find(":\\", i);
            if (p == std::string_view::npos) return;
            i = p + 1;
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
            if (drive > token && drive < e) emit(EntityType::WindowsPath, drive - 1, e, report);
        }
    }

    std::string_view t_;
    std::size_t n_;
    std::vector<AddressMatch>& out_;
    std::size_t max_;
};

}  // namespace

void find_addresses(std::string_view text, std::vector<AddressMatch>& out, std::size_t max_matches) {
    Finder(text, out, max_matches).run();
}

}  // namespace sai::parser::detail
