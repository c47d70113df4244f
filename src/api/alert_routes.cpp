#include "api/alert_routes.hpp"

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "json_util.hpp"
#include "model/event.hpp"

#include <charconv>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

std::string actor_of(const Request& r) { return r.principal ? r.principal->name : "anonymous"; }

core::Result<storage::AlertQuery> parse_alert_query(const Request& r) {
    storage::AlertQuery q;
    auto limit = json::limit_param(r, 50, 500);
    if (!limit) return limit.error();
    q.limit = *limit;
    auto offset = json::offset_cursor(r);
    if (!offset) return offset.error();
    q.offset = *offset;
    if (auto text = r.query_param("status")) {
        std::string_view rest = *text;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto part = rest.substr(0, comma);
            auto s = model::parse_alert_status(part);
            if (!s) {
                return make_error(Errc::InvalidArgument,
                                  "status must be new, acknowledged, investigating, resolved or false_positive "
                                  "(comma-separated)");
            }
            q.statuses.push_back(*s);
            rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        }
    }
    // `severity_min` is the name the events filter and the reports use for the same thing.
    for (const char* name : {"severity", "severity_min"}) {
        if (auto text = r.query_param(name)) {
            auto s = model::parse_severity(*text);
            if (!s) return make_error(Errc::InvalidArgument, std::string(name) + " must be low, medium, high or critical");
            q.severity_min = std::max(q.severity_min.value_or(*s), *s);
        }
    }
    for (auto [name, field] : {std::pair{"rule", &q.rule_id}, std::pair{"host", &q.host}, std::pair{"user", &q.user},
                               std::pair{"ip", &q.ip}, std::pair{"assignee", &q.assignee},
                               std::pair{"tactic", &q.tactic}, std::pair{"technique", &q.technique},
                               std::pair{"q", &q.text}}) {
        if (auto v = r.query_param(name)) {
            if (v->size() > 256) return make_error(Errc::InvalidArgument, std::string(name) + " is longer than 256 bytes");
            *field = *v;
        }
    }
    auto from = json::time_param(r, "from");
    if (!from) return from.error();
    auto to = json::time_param(r, "to");
    if (!to) return to.error();
    q.from_ms = *from;
    q.to_ms = *to;
    if (auto sort = r.query_param("sort")) {
        std::string_view s = *sort;
        q.descending = s.starts_with('-');
        if (q.descending) s.remove_prefix(1);
        using S = storage::AlertQuery::Sort;
        if (s == "last_seen") q.sort = S::LastSeen;
        else if (s == "first_seen") q.sort = S::FirstSeen;
        else if (s == "severity") q.sort = S::Severity;
        else if (s == "risk") q.sort = S::Risk;
        else if (s == "count") q.sort = S::Count;
        else return make_error(Errc::InvalidArgument, "sort must be last_seen, first_seen, severity, risk or count, "
                                                      "with a leading '-' for descending");
    }
    return q;
}

core::Result<model::Entities> parse_entities(const bj::object& body) {
    model::Entities e;
    auto it = body.find("entities");
    if (it == body.end() || it->value().is_null()) return e;
    if (!it->value().is_object()) return make_error(Errc::InvalidArgument, "entities must be an object");
    const auto& o = it->value().get_object();
    if (auto r = json::only_fields(o, {"hosts", "users", "ips"}); !r) return r.error();
    auto hosts = json::string_list(o, "hosts", model::kMaxAlertEntities);
    auto users = json::string_list(o, "users", model::kMaxAlertEntities);
    auto ips = json::string_list(o, "ips", model::kMaxAlertEntities);
    if (!hosts) return hosts.error();
    if (!users) return users.error();
    if (!ips) return ips.error();
    e.hosts = *hosts;
    e.users = *users;
    for (const auto& ip : *ips) {
        auto c = model::canonical_ip(ip);
        if (!c) return make_error(Errc::InvalidArgument, "entities.ips: '" + ip + "' is not an IP address");
        e.ips.push_back(*c);
    }
    return e;
}

