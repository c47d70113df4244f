#include "parser/entity_extractor.hpp"

#include "entity_scanner.hpp"

#include <algorithm>
#include <array>

namespace sai::parser {
namespace {

constexpr std::size_t kMaxScanBytes = 64 * 1024;
constexpr std::size_t kMaxMatches = 4096;
constexpr std::size_t kMaxEntities = 256;

/// An entity chosen, before its text is copied out.
struct Picked {
    EntityType type;
    std::size_t begin;
    std::size_t end;
    bool dropped;
};

bool inside(const Picked& inner, const Picked& outer) {
    return inner.begin >= outer.begin && inner.end <= outer.end && &inner != &outer;
}

// A domain or path inside a URL or e-mail address is part of it, not an entity of its own.
bool part_of_another(const Picked& e, const std::vector<Picked>& all) {
    if (e.type != EntityType::Domain && e.type != EntityType::UnixPath) {
        return false;
    }
    return std::any_of(all.begin(), all.end(), [&](const Picked& o) {
        return (o.type == EntityType::Url || o.type == EntityType::Email ||
                (o.type == EntityType::WindowsPath && e.type == EntityType::UnixPath)) &&
               inside(e, o);
    });
}

/// std::stable_sort allocates a buffer on every call; the few matches of a line are sorted
/// in place (they come nearly in order).
template <class T, class Less>
void stable_sort_small(std::vector<T>& v, Less less) {
    if (v.size() > 32) {
        std::stable_sort(v.begin(), v.end(), less);
        return;
    }
    for (std::size_t i = 1; i < v.size(); ++i) {
        T x = v[i];
        std::size_t j = i;
        for (; j > 0 && less(x, v[j - 1]); --j) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
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

core::Result<std::shared_ptr<const EntityExtractor>> EntityExtractor::create() {
    return std::shared_ptr<const EntityExtractor>(new EntityExtractor());
}

Entities EntityExtractor::extract(std::string_view text) const {
    Entities out;
    extract(text, out);
    return out;
}

void EntityExtractor::extract(std::string_view text, Entities& out) const {
    out.outcome.clear();
    if (text.size() > kMaxScanBytes) {
        text = text.substr(0, kMaxScanBytes);
    }
    thread_local std::vector<detail::ScanMatch> matches;
    matches.clear();
    detail::OutcomeWords words;
    detail::scan_entities(text, matches, kMaxMatches, words);
    out.outcome = words.failure ? "failure" : words.success ? "success" : words.unknown ? "unknown" : "";
    out.authentication = words.authentication;
    // In the order of the regular expressions' ends, each rule keeps a match only when it
    // does not overlap the rule's previous one; a longer one from the same start replaces it.
    stable_sort_small(matches, [](const detail::ScanMatch& a, const detail::ScanMatch& b) { return a.report < b.report; });
    thread_local std::vector<Picked> picked;
    picked.clear();
    std::array<int, static_cast<std::size_t>(detail::Rule::Count)> last{};
    last.fill(-1);
    for (const auto& m : matches) {
        if (m.end <= m.begin) {
            continue;
        }
        int& prev = last[static_cast<std::size_t>(m.rule)];
        if (prev >= 0) {
            auto& p = picked[static_cast<std::size_t>(prev)];
            if (p.type == m.type && p.begin == m.begin) {
                p.end = m.end;
                continue;
            }
            if (m.begin < p.end) {
                continue;
            }
        }
        if (picked.size() < kMaxEntities) {
            prev = static_cast<int>(picked.size());
            picked.push_back({m.type, m.begin, m.end, false});
        }
    }
    for (auto& p : picked) {
        p.dropped = part_of_another(p, picked);
    }
    std::erase_if(picked, [](const Picked& p) { return p.dropped; });
    stable_sort_small(picked, [](const Picked& a, const Picked& b) { return a.begin < b.begin; });
    // Assigned over the previous line's entities, so that their strings are reused.
    out.items.resize(picked.size());
    for (std::size_t i = 0; i < picked.size(); ++i) {
        auto& e = out.items[i];
        e.type = picked[i].type;
        e.value.assign(text.substr(picked[i].begin, picked[i].end - picked[i].begin));
        e.begin = picked[i].begin;
        e.end = picked[i].end;
    }
}

}  // namespace sai::parser
