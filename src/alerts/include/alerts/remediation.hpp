#pragma once
// Remediation and notifications: acting on an alert.
//
// Actions: block_ip (managed blocklist with expiry, optionally a configured
// command run through argv, never a shell), disable_user (internal account),
// webhook (Slack, PagerDuty Events v2 with the alert fingerprint as dedup_key,
// or generic JSON signed with HMAC-SHA256), and isolate_host / create_ticket,
// which are webhook templates. Playbooks are ordered actions from the config.
// Execution is asynchronous on a small worker pool: each webhook call has a
// timeout, retries with exponential backoff, and a circuit breaker per target.
// A dry run returns the plan and changes nothing. Every execution and its
// result go to the alert's history and to the audit log.
//
// Notifications: routes (by minimum severity, rule ids, tags) send new alerts
// to targets, at most `max_per_minute` per route; the rest are summarised in
// one digest message per route every `digest_interval`.

#include "alerts/alert_manager.hpp"
#include "core/circuit_breaker.hpp"
#include "core/error.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sai::alerts {

using core::CircuitBreaker;

struct WebhookTarget {
    enum class Kind { Slack, PagerDuty, Generic };
    std::string name;
    Kind kind = Kind::Generic;
    std::string url;
    std::string secret;  // generic: the HMAC key; pagerduty: the routing key; slack: unused
    std::chrono::milliseconds timeout{5000};
};

std::optional<WebhookTarget::Kind> parse_target_kind(std::string_view text) noexcept;

struct ActionSpec {
    std::string type;  // block_ip, disable_user, webhook, isolate_host, create_ticket
    std::map<std::string, std::string> params;
};

struct Playbook {
    std::string name;
    std::string description;
    std::vector<ActionSpec> actions;
};

struct NotificationRoute {
    std::string name;
    std::string target;
    model::Severity severity_min = model::Severity::High;
    std::vector<std::string> rules;  // empty: any
    std::vector<std::string> tags;   // empty: any
    int max_per_minute = 10;
    std::chrono::seconds digest_interval{300};
};

struct RemediationConfig {
    std::vector<WebhookTarget> targets;
    std::vector<Playbook> playbooks;
    std::vector<NotificationRoute> routes;
    std::vector<std::string> block_command;  // argv, "{ip}" replaced; empty: blocklist only
    std::chrono::minutes default_block_ttl{24 * 60};
    int max_attempts = 3;
    std::chrono::milliseconds backoff{500};  // before the 2nd attempt; doubled each time
    int breaker_threshold = 5;
    std::chrono::milliseconds breaker_cooldown{30'000};
    std::size_t queue_capacity = 1000;  // executions and notifications waiting
};

/// Reads [alerts.remediation], [[alerts.targets]], [[alerts.playbooks]] and
/// [[alerts.routes]] from a TOML file; errors name the table and key.
core::Result<RemediationConfig> load_remediation_config(const std::string& toml_file);
/// Checks references (playbook actions naming targets, routes naming targets, action types).
core::Result<void> validate(const RemediationConfig& config);

/// One HTTP POST: the response status (see core::HttpClient).
class HttpPoster {
public:
    virtual ~HttpPoster() = default;
    /// The response status; Timeout or Unavailable when no response came.
    virtual core::Result<int> post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body, std::chrono::milliseconds timeout) = 0;
};
/// Posts through core::make_http_client().
std::unique_ptr<HttpPoster> make_curl_poster();

/// The request a target gets for a message: headers and body. `kind` is
/// "notification", "digest" or an action type; `fields` are its parameters.
struct WebhookMessage {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};
WebhookMessage build_webhook(const WebhookTarget& target, std::string_view kind, const model::Alert* alert,
                             const std::map<std::string, std::string>& fields, std::int64_t now_ms);
/// "sha256=" + hex HMAC-SHA256 of "<timestamp>.<body>": the X-SecurityAI-Signature header.
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

struct PlannedAction {
    std::string type;
    std::string target;  // ip, username, webhook target name
    std::string description;
    std::map<std::string, std::string> params;
};

struct RemediationRequest {
    std::optional<std::string> playbook;
    std::optional<ActionSpec> action;
    bool dry_run = false;
};

struct RemediationPlan {
    std::string execution_id;
    std::string alert_id;
    std::string playbook;
    bool dry_run = false;
    std::vector<PlannedAction> actions;
};

struct TargetStatus {
    std::string name;
    std::string kind;
    CircuitBreaker::State breaker = CircuitBreaker::State::Closed;
    std::uint64_t sent = 0;
    std::uint64_t failed = 0;
};

/// Owned by the composition root; start() after construction, stop() drains.
/// Thread-safe.
class RemediationService {
public:
    /// Disables an internal account; NotFound when there is none.
    using DisableUser = std::function<core::Result<void>(const std::string& username, const std::string& actor)>;
    /// Writes one audit record (actor, action, target, outcome, detail).
    using Audit = std::function<void(const std::string&, const std::string&, const std::string&, const std::string&,
                                     const std::string&)>;
    using Clock = std::function<std::int64_t()>;  // Unix ms

    RemediationService(storage::AlertStore& store, AlertManager& alerts, RemediationConfig config,
                       std::unique_ptr<HttpPoster> poster, DisableUser disable_user, Audit audit, Clock clock = {});
    ~RemediationService();

    void start(int workers = 2);
    void stop();

    /// Validates and plans (NotFound: alert or playbook; InvalidArgument: bad
    /// parameters). A dry run stops there; otherwise the plan is queued and
    /// executed in the background (Unavailable when the queue is full).
    core::Result<RemediationPlan> remediate(const std::string& alert_id, const RemediationRequest& request,
                                            const std::string& actor);
    /// Notification routing for new alerts (an AlertManager listener).
    void on_alerts(const std::vector<AlertUpdate>& updates);
    /// Sends the pending digests now (also called every few seconds by the worker).
    void flush_digests();

    core::Result<std::vector<model::BlockedAddress>> blocklist();
    core::Result<void> unblock(const std::string& ip, const std::string& actor);
    const RemediationConfig& config() const;
    std::vector<TargetStatus> targets() const;
    /// Blocks until queued work is done (tests).
    void drain();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::alerts
