#include "model/alert.hpp"

#include "core/time.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

namespace sai::model {
namespace {

namespace bj = boost::json;

bj::value time_or_null(std::int64_t ms) { return ms == 0 ? bj::value(nullptr) : bj::value(core::format_rfc3339_ms(ms)); }

bj::array strings(const std::vector<std::string>& values) { return bj::array(values.begin(), values.end()); }

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
    for (const auto& v : from) {
        if (to.size() >= kMaxAlertEntities) {
            return;
        }
        if (!v.empty() && std::find(to.begin(), to.end(), v) == to.end()) {
            to.push_back(v);
        }
    }
}

bool names_entity(const Entities& e, std::string_view entity) {
    auto has = [&](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), entity) != v.end(); };
    return has(e.hosts) || has(e.users) || has(e.ips);
}

bool has_tag(const std::vector<std::string>& tags, std::string_view tag) {
    return std::any_of(tags.begin(), tags.end(), [&](const std::string& t) {
        return t.size() == tag.size() && std::equal(t.begin(), t.end(), tag.begin(), [](char a, char b) {
                   return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
               });
    });
}

template <class T>
bool suppression_matches(const Suppression& s, const std::string& rule_id, const std::vector<std::string>& tags,
                         const T& entities) {
    switch (s.scope) {
    case Suppression::Scope::Rule:
        if (rule_id != s.value) return false;
        break;
    case Suppression::Scope::Tag:
        if (!has_tag(tags, s.value)) return false;
        break;
    case Suppression::Scope::All: break;
    }
    return s.entity.empty() || names_entity(entities, s.entity);
}

}  // namespace

void Entities::merge(const Entities& other) {
    add_unique(hosts, other.hosts);
    add_unique(users, other.users);
    add_unique(ips, other.ips);
}

std::string_view to_string(AlertStatus status) noexcept {
    switch (status) {
    case AlertStatus::New: return "new";
    case AlertStatus::Acknowledged: return "acknowledged";
    case AlertStatus::Investigating: return "investigating";
    case AlertStatus::Resolved: return "resolved";
    case AlertStatus::FalsePositive: return "false_positive";
    }
    return "new";
}

std::optional<AlertStatus> parse_alert_status(std::string_view text) noexcept {
    for (auto s : {AlertStatus::New, AlertStatus::Acknowledged, AlertStatus::Investigating, AlertStatus::Resolved,
                   AlertStatus::FalsePositive}) {
        if (to_string(s) == text) {
            return s;
        }
    }
    return std::nullopt;
}

std::vector<AlertStatus> allowed_transitions(AlertStatus from) {
    using S = AlertStatus;
    switch (from) {
    case S::New: return {S::Acknowledged, S::Investigating, S::Resolved, S::FalsePositive};
    case S::Acknowledged: return {S::Investigating, S::Resolved, S::FalsePositive};
    case S::Investigating: return {S::Resolved, S::FalsePositive};
    case S::Resolved:
    case S::FalsePositive: return {S::New};
    }
    return {};
}

bool is_open(AlertStatus status) noexcept {
    return status == AlertStatus::New || status == AlertStatus::Acknowledged || status == AlertStatus::Investigating;
}

bool Suppression::matches(const Detection& d) const { return suppression_matches(*this, d.rule_id, d.tags, d.entities); }

bool Suppression::matches(const Alert& a) const { return suppression_matches(*this, a.rule_id, a.tags, a.entities); }

std::string_view to_string(Suppression::Scope scope) noexcept {
    switch (scope) {
    case Suppression::Scope::Rule: return "rule";
    case Suppression::Scope::Tag: return "tag";
    case Suppression::Scope::All: return "all";
    }
    return "rule";
}

std::optional<Suppression::Scope> parse_suppression_scope(std::string_view text) noexcept {
    if (text == "rule") return Suppression::Scope::Rule;
    if (text == "tag") return Suppression::Scope::Tag;
    if (text == "all") return Suppression::Scope::All;
    return std::nullopt;
}

namespace {

/// ATT&CK Enterprise tactic ids and their short names: a rule may tag a tactic either
/// way (`attack.ta0008`, `attack.lateral_movement`), and an alert should list it once.
std::string_view tactic_name(std::string_view id) noexcept {
    static constexpr std::pair<std::string_view, std::string_view> names[] = {
        {"ta0001", "initial-access"},       {"ta0002", "execution"},          {"ta0003", "persistence"},
        {"ta0004", "privilege-escalation"}, {"ta0005", "defense-evasion"},    {"ta0006", "credential-access"},
        {"ta0007", "discovery"},            {"ta0008", "lateral-movement"},   {"ta0009", "collection"},
        {"ta0010", "exfiltration"},         {"ta0011", "command-and-control"}, {"ta0040", "impact"},
        {"ta0042", "resource-development"}, {"ta0043", "reconnaissance"},
    };
    for (const auto& [tactic_id, name] : names) {
        if (tactic_id == id) {
            return name;
        }
    }
    return id;
}

}  // namespace

