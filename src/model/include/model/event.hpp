#pragma once
// The security event: ECS-compatible field names (so Sigma rules and Elastic
// tooling map directly), plus the fields later stages derive.
//
// JSON input accepts three forms, mixed freely:
//   nested  {"source": {"ip": "10.0.0.5", "port": 22}}
//   dotted  {"source.ip": "10.0.0.5"}
//   flat    the seed's {"event_type", "source_ip", "destination_ip", "user", "host",
//           "bytes_transferred", "login_attempts", "duration", "severity", "message", "timestamp"}
// Unknown fields are kept, by dotted path, in `extra` (a JSON object), never dropped.

#include "core/error.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::model {

inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;
inline constexpr std::size_t kMaxFieldBytes = 4096;
inline constexpr std::size_t kMaxLabels = 64;
inline constexpr std::size_t kMaxExtraBytes = 64 * 1024;  // room for a PowerShell script block (4104)
inline constexpr std::size_t kMaxEntityTypes = 32;
inline constexpr std::size_t kMaxEntityValues = 64;  // per type

struct Event {
    std::string id;                // UUIDv7; assigned when absent; a client id makes ingestion idempotent
    std::int64_t timestamp = 0;    // @timestamp, Unix milliseconds
    std::int64_t ingested = 0;     // event.ingested, Unix milliseconds
    std::string kind;              // event.kind
    std::string category;          // event.category
    std::string type;              // event.type
    std::string action;            // event.action
    std::string outcome;           // event.outcome: success, failure, unknown
    std::optional<std::int64_t> severity;  // event.severity: 0 info .. 4 critical
    std::string dataset;           // event.dataset
    std::optional<std::int64_t> duration_ns;  // event.duration
    std::string message;
    std::string log_level;         // log.level
    std::string host_name;         // host.name
    std::string host_ip;           // host.ip
    std::string source_ip;
    std::optional<std::int64_t> source_port;
    std::optional<std::int64_t> source_bytes;
    std::string destination_ip;
    std::optional<std::int64_t> destination_port;
    std::optional<std::int64_t> destination_bytes;
    std::string network_transport;
    std::string network_protocol;
    std::optional<std::int64_t> network_bytes;
    std::string user_name;         // user.name
    std::string process_name;
    std::optional<std::int64_t> process_pid;
    std::string url_original;
    std::string file_path;
    std::map<std::string, std::string> labels;
    std::string extra;             // JSON object text of unknown fields ("" when none)

    // Derived by later stages.
    std::string template_id;       // log.template_id
    std::string log_template;      // log.template
    std::optional<double> anomaly_score;  // ml.anomaly_score, 0..1
    std::string threat_class;      // ml.threat_class
    std::optional<double> ml_confidence;  // ml.confidence
    std::string ml_explanation;           // ml.explanation: top features, "name=+0.42, other=-0.10"
    std::map<std::string, std::vector<std::string>> entities;  // entities: type (ipv4, user, url...) -> values
    std::vector<std::string> rule_ids;    // rule.ids
    std::optional<double> risk;
};

/// Maps one JSON object to an Event. `now_ms` fills event.ingested and, when
/// absent, @timestamp. InvalidArgument names the offending field.
core::Result<Event> event_from_json(const boost::json::object& object, std::int64_t now_ms);

/// Gives an event built in code (syslog, files) what every stored event has: an
/// id (UUIDv7), event.ingested and @timestamp (the ingest time when unset).
void ensure_identity(Event& event, std::int64_t now_ms);

/// Calls `visit(path, text)` for every set field of the typed ECS part (not `extra`),
/// by dotted path, numbers as decimal text; labels as "labels.<key>", rule.ids one call each.
void visit_fields(const Event& event, const std::function<void(std::string_view, std::string_view)>& visit);

/// Canonical nested ECS JSON of an event (only the fields that are set).
boost::json::object event_to_json(const Event& event);
std::string event_to_json_text(const Event& event);

/// Checks an IP literal (v4 or v6) and returns its canonical text; nullopt when invalid.
std::optional<std::string> canonical_ip(std::string_view text);

/// 32 hex characters of the 16-byte form (IPv4 mapped into IPv6), which sorts
/// numerically as text; used for CIDR range queries. Empty when invalid.
std::string ip_sort_key(std::string_view ip);

/// "10.0.0.0/8" → the inclusive [low, high] of ip_sort_key; nullopt when malformed.
/// A plain address is a /32 (or /128).
std::optional<std::pair<std::string, std::string>> cidr_range(std::string_view cidr);

}  // namespace sai::model
