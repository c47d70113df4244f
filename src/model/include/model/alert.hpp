#pragma once
// Detections and the alerts they become. A Detection is what a judging stage
// (Sigma rules, the ML scorer, the graph) reports about one or more events; the
// alert manager deduplicates detections into Alerts that analysts triage.
//
// Workflow of an alert:
//   new -> acknowledged -> investigating -> resolved | false_positive
//   new and acknowledged may also go straight to resolved | false_positive;
//   resolved and false_positive reopen to new. Anything else is refused.

#include "model/severity.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sai::model {

inline constexpr std::size_t kMaxEvidenceEvents = 50;   // event ids kept per alert
inline constexpr std::size_t kMaxEvidenceDetails = 10;  // explanation objects kept per alert
inline constexpr std::size_t kMaxAlertEntities = 32;    // per kind (hosts, users, ips)

/// Hosts, users and addresses an alert or detection is about.
struct Entities {
    std::vector<std::string> hosts;
    std::vector<std::string> users;
    std::vector<std::string> ips;

    /// Adds values not present yet, up to kMaxAlertEntities per kind.
    void merge(const Entities& other);
    bool empty() const { return hosts.empty() && users.empty() && ips.empty(); }
};

/// One judgement about events, before deduplication.
struct Detection {
    std::string rule_id;  // Sigma rule id, "ml.anomaly", "graph.lateral_movement"...
    std::string title;
    std::string description;
    std::string source = "rule";  // rule, ml, graph, manual
    Severity severity = Severity::Medium;
    std::optional<double> risk;    // 0..100; derived from severity when absent
    std::vector<std::string> tags;  // Sigma style: attack.t1110.001, attack.credential_access, ...
    std::string group_key;  // entity part of the fingerprint; empty: derived from `entities`
    Entities entities;
    std::vector<std::string> event_ids;
    std::int64_t timestamp = 0;  // event time, Unix ms
    std::string explanation;     // JSON object text: matched selections, field values, scores ("" when none)
};

enum class AlertStatus { New, Acknowledged, Investigating, Resolved, FalsePositive };

std::string_view to_string(AlertStatus status) noexcept;
std::optional<AlertStatus> parse_alert_status(std::string_view text) noexcept;
/// The statuses `from` may move to (see the workflow above).
std::vector<AlertStatus> allowed_transitions(AlertStatus from);
bool is_open(AlertStatus status) noexcept;

struct Alert {
    std::string id;           // UUIDv7
    std::string fingerprint;  // hex SHA-256 of rule id + group key: equal fingerprints deduplicate
    std::string rule_id;
    std::string title;
    std::string description;
    std::string source = "rule";
    Severity severity = Severity::Medium;
    double risk = 0;  // 0..100
    AlertStatus status = AlertStatus::New;
    std::string assignee;
    std::vector<std::string> tactics;     // ATT&CK tactic short names: credential-access, ...
    std::vector<std::string> techniques;  // ATT&CK ids: T1110, T1110.001, ...
    std::vector<std::string> tags;
    Entities entities;
    std::vector<std::string> event_ids;  // newest kept, at most kMaxEvidenceEvents
    std::vector<std::string> details;    // explanation JSON objects, at most kMaxEvidenceDetails
    std::int64_t first_seen = 0;         // Unix ms (event time)
    std::int64_t last_seen = 0;
    std::int64_t count = 0;  // detections merged into this alert
    std::int64_t created_at = 0;
    std::int64_t updated_at = 0;
    std::string verdict_reason;  // with resolved / false_positive
};

/// One change of an alert: who, when, what, from, to, why.
struct AlertChange {
    std::string alert_id;
    std::int64_t at = 0;  // Unix ms
    std::string actor;    // username, API key name, or "system"
    std::string action;   // created, status, assigned, comment, remediation, updated
    std::string from;
    std::string to;
    std::string comment;
};

/// An exception as data: matching detections never become alerts.
struct Suppression {
    enum class Scope { Rule, Tag, All };
    std::string id;
    Scope scope = Scope::Rule;
    std::string value;  // the rule id or tag; empty for All
    std::string entity; // optional: only detections naming this host, user or IP
    std::string reason;
    std::int64_t expires_at = 0;  // Unix ms; 0 never
    std::string created_by;
    std::int64_t created_at = 0;
    std::int64_t hits = 0;  // detections dropped so far

    bool active(std::int64_t now_ms) const { return expires_at == 0 || expires_at > now_ms; }
    bool matches(const Detection& d) const;
    bool matches(const Alert& a) const;
};

std::string_view to_string(Suppression::Scope scope) noexcept;
std::optional<Suppression::Scope> parse_suppression_scope(std::string_view text) noexcept;

/// An address blocked by remediation; firewalls pull the list.
struct BlockedAddress {
    std::string ip;  // canonical
    std::string reason;
    std::string alert_id;
    std::string created_by;
    std::int64_t created_at = 0;
    std::int64_t expires_at = 0;  // Unix ms; 0 never
};

/// An analyst verdict turned into a training label for the threat classifier.
struct AlertLabel {
    std::string event_id;
    std::string alert_id;
    std::string label;  // benign, suspicious, malicious
    std::string verdict;
    std::int64_t at = 0;
};

/// Splits Sigma tags into ATT&CK tactics ("attack.credential_access" ->
/// "credential-access") and techniques ("attack.t1110.001" -> "T1110.001").
void attack_from_tags(std::span<const std::string> tags, std::vector<std::string>& tactics,
                      std::vector<std::string>& techniques);
/// The default risk of a severity: low 25, medium 50, high 75, critical 90.
double default_risk(Severity severity) noexcept;

boost::json::object entities_to_json(const Entities& e);
boost::json::object alert_to_json(const Alert& alert);
boost::json::object alert_change_to_json(const AlertChange& change);
boost::json::object suppression_to_json(const Suppression& s);
boost::json::object blocked_address_to_json(const BlockedAddress& b);

}  // namespace sai::model
