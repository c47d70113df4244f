#include "parser/entity_extractor.hpp"

#include "entity_scanner.hpp"

#include <algorithm>
#include <array>

namespace sai::parser {
namespace {

constexpr std::size_t kMaxScanBytes = 64 * 1024;
constexpr std::size_t kMaxMatches = 4096;
constexpr std::size_t kMaxEntities = 256;

bool inside(const Entity& inner, const Entity& outer) {
    return inner.begin >= outer.begin && inner.end <= outer.end && &inner != &outer;
}

// A domain or path inside a URL or e-mail address is part of it, not an entity of its own.
bool part_of_another(const Entity& e, const std::vector<Entity>& all) {
    if (e.type != EntityType::Domain && e.type != EntityType::UnixPath) {
        return false;
    }
    return std::any_of(all.begin(), all.end(), [&](const Entity& o) {
        return (o.type == EntityType::Url || o.type == EntityType::Email ||
                (o.type == EntityType::WindowsPath && e.type == EntityType::UnixPath)) &&
               inside(e, o);
    });
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
    out.items.clear();
    out.outcome.clear();
    if (text.size() > kMaxScanBytes) {
        text = text.substr(0, kMaxScanBytes);
    }
    thread_local std::vector<detail::ScanMatch> matches;
    matches.clear();
    detail::OutcomeWords words;
    detail::scan_entities(text, matches, kMaxMatches, words);
    out.outcome = words.failure ? "failure" : words.success ? "success" : words.unknown ? "unknown" : "";
    if (matches.empty()) {
        return;
    }
    // In the order of the regular expressions' ends, each rule keeps a match only when it
    // does not overlap the rule's previous one; a longer one from the same start replaces it.
    std::stable_sort(matches.begin(), matches.end(),
                     [](const detail::ScanMatch& a, const detail::ScanMatch& b) { return a.report < b.report; });
    std::array<int, static_cast<std::size_t>(detail::Rule::Count)> last{};
    last.fill(-1);
    for (const auto& m : matches) {
        if (m.end <= m.begin) {
            continue;
        }
        int& prev = last[static_cast<std::size_t>(m.rule)];
        if (prev >= 0) {
            auto& p = out.items[static_cast<std::size_t>(prev)];
            if (p.type == m.type && p.begin == m.begin) {
                p.end = m.end;
                p.value.assign(text.substr(m.begin, m.end - m.begin));
                continue;
            }
            if (m.begin < p.end) {
                continue;
            }
        }
        if (out.items.size() < kMaxEntities) {
            prev = static_cast<int>(out.items.size());
            out.items.push_back({m.type, std::string(text.substr(m.begin, m.end - m.begin)), m.begin, m.end});
        }
    }
    thread_local std::vector<char> dropped;
    dropped.assign(out.items.size(), 0);
    for (std::size_t i = 0; i < out.items.size(); ++i) {
        dropped[i] = part_of_another(out.items[i], out.items);
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < out.items.size(); ++i) {
        if (!dropped[i]) {
            if (kept != i) out.items[kept] = std::move(out.items[i]);
            ++kept;
        }
    }
    out.items.resize(kept);
    std::stable_sort(out.items.begin(), out.items.end(),
                     [](const Entity& a, const Entity& b) { return a.begin < b.begin; });
}

}  // namespace sai::parser
