#include "parser/entity_extractor.hpp"

#include "hs_database.hpp"
#include "text.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace sai::parser {
namespace {

constexpr std::size_t kMaxScanBytes = 64 * 1024;
constexpr std::size_t kMaxRawMatches = 4096;
constexpr std::size_t kMaxEntities = 256;

// Pattern ids. Several ids may produce one entity type.
enum Id : unsigned {
    kIpv4,
    kIpv6,
    kMac,
    kEmail,
    kUrl,
    kDomain,
    kUnixPath,
    kWindowsPath,
    kHash,
    kPortWord,
    kUserWord,
    kForUserFrom,
    kProcessPid,
    kHttpMethod,
    kHttpStatusLine,
    kStatusWord,
    kOutcomeSuccess,
    kOutcomeFailure,
    kOutcomeUnknown,
    kIdCount,
};

struct PatternSpec {
    Id id;
    const char* regex;
    bool caseless;
};

constexpr std::array<PatternSpec, kIdCount> kPatterns{{
    {kIpv4, R"(\b(?:\d{1,3}\.){3}\d{1,3}\b)", false},
    {kIpv6, R"((?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7})", false},
    {kMac, R"(\b[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}\b)", false},
    // E-mail and domain patterns start at their anchor ('@', the TLD): about a third of the
    // cost of starting at the first letter; the start is found by walking back.
    {kEmail, R"(@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?:[^A-Za-z0-9.-]|$))", false},
    {kUrl, R"(\b(?:https?|ftp|wss?)://[^\s"'<>]+(?:[\s"'<>]|$))", true},
    {kDomain,
     R"([A-Za-z0-9]\.(?:com|net|org|edu|gov|mil|int|io|info|biz|dev|app|cloud|local|lan|internal|arpa|uk|de|fr|jp|cn|ru|hk|nl|it|es|ca|au|br|in|kr|ch|se|no|pl|eu|us|me|tv|co)(?:[^A-Za-z0-9-]|$))",
     true},
    {kUnixPath, R"((?:^|[\s=:"'(\[,])(?:/[A-Za-z0-9._~@%+-]+){2,}/?(?:[^A-Za-z0-9._~@%+/-]|$))", false},
    {kWindowsPath, R"(\b[A-Za-z]:\\[^\s"'<>|*?]+(?:[\s"'<>|*?]|$))", false},
    {kHash, R"(\b[0-9A-Fa-f]{32,64}\b)", false},
    {kPortWord, R"(\bport[ =:]+\d{1,5}\b)", true},
    {kUserWord, R"(\buser(?:name)?[ =:]+[A-Za-z0-9._@$\\-]+(?:[^A-Za-z0-9._@$\\-]|$))", true},
    {kForUserFrom, R"(\bfor [A-Za-z0-9._@-]+ from\b)", false},
    {kProcessPid, R"(\b[A-Za-z][A-Za-z0-9_./()-]{0,63}\[\d{1,10}\])", false},
    {kHttpMethod, R"(\b(?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE|PROPFIND) +(?:/|https?://))", false},
    {kHttpStatusLine, R"(HTTP/\d(?:\.\d)?" +[1-5]\d\d\b)", false},
    {kStatusWord, R"(\bstatus(?: code)?[ =:]+[1-5]\d\d\b)", true},
    {kOutcomeSuccess, R"(\b(?:accepted|succeeded|successful|successfully|success|granted|allowed|opened|authenticated)\b)",
     true},
    {kOutcomeFailure,
     R"(\b(?:failed|failure|failures|denied|invalid|illegal|rejected|refused|unauthorized|forbidden|error|errors|bad)\b)",
     true},
    {kOutcomeUnknown, R"(\b(?:closed|disconnected|disconnect|timeout|timed out|reset)\b)", true},
}};

constexpr std::array<std::string_view, 14> kNotUsers{
    "unknown", "authentication", "name", "from", "for", "of", "not", "is", "none", "logged", "session", "id",
    "by", "root's"};

struct RawMatch {
    unsigned id;
    std::size_t from;
    std::size_t to;
};

bool collect(void* ctx, unsigned id, std::size_t from, std::size_t to) {
    auto* v = static_cast<std::vector<RawMatch>*>(ctx);
    if (v->size() >= kMaxRawMatches) {
        return false;
    }
    v->push_back({id, from, to});
    return true;
}