core::Result<model::Suppression> parse_suppression(const bj::object& body, bool need_reason) {
    if (auto r = json::only_fields(body, {"scope", "value", "entity", "reason", "expires_at", "days"}); !r) {
        return r.error();
    }
    model::Suppression s;
    auto scope = json::required_string(body, "scope", 16);
    if (!scope) return scope.error();
    auto parsed = model::parse_suppression_scope(*scope);
    if (!parsed) return make_error(Errc::InvalidArgument, "scope must be rule, tag or all");
    s.scope = *parsed;
    auto value = json::optional_string(body, "value", 256);
    auto entity = json::optional_string(body, "entity", 256);
    auto reason = json::optional_string(body, "reason", 1024);
    auto expires = json::optional_string(body, "expires_at", 64);
    if (!value) return value.error();
    if (!entity) return entity.error();
    if (!reason) return reason.error();
    if (!expires) return expires.error();
    s.value = value->value_or("");
    s.entity = entity->value_or("");
    s.reason = reason->value_or("");
    if (s.scope != model::Suppression::Scope::All && s.value.empty()) {
        return make_error(Errc::InvalidArgument, "value: the rule id or tag to suppress is required");
    }
    if (s.scope == model::Suppression::Scope::All && !s.value.empty()) {
        return make_error(Errc::InvalidArgument, "value must be empty when scope is all");
    }
    if (need_reason && s.reason.empty()) {
        return make_error(Errc::InvalidArgument, "reason: say why these detections are not worth an alert");
    }
    if (*expires) {
        auto t = core::parse_rfc3339_ms(**expires);
        if (!t) return make_error(Errc::InvalidArgument, "expires_at must be an RFC 3339 time");
        s.expires_at = *t;
        if (s.expires_at <= core::now_unix_ms()) return make_error(Errc::InvalidArgument, "expires_at is in the past");
    }
    return s;
}

bj::array plan_actions_json(const alerts::RemediationPlan& plan) {
    bj::array actions;
    for (const auto& a : plan.actions) {
        bj::object params;
        for (const auto& [k, v] : a.params) params[k] = v;
        actions.push_back(bj::object{{"type", a.type}, {"target", a.target}, {"description", a.description},
                                     {"params", std::move(params)}});
    }
    return actions;
}

}  // namespace

