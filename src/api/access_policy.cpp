// The RBAC policy of the API, one line per route. Roles are ordered:
// viewer < analyst < admin, and a role may do everything the lower ones may.
//   viewer:  read dashboards, events, alerts, reports, metrics
//   analyst: + alert management, remediation, report generation, ingestion, search
//   admin:   everything, + training, users, API keys, rules, audit
// A route not listed here is admin-only. api_tests fails when a registered route
// is not listed, so every new route is a deliberate decision.

#include "api/access_policy.hpp"

#include <array>

namespace sai::api {
namespace {

using model::Role;

struct Rule {
    Method method;
    std::string_view pattern;
    Access access;
};

constexpr Access kPublic{.is_public = true, .min_role = Role::Viewer, .rate = RateClass::None, .audit = false};
constexpr Access kPublicLimited{.is_public = true, .min_role = Role::Viewer, .rate = RateClass::Api, .audit = false};

constexpr Access at_least(Role role, bool audit = true) {
    return Access{.is_public = false, .min_role = role, .rate = RateClass::Api, .audit = audit};
}

constexpr std::array kRules = {
    // System: health and documentation are public (probes and air-gapped docs).
    Rule{Method::Get, "/health", kPublic},
    Rule{Method::Get, "/openapi.json", kPublic},
    Rule{Method::Get, "/docs", kPublic},
    Rule{Method::Get, "/docs/assets/swagger-init.js", kPublic},
    Rule{Method::Get, "/docs/assets/swagger-ui.css", kPublic},
    Rule{Method::Get, "/docs/assets/swagger-ui-bundle.js", kPublic},
    Rule{Method::Get, "/docs/assets/favicon-32x32.png", kPublic},
    Rule{Method::Get, "/redoc", kPublic},
    Rule{Method::Get, "/redoc/assets/redoc.standalone.js", kPublic},
    // Prometheus scrapes with its own token or from allowed addresses (metrics.*),
    // checked by the handler: scrapers do not log in.
    Rule{Method::Get, "/metrics", kPublic},

    // Authentication: the service audits these itself.
    Rule{Method::Post, "/api/v1/auth/login", kPublicLimited},
    Rule{Method::Post, "/api/v1/auth/refresh", kPublicLimited},
    Rule{Method::Post, "/api/v1/auth/logout", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/auth/me", at_least(Role::Viewer)},

    // Accounts, machine credentials and the audit trail: admins only.
    Rule{Method::Get, "/api/v1/users", at_least(Role::Admin)},
    Rule{Method::Post, "/api/v1/users", at_least(Role::Admin, false)},
    Rule{Method::Get, "/api/v1/users/{id}", at_least(Role::Admin)},
    Rule{Method::Patch, "/api/v1/users/{id}", at_least(Role::Admin, false)},
    Rule{Method::Delete, "/api/v1/users/{id}", at_least(Role::Admin, false)},
    Rule{Method::Get, "/api/v1/api-keys", at_least(Role::Admin)},
    Rule{Method::Post, "/api/v1/api-keys", at_least(Role::Admin, false)},
    Rule{Method::Delete, "/api/v1/api-keys/{id}", at_least(Role::Admin, false)},
    Rule{Method::Get, "/api/v1/audit", at_least(Role::Admin)},
    Rule{Method::Get, "/api/v1/audit/verify", at_least(Role::Admin)},

    // Events. Ingestion is the data plane: rate limited as its own class and not
    // audited request by request (the events themselves are the record).
    Rule{Method::Post, "/api/v1/monitor/events",
         Access{.is_public = false, .min_role = Role::Analyst, .rate = RateClass::Ingest, .audit = false}},
    Rule{Method::Get, "/api/v1/monitor/events", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/monitor/events/{id}", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/monitor/status", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/monitor/metrics", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/monitor/ws", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/logs/templates", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/logs/templates/{id}", at_least(Role::Viewer)},

    // Alerts: viewers read; analysts triage, suppress and remediate (the
    // playbooks and targets themselves are configured by admins in the config file).
    Rule{Method::Get, "/api/v1/alerts", at_least(Role::Viewer)},
    Rule{Method::Post, "/api/v1/alerts", at_least(Role::Analyst)},
    Rule{Method::Get, "/api/v1/alerts/{id}", at_least(Role::Viewer)},
    Rule{Method::Put, "/api/v1/alerts/{id}/status", at_least(Role::Analyst)},
    Rule{Method::Post, "/api/v1/alerts/{id}/comments", at_least(Role::Analyst)},
    Rule{Method::Post, "/api/v1/alerts/{id}/remediate", at_least(Role::Analyst)},
    Rule{Method::Get, "/api/v1/suppressions", at_least(Role::Viewer)},
    Rule{Method::Post, "/api/v1/suppressions", at_least(Role::Analyst)},
    Rule{Method::Delete, "/api/v1/suppressions/{id}", at_least(Role::Analyst)},
    Rule{Method::Post, "/api/v1/suppressions/preview", at_least(Role::Analyst, false)},
    Rule{Method::Get, "/api/v1/blocklist", at_least(Role::Viewer, false)},
    Rule{Method::Delete, "/api/v1/blocklist/{ip}", at_least(Role::Analyst)},
    Rule{Method::Get, "/api/v1/playbooks", at_least(Role::Viewer)},

    // Detection rules: everyone reads them; analysts test them; admins change them.
    Rule{Method::Get, "/api/v1/rules", at_least(Role::Viewer)},
    Rule{Method::Post, "/api/v1/rules", at_least(Role::Admin)},
    Rule{Method::Get, "/api/v1/rules/stats", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/rules/{id}", at_least(Role::Viewer)},
    Rule{Method::Put, "/api/v1/rules/{id}", at_least(Role::Admin)},
    Rule{Method::Delete, "/api/v1/rules/{id}", at_least(Role::Admin)},
    Rule{Method::Post, "/api/v1/rules/test", at_least(Role::Analyst, false)},
    // Assets and graph views: viewers read; analysts maintain the inventory
    // (criticality and exposure steer the attack paths, so changes are audited).
    Rule{Method::Get, "/api/v1/assets", at_least(Role::Viewer, false)},
    Rule{Method::Post, "/api/v1/assets", at_least(Role::Analyst)},
    Rule{Method::Get, "/api/v1/assets/{id}", at_least(Role::Viewer, false)},
    Rule{Method::Patch, "/api/v1/assets/{id}", at_least(Role::Analyst)},
    Rule{Method::Delete, "/api/v1/assets/{id}", at_least(Role::Analyst)},
    Rule{Method::Get, "/api/v1/visualize/network-topology", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/visualize/threat-map", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/visualize/user-behavior", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/visualize/attack-paths", at_least(Role::Viewer, false)},

    // Metrics: dashboards for every role.
    Rule{Method::Get, "/api/v1/metrics", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/metrics/system", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/metrics/alerts", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/metrics/ml", at_least(Role::Viewer, false)},
    Rule{Method::Get, "/api/v1/metrics/drift", at_least(Role::Viewer, false)},

    // Machine learning: everyone sees the models; training and activation are admin work.
    Rule{Method::Post, "/api/v1/train", at_least(Role::Admin)},
    Rule{Method::Get, "/api/v1/train/status/{id}", at_least(Role::Admin, false)},
    Rule{Method::Get, "/api/v1/train/history", at_least(Role::Admin, false)},
    Rule{Method::Post, "/api/v1/train/{id}/cancel", at_least(Role::Admin)},
    Rule{Method::Get, "/api/v1/models", at_least(Role::Viewer)},
    Rule{Method::Post, "/api/v1/models/{id}/activate", at_least(Role::Admin)},

    // Reports: viewers list and download, analysts generate, admins delete.
    Rule{Method::Post, "/api/v1/reports/generate", at_least(Role::Analyst)},
    Rule{Method::Get, "/api/v1/reports", at_least(Role::Viewer)},
    Rule{Method::Get, "/api/v1/reports/{id}", at_least(Role::Viewer)},
    Rule{Method::Delete, "/api/v1/reports/{id}", at_least(Role::Admin)},
};

}  // namespace

Access access_for(Method method, std::string_view pattern, bool* listed) {
    for (const auto& rule : kRules) {
        if (rule.method == method && rule.pattern == pattern) {
            if (listed) {
                *listed = true;
            }
            return rule.access;
        }
    }
    if (listed) {
        *listed = false;
    }
    return at_least(Role::Admin);
}

}  // namespace sai::api
