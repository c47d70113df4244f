#include "parser/entity_extractor.hpp"

#include "address_finder.hpp"
#include "hs_database.hpp"
#include "text.hpp"

#include <algorithm>
#include <array>

namespace sai::parser {
namespace {

constexpr std::size_t kMaxScanBytes = 64 * 1024;
constexpr std::size_t kMaxRawMatches = 4096;
constexpr std::size_t kMaxEntities = 256;

// Hyperscan pattern ids for the keyword-anchored entities, then the address-like types
// (found by address_finder): each id is also the slot of its latest entity in extract().
enum Id : unsigned {
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
    kPatternCount,
    kIpv4 = kPatternCount,
    kIpv6,
    kMac,
    kEmail,
    kUrl,
    kDomain,
    kUnixPath,
    kWindowsPath,
    kHash,
    kIdCount,
};

struct PatternSpec {
    Id id;
    const char* regex;
    bool caseless;
};

// Keyword-anchored patterns, which may span tokens. The address-like entities, whose
// patterns cost Hyperscan 1,000-2,000 instructions each per line, are in address_finder.
constexpr std::array<PatternSpec, kPatternCount> kPatterns{{
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

unsigned address_slot(EntityType type) {
    switch (type) {
        case EntityType::Ipv4: return kIpv4;
        case EntityType::Port: return kPortWord;  // "ip:port" and "port 22" overlap-check each other
        case EntityType::Ipv6: return kIpv6;
        case EntityType::Mac: return kMac;
        case EntityType::Email: return kEmail;
        case EntityType::Url: return kUrl;
        case EntityType::Domain: return kDomain;
        case EntityType::UnixPath: return kUnixPath;
        case EntityType::WindowsPath: return kWindowsPath;
        default: return kHash;
    }
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
    thread_local std::vector<detail::AddressMatch> addresses;
    addresses.clear();
    detail::find_addresses(text, addresses, kMaxRawMatches);
    if (raw.empty() && addresses.empty()) {
        return;
    }
    // Each address scan is in order; together they are put in the order in which the one
    // Hyperscan database used to report them, so that overlaps resolve as they did.
    std::stable_sort(addresses.begin(), addresses.end(),
                     [](const detail::AddressMatch& a, const detail::AddressMatch& b) { return a.report < b.report; });
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
    auto next_address = addresses.begin();
    auto add_addresses_until = [&](std::size_t report) {
        for (; next_address != addresses.end() && next_address->report < report; ++next_address) {
            const auto& a = *next_address;
            add(address_slot(a.type), a.type, a.begin, a.end);
        }
    };
    // Patterns with an open-ended tail report every end; only the end of the run counts.
    auto run_end = [&text](std::size_t to, auto allowed) { return to == text.size() || !allowed(text[to]); };
    for (const auto& m : raw) {
        add_addresses_until(m.to);
        std::size_t to = m.to;
        switch (m.id) {
            case kPortWord: {
                const auto b = back(text, to, is_digit);
                if (to - b <= 5 && std::stoi(std::string(text.substr(b, to - b))) <= 65535) {
                    add(m.id, EntityType::Port, b, to);
                }
                break;
            }
            case kUserWord: {
                // It ends with the character after the name, or at the end of the text.
                if (to < text.size() || (to > 0 && !user_char(text[to - 1]))) --to;
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
    add_addresses_until(text.size() + 1);
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