void add_alert_routes(Router& router, AlertServices& services) {
    router.add(Method::Get, "/api/v1/alerts", [&services](Request& r) {
        auto q = parse_alert_query(r);
        if (!q) return error_response(r, q.error());
        const std::size_t limit = q->limit;
        q->limit = limit + 1;
        auto rows = services.store.alerts().query(*q);
        if (!rows) return error_response(r, rows.error());
        const bool more = rows->size() > limit;
        if (more) rows->pop_back();
        bj::array items;
        for (const auto& a : *rows) items.push_back(model::alert_to_json(a));
        bj::value next = nullptr;
        if (more) next = json::offset_next_cursor(q->offset + limit);
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", next}});
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/alerts", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        if (auto ok = json::only_fields(*body, {"title", "description", "severity", "risk", "tags", "entities", "event_ids"});
            !ok) {
            return error_response(r, ok.error());
        }
        model::Detection d;
        auto title = json::required_string(*body, "title", 512);
        auto description = json::optional_string(*body, "description", 8192);
        auto severity = json::optional_string(*body, "severity", 16);
        auto tags = json::string_list(*body, "tags", 64, 128);
        auto event_ids = json::string_list(*body, "event_ids", model::kMaxEvidenceEvents, 64);
        auto entities = parse_entities(*body);
        if (!title) return error_response(r, title.error());
        if (!description) return error_response(r, description.error());
        if (!severity) return error_response(r, severity.error());
        if (!tags) return error_response(r, tags.error());
        if (!event_ids) return error_response(r, event_ids.error());
        if (!entities) return error_response(r, entities.error());
        d.title = *title;
        d.description = description->value_or("");
        if (*severity) {
            auto s = model::parse_severity(**severity);
            if (!s) return error_response(r, make_error(Errc::InvalidArgument, "severity must be low, medium, high or critical"));
            d.severity = *s;
        }
        if (auto it = body->find("risk"); it != body->end() && !it->value().is_null()) {
            if (!it->value().is_number() || it->value().to_number<double>() < 0 || it->value().to_number<double>() > 100) {
                return error_response(r, make_error(Errc::InvalidArgument, "risk must be a number from 0 to 100"));
            }
            d.risk = it->value().to_number<double>();
        }
        d.tags = *tags;
        d.event_ids = *event_ids;
        d.entities = *entities;
        auto alert = services.manager.create_manual(std::move(d), actor_of(r));
        if (!alert) return error_response(r, alert.error());
        Response res = json::ok(201, model::alert_to_json(*alert));
        res.set_header("Location", "/api/v1/alerts/" + alert->id);
        return res;
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/alerts/{id}", [&services](Request& r) {
        auto alert = services.store.alerts().get(r.param("id"));
        if (!alert) return error_response(r, alert.error());
        auto history = services.store.alerts().history(alert->id);
        if (!history) return error_response(r, history.error());
        bj::object out = model::alert_to_json(*alert);
        bj::array changes;
        for (const auto& c : *history) changes.push_back(model::alert_change_to_json(c));
        out["history"] = std::move(changes);
        // The evidence inline: the events still stored (retention may have removed some).
        bj::array events;
        for (const auto& id : alert->event_ids) {
            if (auto e = services.store.events().get(id)) events.push_back(model::event_to_json(*e));
        }
        out.at("evidence").as_object()["events"] = std::move(events);
        return json::ok(200, out);
    }, {.blocking = true});

    router.add(Method::Put, "/api/v1/alerts/{id}/status", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        if (auto ok = json::only_fields(*body, {"status", "comment", "assignee"}); !ok) return error_response(r, ok.error());
        auto status = json::required_string(*body, "status", 32);
        auto comment = json::optional_string(*body, "comment", 4096);
        auto assignee = json::optional_string(*body, "assignee", 64);
        if (!status) return error_response(r, status.error());
        if (!comment) return error_response(r, comment.error());
        if (!assignee) return error_response(r, assignee.error());
        auto to = model::parse_alert_status(*status);
        if (!to) {
            return error_response(r, make_error(Errc::Unprocessable,
                                                "unknown status '" + status->substr(0, 32) +
                                                    "'; use new, acknowledged, investigating, resolved or false_positive"));
        }
        auto alert = services.manager.change_status(std::string(r.param("id")),
                                                    {*to, comment->value_or(""), *assignee}, actor_of(r));
        if (!alert) return error_response(r, alert.error());
        return json::ok(200, model::alert_to_json(*alert));
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/alerts/{id}/comments", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        if (auto ok = json::only_fields(*body, {"comment"}); !ok) return error_response(r, ok.error());
        auto comment = json::required_string(*body, "comment", 4096);
        if (!comment) return error_response(r, comment.error());
        if (comment->empty()) return error_response(r, make_error(Errc::InvalidArgument, "comment is empty"));
        auto change = services.manager.comment(std::string(r.param("id")), *comment, actor_of(r));
        if (!change) return error_response(r, change.error());
        return json::ok(201, model::alert_change_to_json(*change));
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/alerts/{id}/remediate", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        if (auto ok = json::only_fields(*body, {"playbook", "action", "params", "dry_run"}); !ok) {
            return error_response(r, ok.error());
        }
        alerts::RemediationRequest req;
        auto playbook = json::optional_string(*body, "playbook", 128);
        auto action = json::optional_string(*body, "action", 64);
        auto dry_run = json::optional_bool(*body, "dry_run");
        if (!playbook) return error_response(r, playbook.error());
        if (!action) return error_response(r, action.error());
        if (!dry_run) return error_response(r, dry_run.error());
        if (playbook->has_value() == action->has_value()) {
            return error_response(r, make_error(Errc::InvalidArgument, "give exactly one of playbook and action"));
        }
        req.playbook = *playbook;
        req.dry_run = dry_run->value_or(false);
        if (*action) {
            alerts::ActionSpec spec{**action, {}};
            if (auto it = body->find("params"); it != body->end() && !it->value().is_null()) {
                if (!it->value().is_object() || it->value().get_object().size() > 16) {
                    return error_response(r, make_error(Errc::InvalidArgument, "params must be an object of strings"));
                }
                for (const auto& kv : it->value().get_object()) {
                    if (kv.value().is_string() && kv.value().get_string().size() <= 1024) {
                        spec.params[std::string(kv.key())] = std::string(kv.value().get_string());
                    } else if (kv.value().is_int64()) {
                        spec.params[std::string(kv.key())] = std::to_string(kv.value().get_int64());
                    } else {
                        return error_response(r, make_error(Errc::InvalidArgument,
                                                            "params." + std::string(kv.key().substr(0, 64)) +
                                                                " must be a string or an integer"));
                    }
                }
            }
            req.action = std::move(spec);
        }
        auto plan = services.remediation.remediate(std::string(r.param("id")), req, actor_of(r));
        if (!plan) return error_response(r, plan.error());
        bj::object out{{"execution_id", plan->execution_id},
                       {"alert_id", plan->alert_id},
                       {"playbook", plan->playbook.empty() ? bj::value(nullptr) : bj::value(plan->playbook)},
                       {"dry_run", plan->dry_run},
                       {"status", plan->dry_run ? "planned" : "running"},
                       {"actions", plan_actions_json(*plan)}};
        return json::ok(plan->dry_run ? 200 : 202, out);
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/suppressions", [&services](Request& r) {
        auto all = services.manager.suppressions();
        if (!all) return error_response(r, all.error());
        bj::array items;
        const auto now = core::now_unix_ms();
        for (const auto& s : *all) {
            auto o = model::suppression_to_json(s);
            o["active"] = s.active(now);
            items.push_back(std::move(o));
        }
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/suppressions", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        if (body->contains("days")) {
            return error_response(r, make_error(Errc::InvalidArgument, "days belongs to /suppressions/preview"));
        }
        auto s = parse_suppression(*body, true);
        if (!s) return error_response(r, s.error());
        s->created_by = actor_of(r);
        auto added = services.manager.add_suppression(std::move(*s));
        if (!added) return error_response(r, added.error());
        Response res = json::ok(201, model::suppression_to_json(*added));
        res.set_header("Location", "/api/v1/suppressions/" + added->id);
        return res;
    }, {.blocking = true});

    router.add(Method::Delete, "/api/v1/suppressions/{id}", [&services](Request& r) {
        if (auto done = services.manager.delete_suppression(std::string(r.param("id"))); !done) {
            return error_response(r, done.error());
        }
        return no_content();
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/suppressions/preview", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        int days = 7;
        if (auto it = body->find("days"); it != body->end()) {
            if (!it->value().is_int64() || it->value().get_int64() < 1 || it->value().get_int64() > 365) {
                return error_response(r, make_error(Errc::InvalidArgument, "days must be an integer from 1 to 365"));
            }
            days = static_cast<int>(it->value().get_int64());
        }
        auto s = parse_suppression(*body, false);
        if (!s) return error_response(r, s.error());
        auto preview = services.manager.preview(*s, days);
        if (!preview) return error_response(r, preview.error());
        return json::ok(200, bj::object{{"days", days},
                                        {"alerts", preview->alerts},
                                        {"detections", preview->detections},
                                        {"sample_alert_ids", bj::array(preview->sample_ids.begin(), preview->sample_ids.end())}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/blocklist", [&services](Request& r) {
        auto list = services.remediation.blocklist();
        if (!list) return error_response(r, list.error());
        const auto format = r.query_param("format").value_or("json");
        if (format == "text") {
            // For firewalls that pull a plain list: one address per line.
            std::string text;
            for (const auto& b : *list) text += b.ip + "\n";
            Response res;
            res.content_type = "text/plain; charset=utf-8";
            res.body = std::move(text);
            return res;
        }
        if (format != "json") return error_response(r, make_error(Errc::InvalidArgument, "format must be json or text"));
        bj::array items;
        for (const auto& b : *list) items.push_back(model::blocked_address_to_json(b));
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
    }, {.blocking = true});

    router.add(Method::Delete, "/api/v1/blocklist/{ip}", [&services](Request& r) {
        if (auto done = services.remediation.unblock(std::string(r.param("ip")), actor_of(r)); !done) {
            return error_response(r, done.error());
        }
        return no_content();
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/playbooks", [&services](Request& r) {
        const auto& config = services.remediation.config();
        bj::array playbooks;
        for (const auto& p : config.playbooks) {
            bj::array actions;
            for (const auto& a : p.actions) {
                bj::object params;
                for (const auto& [k, v] : a.params) params[k] = v;
                actions.push_back(bj::object{{"type", a.type}, {"params", std::move(params)}});
            }
            playbooks.push_back(bj::object{{"name", p.name}, {"description", p.description}, {"actions", std::move(actions)}});
        }
        bj::array targets;
        for (const auto& t : services.remediation.targets()) {
            targets.push_back(bj::object{{"name", t.name}, {"kind", t.kind}, {"breaker", core::to_string(t.breaker)},
                                         {"sent", t.sent}, {"failed", t.failed}});
        }
        return json::ok(200, bj::object{{"playbooks", std::move(playbooks)},
                                        {"targets", std::move(targets)},
                                        {"actions", bj::array{"block_ip", "disable_user", "webhook", "isolate_host",
                                                              "create_ticket"}}});
    });
}

}  // namespace sai::api