using detail::is_digit;
bool alpha(char c) { return detail::is_alpha(c); }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool alnum(char c) { return alpha(c) || is_digit(c); }
bool hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool ipv4_char(char c) { return is_digit(c) || c == '.'; }
bool ipv6_char(char c) { return hex(c) || c == ':'; }
bool email_char(char c) {
    return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-' || c == '@';
}
bool url_char(char c) {
    return c != ' ' && c != '\t' && c != '"' && c != '\'' && c != '<' && c != '>' && c != '\n' && c != '\r';
}
bool windows_path_char(char c) { return url_char(c) && c != '|' && c != '*' && c != '?'; }
bool domain_char(char c) { return alnum(c) || c == '.' || c == '-'; }
bool path_char(char c) {
    return alnum(c) || c == '.' || c == '_' || c == '~' || c == '@' || c == '%' || c == '+' || c == '-' || c == '/';
}
bool user_char(char c) {
    return alnum(c) || c == '.' || c == '_' || c == '@' || c == '$' || c == '\\' || c == '-';
}
bool process_char(char c) {
    return alnum(c) || c == '_' || c == '.' || c == '/' || c == '(' || c == ')' || c == '-';
}

/// Walks back from `end` while `allowed` holds; returns where the run starts.
template <class Pred>
std::size_t back(std::string_view text, std::size_t end, Pred allowed) {
    while (end > 0 && allowed(text[end - 1])) {
        --end;
    }
    return end;
}

bool valid_ip(int family, std::string_view s) {
    char buf[64];
    if (s.size() >= sizeof(buf)) {
        return false;
    }
    std::copy(s.begin(), s.end(), buf);
    buf[s.size()] = '\0';
    unsigned char out[16];
    return inet_pton(family, buf, out) == 1;
}

bool inside(const Entity& inner, const Entity& outer) {
    return inner.begin >= outer.begin && inner.end <= outer.end && &inner != &outer;
}

}  // namespace

std::string_view to_string(EntityType type) noexcept {
    switch (type) {
        case EntityType::Ipv4: return "ipv4";
        case EntityType::Ipv6: return "ipv6";
        case EntityType::Mac: return "mac";
        case EntityType::Email: return "email";
        case EntityType::Url: return "url";
        case EntityType::Domain: return "domain";
        case EntityType::UnixPath: return "unix_path";
        case EntityType::WindowsPath: return "windows_path";
        case EntityType::Md5: return "md5";
        case EntityType::Sha1: return "sha1";
        case EntityType::Sha256: return "sha256";
        case EntityType::Port: return "port";
        case EntityType::User: return "user";
        case EntityType::Process: return "process";
        case EntityType::Pid: return "pid";
        case EntityType::HttpMethod: return "http_method";
        case EntityType::HttpStatus: return "http_status";
    }
    return "unknown";
}

const Entity* Entities::first(EntityType type) const {
    for (const auto& e : items) {
        if (e.type == type) {
            return &e;
        }
    }
    return nullptr;
}

struct EntityExtractor::Impl {
    std::shared_ptr<const detail::HsDatabase> db;
};