void attack_from_tags(std::span<const std::string> tags, std::vector<std::string>& tactics,
                      std::vector<std::string>& techniques) {
    for (const auto& raw : tags) {
        std::string tag = raw;
        std::transform(tag.begin(), tag.end(), tag.begin(), [](unsigned char c) { return std::tolower(c); });
        if (!tag.starts_with("attack.")) {
            continue;
        }
        std::string rest = tag.substr(7);
        if (rest.empty()) {
            continue;
        }
        const bool technique = rest.size() >= 5 && rest[0] == 't' && std::isdigit(static_cast<unsigned char>(rest[1]));
        if (technique) {
            std::transform(rest.begin(), rest.end(), rest.begin(), [](unsigned char c) { return std::toupper(c); });
            if (std::find(techniques.begin(), techniques.end(), rest) == techniques.end()) {
                techniques.push_back(rest);
            }
        } else if (!(rest.size() >= 2 && (rest[0] == 'g' || rest[0] == 's') &&
                     std::isdigit(static_cast<unsigned char>(rest[1])))) {
            // Groups (g0001) and software (s0002) are neither; the rest are tactics.
            std::replace(rest.begin(), rest.end(), '_', '-');
            rest = tactic_name(rest);
            if (std::find(tactics.begin(), tactics.end(), rest) == tactics.end()) {
                tactics.push_back(rest);
            }
        }
    }
}

double default_risk(Severity severity) noexcept {
    switch (severity) {
    case Severity::Info: return 10;
    case Severity::Low: return 25;
    case Severity::Medium: return 50;
    case Severity::High: return 75;
    case Severity::Critical: return 90;
    }
    return 50;
}

bj::object entities_to_json(const Entities& e) {
    return {{"hosts", strings(e.hosts)}, {"users", strings(e.users)}, {"ips", strings(e.ips)}};
}

bj::object alert_to_json(const Alert& a) {
    bj::array details;
    for (const auto& d : a.details) {
        boost::system::error_code ec;
        auto v = bj::parse(d, ec);
        if (!ec) {
            details.push_back(std::move(v));
        }
    }
    return {
        {"id", a.id},
        {"title", a.title},
        {"description", a.description},
        {"rule_id", a.rule_id},
        {"source", a.source},
        {"severity", to_string(a.severity)},
        {"risk", a.risk},
        {"status", to_string(a.status)},
        {"assignee", a.assignee.empty() ? bj::value(nullptr) : bj::value(a.assignee)},
        {"tactics", strings(a.tactics)},
        {"techniques", strings(a.techniques)},
        {"tags", strings(a.tags)},
        {"entities", entities_to_json(a.entities)},
        {"evidence", bj::object{{"event_ids", strings(a.event_ids)}, {"details", std::move(details)}}},
        {"fingerprint", a.fingerprint},
        {"count", a.count},
        {"first_seen", core::format_rfc3339_ms(a.first_seen)},
        {"last_seen", core::format_rfc3339_ms(a.last_seen)},
        {"created_at", core::format_rfc3339_ms(a.created_at)},
        {"updated_at", core::format_rfc3339_ms(a.updated_at)},
        {"verdict_reason", a.verdict_reason.empty() ? bj::value(nullptr) : bj::value(a.verdict_reason)},
    };
}

bj::object alert_change_to_json(const AlertChange& c) {
    return {{"at", core::format_rfc3339_ms(c.at)},
            {"actor", c.actor},
            {"action", c.action},
            {"from", c.from.empty() ? bj::value(nullptr) : bj::value(c.from)},
            {"to", c.to.empty() ? bj::value(nullptr) : bj::value(c.to)},
            {"comment", c.comment.empty() ? bj::value(nullptr) : bj::value(c.comment)}};
}

bj::object suppression_to_json(const Suppression& s) {
    return {{"id", s.id},
            {"scope", to_string(s.scope)},
            {"value", s.value.empty() ? bj::value(nullptr) : bj::value(s.value)},
            {"entity", s.entity.empty() ? bj::value(nullptr) : bj::value(s.entity)},
            {"reason", s.reason},
            {"expires_at", time_or_null(s.expires_at)},
            {"created_by", s.created_by},
            {"created_at", core::format_rfc3339_ms(s.created_at)},
            {"hits", s.hits}};
}

bj::object blocked_address_to_json(const BlockedAddress& b) {
    return {{"ip", b.ip},
            {"reason", b.reason},
            {"alert_id", b.alert_id.empty() ? bj::value(nullptr) : bj::value(b.alert_id)},
            {"created_by", b.created_by},
            {"created_at", core::format_rfc3339_ms(b.created_at)},
            {"expires_at", time_or_null(b.expires_at)}};
}

}  // namespace sai::model
