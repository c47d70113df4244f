// [alerts.remediation], [[alerts.targets]], [[alerts.playbooks]], [[alerts.routes]]
// from the TOML configuration file (see docs/alerts.md for an example).

#include "alerts/remediation.hpp"
#include "core/config.hpp"

#include <toml++/toml.h>

namespace sai::alerts {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

core::Error bad(const std::string& where, const std::string& why) {
    return make_error(Errc::InvalidArgument, where + ": " + why);
}

/// A scalar as text (params of actions accept strings, numbers and booleans).
std::optional<std::string> scalar_text(const toml::node& n) {
    if (auto s = n.as_string()) return s->get();
    if (auto i = n.as_integer()) return std::to_string(i->get());
    if (auto b = n.as_boolean()) return std::string(b->get() ? "true" : "false");
    return std::nullopt;
}

Result<std::string> string_key(const toml::table& t, const char* key, const std::string& where, bool required) {
    const auto* n = t.get(key);
    if (!n) {
        if (required) return bad(where, std::string("'") + key + "' is required");
        return std::string();
    }
    if (!n->is_string()) return bad(where + "." + key, "must be a string");
    return n->as_string()->get();
}

Result<std::int64_t> int_key(const toml::table& t, const char* key, const std::string& where, std::int64_t fallback,
                             std::int64_t min, std::int64_t max) {
    const auto* n = t.get(key);
    if (!n) return fallback;
    if (!n->is_integer()) return bad(where + "." + key, "must be an integer");
    const auto v = n->as_integer()->get();
    if (v < min || v > max) {
        return bad(where + "." + key, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return v;
}

Result<std::vector<std::string>> strings_key(const toml::table& t, const char* key, const std::string& where) {
    std::vector<std::string> out;
    const auto* n = t.get(key);
    if (!n) return out;
    const auto* a = n->as_array();
    if (!a) return bad(where + "." + key, "must be an array of strings");
    for (const auto& item : *a) {
        if (!item.is_string()) return bad(where + "." + key, "must be an array of strings");
        out.push_back(item.as_string()->get());
    }
    return out;
}

Result<void> only_keys(const toml::table& t, std::initializer_list<std::string_view> allowed, const std::string& where) {
    for (const auto& [k, v] : t) {
        if (std::find(allowed.begin(), allowed.end(), k.str()) == allowed.end()) {
            return bad(where, "unknown key '" + std::string(k.str()) + "'");
        }
    }
    return {};
}

#define SAI_TRY_ASSIGN(var, expr)          \
    auto var##_r = (expr);                 \
    if (!var##_r) return var##_r.error(); \
    auto var = std::move(*var##_r)

Result<WebhookTarget> parse_target(const toml::table& t, std::size_t index) {
    std::string where = "alerts.targets[" + std::to_string(index) + "]";
    if (auto r = only_keys(t, {"name", "kind", "url", "secret", "secret_env", "timeout_ms"}, where); !r) return r.error();
    WebhookTarget out;
    SAI_TRY_ASSIGN(name, string_key(t, "name", where, true));
    out.name = name;
    where = "alerts.targets." + name;
    SAI_TRY_ASSIGN(kind, string_key(t, "kind", where, false));
    auto k = parse_target_kind(kind.empty() ? "generic" : kind);
    if (!k) return bad(where + ".kind", "must be slack, pagerduty or generic");
    out.kind = *k;
    SAI_TRY_ASSIGN(url, string_key(t, "url", where, true));
    out.url = url;
    SAI_TRY_ASSIGN(secret, string_key(t, "secret", where, false));
    SAI_TRY_ASSIGN(secret_env, string_key(t, "secret_env", where, false));
    if (!secret_env.empty()) {
        auto v = core::process_env(secret_env);
        if (!v) return bad(where + ".secret_env", "environment variable " + secret_env + " is not set");
        secret = *v;
    }
    out.secret = secret;
    SAI_TRY_ASSIGN(timeout, int_key(t, "timeout_ms", where, 5000, 100, 60'000));
    out.timeout = std::chrono::milliseconds(timeout);
    return out;
}

Result<Playbook> parse_playbook(const toml::table& t, std::size_t index) {
    std::string where = "alerts.playbooks[" + std::to_string(index) + "]";
    if (auto r = only_keys(t, {"name", "description", "actions"}, where); !r) return r.error();
    Playbook p;
    SAI_TRY_ASSIGN(name, string_key(t, "name", where, true));
    p.name = name;
    where = "alerts.playbooks." + name;
    SAI_TRY_ASSIGN(description, string_key(t, "description", where, false));
    p.description = description;
    const auto* actions = t.get_as<toml::array>("actions");
    if (!actions || !actions->is_array_of_tables()) return bad(where + ".actions", "must be an array of tables");
    for (const auto& node : *actions) {
        const auto& a = *node.as_table();
        ActionSpec spec;
        for (const auto& [k, v] : a) {
            auto text = scalar_text(v);
            if (!text) return bad(where + ".actions." + std::string(k.str()), "must be a string, number or boolean");
            if (k.str() == "type") {
                spec.type = *text;
            } else {
                spec.params[std::string(k.str())] = *text;
            }
        }
        if (spec.type.empty()) return bad(where + ".actions", "each action needs a type");
        p.actions.push_back(std::move(spec));
    }
    return p;
}

Result<NotificationRoute> parse_route(const toml::table& t, std::size_t index) {
    std::string where = "alerts.routes[" + std::to_string(index) + "]";
    if (auto r = only_keys(t, {"name", "target", "severity_min", "rules", "tags", "max_per_minute", "digest_seconds"},
                           where);
        !r) {
        return r.error();
    }
    NotificationRoute route;
    SAI_TRY_ASSIGN(name, string_key(t, "name", where, false));
    route.name = name.empty() ? "route-" + std::to_string(index) : name;
    where = "alerts.routes." + route.name;
    SAI_TRY_ASSIGN(target, string_key(t, "target", where, true));
    route.target = target;
    SAI_TRY_ASSIGN(severity, string_key(t, "severity_min", where, false));
    if (!severity.empty()) {
        auto s = model::parse_severity(severity);
        if (!s) return bad(where + ".severity_min", "must be low, medium, high or critical");
        route.severity_min = *s;
    }
    SAI_TRY_ASSIGN(rules, strings_key(t, "rules", where));
    route.rules = rules;
    SAI_TRY_ASSIGN(tags, strings_key(t, "tags", where));
    route.tags = tags;
    SAI_TRY_ASSIGN(per_minute, int_key(t, "max_per_minute", where, 10, 0, 10'000));
    route.max_per_minute = static_cast<int>(per_minute);
    SAI_TRY_ASSIGN(digest, int_key(t, "digest_seconds", where, 300, 10, 86'400));
    route.digest_interval = std::chrono::seconds(digest);
    return route;
}

}  // namespace

Result<RemediationConfig> load_remediation_config(const std::string& file) {
    RemediationConfig c;
    toml::table root;
    try {
        root = toml::parse_file(file);
    } catch (const toml::parse_error& e) {
        return bad("config file " + file, std::string(e.description()));
    }
    const auto* alerts = root.get_as<toml::table>("alerts");
    if (!alerts) return c;
    if (const auto* r = alerts->get("remediation")) {
        const auto* t = r->as_table();
        if (!t) return bad("alerts.remediation", "must be a table");
        if (auto ok = only_keys(*t, {"block_command", "default_block_ttl_minutes", "max_attempts", "backoff_ms",
                                     "breaker_threshold", "breaker_cooldown_ms", "queue_capacity"},
                                "alerts.remediation");
            !ok) {
            return ok.error();
        }
        SAI_TRY_ASSIGN(command, strings_key(*t, "block_command", "alerts.remediation"));
        c.block_command = command;
        SAI_TRY_ASSIGN(ttl, int_key(*t, "default_block_ttl_minutes", "alerts.remediation", 1440, 0, 525600));
        c.default_block_ttl = std::chrono::minutes(ttl);
        SAI_TRY_ASSIGN(attempts, int_key(*t, "max_attempts", "alerts.remediation", 3, 1, 10));
        c.max_attempts = static_cast<int>(attempts);
        SAI_TRY_ASSIGN(backoff, int_key(*t, "backoff_ms", "alerts.remediation", 500, 10, 60'000));
        c.backoff = std::chrono::milliseconds(backoff);
        SAI_TRY_ASSIGN(threshold, int_key(*t, "breaker_threshold", "alerts.remediation", 5, 1, 1000));
        c.breaker_threshold = static_cast<int>(threshold);
        SAI_TRY_ASSIGN(cooldown, int_key(*t, "breaker_cooldown_ms", "alerts.remediation", 30'000, 100, 3'600'000));
        c.breaker_cooldown = std::chrono::milliseconds(cooldown);
        SAI_TRY_ASSIGN(capacity, int_key(*t, "queue_capacity", "alerts.remediation", 1000, 1, 1'000'000));
        c.queue_capacity = static_cast<std::size_t>(capacity);
    }
    auto tables = [&](const char* key) -> const toml::array* { return alerts->get_as<toml::array>(key); };
    for (const char* key : {"targets", "playbooks", "routes"}) {
        const auto* n = alerts->get(key);
        if (n && (!n->is_array() || !n->as_array()->is_array_of_tables())) {
            return bad(std::string("alerts.") + key, "must be an array of tables ([[alerts." + std::string(key) + "]])");
        }
    }
    if (const auto* a = tables("targets")) {
        for (std::size_t i = 0; i < a->size(); ++i) {
            SAI_TRY_ASSIGN(t, parse_target(*a->get(i)->as_table(), i));
            c.targets.push_back(std::move(t));
        }
    }
    if (const auto* a = tables("playbooks")) {
        for (std::size_t i = 0; i < a->size(); ++i) {
            SAI_TRY_ASSIGN(p, parse_playbook(*a->get(i)->as_table(), i));
            c.playbooks.push_back(std::move(p));
        }
    }
    if (const auto* a = tables("routes")) {
        for (std::size_t i = 0; i < a->size(); ++i) {
            SAI_TRY_ASSIGN(r, parse_route(*a->get(i)->as_table(), i));
            c.routes.push_back(std::move(r));
        }
    }
    if (auto v = validate(c); !v) return v.error();
    return c;
}

}  // namespace sai::alerts