EntityExtractor::EntityExtractor(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EntityExtractor::~EntityExtractor() = default;

core::Result<std::shared_ptr<const EntityExtractor>> EntityExtractor::create() {
    std::vector<detail::HsPattern> patterns;
    for (const auto& p : kPatterns) {
        const bool outcome = p.id == kOutcomeSuccess || p.id == kOutcomeFailure || p.id == kOutcomeUnknown;
        patterns.push_back({p.regex, p.id, p.caseless, false, outcome});
    }
    auto db = detail::HsDatabase::compile(patterns);
    if (!db) {
        return db.error();
    }
    auto impl = std::make_unique<Impl>();
    impl->db = std::move(*db);
    return std::shared_ptr<const EntityExtractor>(new EntityExtractor(std::move(impl)));
}

Entities EntityExtractor::extract(std::string_view text) const {
    Entities out;
    extract(text, out);
    return out;
}

void EntityExtractor::extract(std::string_view text, Entities& out) const {
    out.items.clear();
    out.outcome.clear();
    if (text.size() > kMaxScanBytes) {
        text = text.substr(0, kMaxScanBytes);
    }
    thread_local std::vector<RawMatch> raw;
    raw.clear();
    impl_->db->scan(text, collect, &raw);
    if (raw.empty()) {
        return;
    }
    bool outcome_seen[3] = {false, false, false};
    // The database runs without start-of-match (twice as fast): each match's start is found
    // by walking back from its end over the characters its pattern allows. A pattern with a
    // repeated tail reports every end; the longest one from the same start wins.
    std::array<int, kIdCount + 1> last{};  // per pattern (and the pid) its latest entity
    last.fill(-1);
    auto add = [&](unsigned id, EntityType type, std::size_t b, std::size_t e) {
        if (e <= b) {
            return;
        }
        int& prev = last[id];
        if (prev >= 0) {
            auto& p = out.items[static_cast<std::size_t>(prev)];
            if (p.type == type && p.begin == b) {
                p.end = e;
                p.value.assign(text.substr(b, e - b));
                return;
            }
            if (b < p.end) {
                return;
            }
        }
        if (out.items.size() < kMaxEntities) {
            prev = static_cast<int>(out.items.size());
            out.items.push_back({type, std::string(text.substr(b, e - b)), b, e});
        }
    };
    // Patterns with an open-ended tail report every end; only the end of the run counts.
    auto run_end = [&text](std::size_t to, auto allowed) { return to == text.size() || !allowed(text[to]); };
    for (const auto& m : raw) {
        std::size_t to = m.to;
        // These patterns end with the character after the entity, or at the end of the text,
        // so that each entity is reported once.
        const auto strip_terminator = [&](auto allowed) {
            if (to < text.size() || (to > 0 && !allowed(text[to - 1]))) --to;
        };
        switch (m.id) {
            case kEmail: strip_terminator(email_char); break;
            case kUrl: strip_terminator(url_char); break;
            case kUnixPath: strip_terminator(path_char); break;
            case kWindowsPath: strip_terminator(windows_path_char); break;
            case kUserWord: strip_terminator(user_char); break;
            case kDomain: strip_terminator(alnum); break;
            default: break;
        }
        switch (m.id) {
            case kIpv4: {
                const auto b = back(text, to, ipv4_char);
                const bool longer = to + 1 < text.size() && text[to] == '.' && is_digit(text[to + 1]);
                if (!longer && valid_ip(AF_INET, text.substr(b, to - b))) {
                    add(m.id, EntityType::Ipv4, b, to);
                    // "ip:port"
                    std::size_t e = to + 1;
                    while (e < text.size() && e - to <= 6 && is_digit(text[e])) ++e;
                    if (to < text.size() && text[to] == ':' && e > to + 1 && e - to <= 6 &&
                        (e == text.size() || !alnum(text[e])) && std::stoi(std::string(text.substr(to + 1, e - to - 1))) <= 65535) {
                        add(kPortWord, EntityType::Port, to + 1, e);
                    }
                }
                break;
            }
            case kIpv6: {
                const auto b = back(text, to, ipv6_char);
                const auto s6 = text.substr(b, to - b);
                const auto colons = std::count(s6.begin(), s6.end(), ':');
                if (s6.size() >= 3 && (s6.find("::") != std::string_view::npos || colons == 7) &&
                    valid_ip(AF_INET6, s6)) {
                    add(m.id, EntityType::Ipv6, b, to);
                }
                break;
            }
            case kMac: add(m.id, EntityType::Mac, to - 17, to); break;
            case kEmail: {
                if (!run_end(to, email_char)) break;
                const auto b = back(text, to, email_char);
                const auto at = text.find('@', b);
                if (at > b && at < to && text.find('@', at + 1) >= to) add(m.id, EntityType::Email, b, to);
                break;
            }
            case kUrl: {
                if (!run_end(to, url_char)) break;
                const auto token = back(text, to, url_char);
                const auto scheme_end = text.find("://", token);
                if (scheme_end != std::string_view::npos && scheme_end < to) {
                    add(m.id, EntityType::Url, back(text, scheme_end, alpha), to);
                }
                break;
            }
            case kDomain: {
                // A '.' after the name ends it only at the end of a sentence, not of a label.
                if (to < text.size() && text[to] == '.' && to + 1 < text.size() && alnum(text[to + 1])) break;
                auto b = back(text, to, domain_char);
                while (b < to && (text[b] == '.' || text[b] == '-')) ++b;
                add(m.id, EntityType::Domain, b, to);
                break;
            }
            case kUnixPath: {
                if (!run_end(to, path_char)) break;
                auto b = back(text, to, path_char);
                while (b < to && text[b] != '/') ++b;
                add(m.id, EntityType::UnixPath, b, to);
                break;
            }
            case kWindowsPath: {
                if (!run_end(to, windows_path_char)) break;
                const auto token = back(text, to, windows_path_char);
                const auto drive = text.find(":\\", token);
                if (drive != std::string_view::npos && drive > token && drive < to) {
                    add(m.id, EntityType::WindowsPath, drive - 1, to);
                }
                break;
            }
            case kHash: {
                const auto b = back(text, to, hex);
                const auto n = to - b;
                if (n == 32 || n == 40 || n == 64) {
                    add(m.id, n == 32 ? EntityType::Md5 : n == 40 ? EntityType::Sha1 : EntityType::Sha256, b, to);
                }
                break;
            }
            case kPortWord: {
                const auto b = back(text, to, is_digit);
                if (to - b <= 5 && std::stoi(std::string(text.substr(b, to - b))) <= 65535) {
                    add(m.id, EntityType::Port, b, to);
                }
                break;
            }
            case kUserWord: {
                if (!run_end(to, user_char)) break;
                const auto b = back(text, to, user_char);
                const auto name = text.substr(b, to - b);
                if (std::find(kNotUsers.begin(), kNotUsers.end(), name) == kNotUsers.end()) {
                    add(m.id, EntityType::User, b, to);
                }
                break;
            }
            case kForUserFrom: {
                const auto e = to - 5;  // before " from"
                const auto b = back(text, e, user_char);
                const auto name = text.substr(b, e - b);
                if (name != "invalid" && name != "illegal" &&
                    std::find(kNotUsers.begin(), kNotUsers.end(), name) == kNotUsers.end()) {
                    add(m.id, EntityType::User, b, e);
                }
                break;
            }
            case kProcessPid: {
                const auto open = back(text, to - 1, is_digit) - 1;  // the '['
                auto b = back(text, open, process_char);
                while (b < open && !alpha(text[b])) ++b;
                add(m.id, EntityType::Process, b, open);
                add(kIdCount, EntityType::Pid, open + 1, to - 1);
                break;
            }
            case kHttpMethod: {
                auto e = back(text, to, [](char c) { return c != ' '; });  // the path or URL start
                e = back(text, e, [](char c) { return c == ' '; });
                add(m.id, EntityType::HttpMethod, back(text, e, upper), e);
                break;
            }
            case kHttpStatusLine:
            case kStatusWord: add(m.id, EntityType::HttpStatus, to - 3, to); break;
            case kOutcomeSuccess: outcome_seen[0] = true; break;
            case kOutcomeFailure: outcome_seen[1] = true; break;
            case kOutcomeUnknown: outcome_seen[2] = true; break;
            default: break;
        }
    }
    out.outcome = outcome_seen[1] ? "failure" : outcome_seen[0] ? "success" : outcome_seen[2] ? "unknown" : "";

    // A domain or path inside a URL or e-mail address is part of it, not an entity of its own.
    std::vector<Entity> kept;
    kept.reserve(out.items.size());
    for (const auto& e : out.items) {
        bool contained = false;
        if (e.type == EntityType::Domain || e.type == EntityType::UnixPath) {
            for (const auto& o : out.items) {
                if ((o.type == EntityType::Url || o.type == EntityType::Email ||
                     (o.type == EntityType::WindowsPath && e.type == EntityType::UnixPath)) &&
                    inside(e, o)) {
                    contained = true;
                    break;
                }
            }
        }
        if (!contained) {
            kept.push_back(e);
        }
    }
    std::stable_sort(kept.begin(), kept.end(), [](const Entity& a, const Entity& b) { return a.begin < b.begin; });
    out.items = std::move(kept);
}

}  // namespace sai::parser
