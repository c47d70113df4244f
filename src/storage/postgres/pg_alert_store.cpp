#include "pg_stores.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

namespace sai::storage::pg {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kAlertColumns =
    "id, fingerprint, rule_id, title, description, source, severity, risk, status, assignee, tactics, techniques, "
    "tags, entities, event_ids, details, first_seen, last_seen, count, created_at, updated_at, verdict_reason";


model::Alert read_alert(const Rows& r, int i) {
    model::Alert a;
    a.id = r.str(i, 0);
    a.fingerprint = r.str(i, 1);
    a.rule_id = r.str(i, 2);
    a.title = r.str(i, 3);
    a.description = r.str(i, 4);
    a.source = r.str(i, 5);
    a.severity = static_cast<model::Severity>(std::clamp<std::int64_t>(r.i64(i, 6), 0, 4));
    a.risk = r.f64(i, 7);
    a.status = model::parse_alert_status(r.str(i, 8)).value_or(model::AlertStatus::New);
    a.assignee = r.null(i, 9) ? std::string() : r.str(i, 9);
    a.tactics = strings_from_json_array(r.str(i, 10));
    a.techniques = strings_from_json_array(r.str(i, 11));
    a.tags = strings_from_json_array(r.str(i, 12));
    const auto entities = parse_json_or_null(r.str(i, 13));
    if (entities.is_object()) {
        a.entities.hosts = strings_from(entities.get_object().if_contains("hosts"));
        a.entities.users = strings_from(entities.get_object().if_contains("users"));
        a.entities.ips = strings_from(entities.get_object().if_contains("ips"));
    }
    a.event_ids = strings_from_json_array(r.str(i, 14));
    const auto details = parse_json_or_null(r.str(i, 15));
    if (details.is_array()) {
        for (const auto& d : details.get_array()) a.details.push_back(model::to_json_text(d));
    }
    a.first_seen = r.i64(i, 16);
    a.last_seen = r.i64(i, 17);
    a.count = r.i64(i, 18);
    a.created_at = r.i64(i, 19);
    a.updated_at = r.i64(i, 20);
    a.verdict_reason = r.null(i, 21) ? std::string() : r.str(i, 21);
    return a;
}

Result<std::vector<model::Alert>> read_alerts(const Result<Rows>& r) {
    if (!r) return r.error();
    std::vector<model::Alert> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_alert(*r, i));
    return out;
}

Result<model::Alert> one_alert(const Result<Rows>& r) {
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "alert not found");
    return read_alert(*r, 0);
}

/// "INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c, ..." for every column but the key.
std::string upsert_sql(std::string_view table, std::string_view columns, std::string_view key) {
    std::string placeholders;
    std::string sets;
    std::size_t n = 0;
    std::size_t start = 0;
    while (start < columns.size()) {
        auto end = columns.find(',', start);
        if (end == std::string_view::npos) end = columns.size();
        std::string_view col = columns.substr(start, end - start);
        while (!col.empty() && col.front() == ' ') col.remove_prefix(1);
        ++n;
        placeholders += (n > 1 ? ", $" : "$") + std::to_string(n);
        if (col != key) {
            sets += (sets.empty() ? "" : ", ") + std::string(col) + " = excluded." + std::string(col);
        }
        start = end + 1;
    }
    return "INSERT INTO " + std::string(table) + " (" + std::string(columns) + ") VALUES (" + placeholders +
           ") ON CONFLICT (" + std::string(key) + ") DO UPDATE SET " + sets;
}

model::Entities storable_entities(const model::Entities& e) {
    model::Entities out = e;
    for (auto* list : {&out.hosts, &out.users, &out.ips}) {
        for (auto& v : *list) v = storable(v);
    }
    return out;
}

}  // namespace

std::string upsert_statement(std::string_view table, std::string_view columns, std::string_view key) {
    return upsert_sql(table, columns, key);
}

Result<void> PgAlertStore::save(std::span<const model::Alert> alerts, std::span<const model::AlertChange> changes) {
    if (alerts.empty() && changes.empty()) return {};
    static const std::string kUpsert = upsert_sql("alerts", kAlertColumns, "id");
    return db_.pool.with([&](Conn& c) -> Result<void> {
        return transaction(c, [&]() -> Result<void> {
            for (const auto& a : alerts) {
                bj::array details;
                for (const auto& d : a.details) {
                    auto v = parse_json_or_null(d);
                    if (!v.is_null()) details.push_back(std::move(v));
                }
                // Alerts carry text from events: stored as PostgreSQL can hold it.
                auto r = c.query(kUpsert,
                                 {a.id, storable(a.fingerprint), storable(a.rule_id), storable(a.title),
                                  storable(a.description), storable(a.source), static_cast<int>(a.severity), a.risk,
                                  model::to_string(a.status), text_or_null(storable(a.assignee)),
                                  storable(json_string_array(a.tactics)), storable(json_string_array(a.techniques)),
                                  storable(json_string_array(a.tags)),
                                  model::to_json_text(model::entities_to_json(storable_entities(a.entities))),
                                  storable(json_string_array(a.event_ids)), storable(model::to_json_text(details)),
                                  a.first_seen, a.last_seen, a.count, a.created_at, a.updated_at,
                                  text_or_null(storable(a.verdict_reason))});
                if (!r) return r.error();
            }
            for (const auto& ch : changes) {
                auto r = c.query("INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value, comment) "
                                 "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                                 {ch.alert_id, ch.at, storable(ch.actor), storable(ch.action),
                                  text_or_null(storable(ch.from)), text_or_null(storable(ch.to)),
                                  text_or_null(storable(ch.comment))});
                if (!r) return r.error();
            }
            return {};
        });
    });
}

Result<model::Alert> PgAlertStore::get(std::string_view id) {
    return one_alert(run(db_, "SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE id = $1", {id}));
}

Result<model::Alert> PgAlertStore::find_open(std::string_view fingerprint, std::int64_t since_ms) {
    return one_alert(run(db_,
                         "SELECT " + std::string(kAlertColumns) +
                             " FROM alerts WHERE fingerprint = $1 AND last_seen >= $2 AND status IN "
                             "('new', 'acknowledged', 'investigating') ORDER BY last_seen DESC LIMIT 1",
                         {fingerprint, since_ms}));
}

Result<std::vector<model::Alert>> PgAlertStore::query(const AlertQuery& q) {
    std::string sql = "SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE true";
    Params args;
    // `clause` holds one '$' where the new parameter's number goes.
    auto arg = [&](std::string clause, P value) {
        args.push_back(std::move(value));
        clause.replace(clause.find('$'), 1, "$" + std::to_string(args.size()));
        sql += " AND " + clause;
    };
    if (!q.statuses.empty()) {
        sql += " AND status IN (";
        for (std::size_t i = 0; i < q.statuses.size(); ++i) {
            args.emplace_back(model::to_string(q.statuses[i]));
            sql += (i ? ", $" : "$") + std::to_string(args.size());
        }
        sql += ")";
    }
    if (q.severity_min) arg("severity >= $", static_cast<int>(*q.severity_min));
    if (q.rule_id) arg("rule_id = $", *q.rule_id);
    if (q.assignee) arg("assignee = $", *q.assignee);
    if (q.host) arg("entities -> 'hosts' ? $", *q.host);
    if (q.user) arg("entities -> 'users' ? $", *q.user);
    if (q.ip) arg("entities -> 'ips' ? $", *q.ip);
    if (q.tactic) arg("tactics ? $", *q.tactic);
    if (q.technique) arg("techniques ? $", *q.technique);
    if (q.from_ms) arg("last_seen >= $", *q.from_ms);
    if (q.to_ms) arg("first_seen < $", *q.to_ms);
    if (q.text) arg("strpos(lower(title || ' ' || description), lower($)) > 0", *q.text);
    const char* column = sort_column(q.sort);
    const char* dir = q.descending ? " DESC" : " ASC";
    args.emplace_back(q.limit);
    sql += std::string(" ORDER BY ") + column + dir + ", id" + dir + " LIMIT $" + std::to_string(args.size());
    args.emplace_back(q.offset);
    sql += " OFFSET $" + std::to_string(args.size());
    return read_alerts(run(db_, sql, args));
}

Result<std::vector<model::AlertChange>> PgAlertStore::history(std::string_view alert_id) {
    auto r = run(db_,
                 "SELECT alert_id, at, actor, action, coalesce(from_value, ''), coalesce(to_value, ''), "
                 "coalesce(comment, '') FROM alert_history WHERE alert_id = $1 ORDER BY seq LIMIT 10000",
                 {alert_id});
    if (!r) return r.error();
    std::vector<model::AlertChange> out;
    for (int i = 0; i < r->size(); ++i) {
        out.push_back({r->str(i, 0), r->i64(i, 1), r->str(i, 2), r->str(i, 3), r->str(i, 4), r->str(i, 5), r->str(i, 6)});
    }
    return out;
}

Result<std::vector<std::pair<std::string, std::int64_t>>> PgAlertStore::count_by_status() {
    auto r = run(db_, "SELECT status, count(*) FROM alerts GROUP BY status ORDER BY status");
    if (!r) return r.error();
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (int i = 0; i < r->size(); ++i) out.emplace_back(r->str(i, 0), r->i64(i, 1));
    return out;
}

Result<std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>>>
PgAlertStore::count_by_severity_and_status() {
    auto r = run(db_, "SELECT severity, status, count(*) FROM alerts GROUP BY 1, 2 ORDER BY 1, 2");
    if (!r) return r.error();
    std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>> out;
    for (int i = 0; i < r->size(); ++i) {
        const auto sev = static_cast<model::Severity>(std::clamp<std::int64_t>(r->i64(i, 0), 0, 4));
        out.push_back({{std::string(model::to_string(sev)), r->str(i, 1)}, r->i64(i, 2)});
    }
    return out;
}

Result<AlertSummary> PgAlertStore::summary(std::int64_t from_ms, std::int64_t to_ms) {
    return db_.pool.with([&](Conn& c) -> Result<AlertSummary> {
        AlertSummary out;
        auto each = [&](const std::string& sql, auto&& row) -> Result<void> {
            auto r = c.query(sql, {from_ms, to_ms});
            if (!r) return r.error();
            for (int i = 0; i < r->size(); ++i) row(*r, i);
            return {};
        };
        const std::string range = " first_seen >= $1 AND first_seen < $2 ";
        if (auto r = each("SELECT to_char(to_timestamp(first_seen / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), severity, "
                          "count(*) FROM alerts WHERE" + range + "GROUP BY 1, 2 ORDER BY 1",
                          [&](const Rows& s, int i) {
                              const std::string day = s.str(i, 0);
                              if (out.per_day.empty() || out.per_day.back().day != day) out.per_day.push_back({day});
                              auto& d = out.per_day.back();
                              const auto n = s.i64(i, 2);
                              switch (s.i64(i, 1)) {
                              case 0:
                              case 1: d.low += n; break;
                              case 2: d.medium += n; break;
                              case 3: d.high += n; break;
                              default: d.critical += n; break;
                              }
                              out.alerts += n;
                          });
            !r) {
            return r.error();
        }
        if (auto r = each("SELECT status, count(*) FROM alerts WHERE" + range + "GROUP BY 1 ORDER BY 2 DESC, 1",
                          [&](const Rows& s, int i) { out.by_status.emplace_back(s.str(i, 0), s.i64(i, 1)); });
            !r) {
            return r.error();
        }
        if (auto r = each("SELECT rule_id, max(title), count(*), sum(count) FROM alerts WHERE" + range +
                              "GROUP BY 1 ORDER BY 3 DESC, 4 DESC, 1 LIMIT 10",
                          [&](const Rows& s, int i) {
                              out.top_rules.push_back({s.str(i, 0), s.str(i, 1), s.i64(i, 2), s.i64(i, 3)});
                          });
            !r) {
            return r.error();
        }
        for (auto [key, list] : {std::pair{"hosts", &out.top_hosts}, std::pair{"users", &out.top_users}}) {
            const std::string sql = std::string("SELECT j.value, count(*), sum(a.count) FROM alerts a, "
                                                "jsonb_array_elements_text(a.entities -> '") +
                                    key + "') j WHERE a.first_seen >= $1 AND a.first_seen < $2 "
                                          "GROUP BY 1 ORDER BY 2 DESC, 3 DESC, 1 LIMIT 10";
            if (auto r = each(sql, [&, l = list](const Rows& s, int i) {
                    l->push_back({s.str(i, 0), "", s.i64(i, 1), s.i64(i, 2)});
                });
                !r) {
                return r.error();
            }
        }
        if (auto r = each("SELECT j.value, count(*) FROM alerts a, jsonb_array_elements_text(a.tactics) j "
                          "WHERE a.first_seen >= $1 AND a.first_seen < $2 GROUP BY 1 ORDER BY 2 DESC, 1",
                          [&](const Rows& s, int i) { out.tactics.emplace_back(s.str(i, 0), s.i64(i, 1)); });
            !r) {
            return r.error();
        }
        for (auto [to_values, target] : {std::pair{"", &out.mtta_seconds},
                                         std::pair{" AND h.to_value IN ('resolved', 'false_positive')", &out.mttr_seconds}}) {
            const std::string sql =
                std::string("SELECT avg(t - created_at) / 1000.0 FROM (SELECT a.created_at, (SELECT min(h.at) FROM "
                            "alert_history h WHERE h.alert_id = a.id AND h.action = 'status'") +
                to_values + ") AS t FROM alerts a WHERE a.created_at >= $1 AND a.created_at < $2) x WHERE t IS NOT NULL";
            if (auto r = each(sql, [&, t = target](const Rows& s, int i) {
                    if (!s.null(i, 0)) *t = s.f64(i, 0);
                });
                !r) {
                return r.error();
            }
        }
        return out;
    });
}

Result<void> PgAlertStore::add_suppression(const model::Suppression& x) {
    auto r = run(db_,
                 "INSERT INTO suppressions (id, scope, value, entity, reason, expires_at, created_by, created_at, hits) "
                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                 {x.id, model::to_string(x.scope), x.value, x.entity, x.reason, x.expires_at, x.created_by,
                  x.created_at, x.hits});
    if (!r) return r.error();
    return {};
}

Result<std::vector<model::Suppression>> PgAlertStore::suppressions() {
    auto r = run(db_,
                 "SELECT id, scope, value, entity, reason, expires_at, created_by, created_at, hits "
                 "FROM suppressions ORDER BY created_at, id");
    if (!r) return r.error();
    std::vector<model::Suppression> out;
    for (int i = 0; i < r->size(); ++i) {
        model::Suppression x;
        x.id = r->str(i, 0);
        x.scope = model::parse_suppression_scope(r->str(i, 1)).value_or(model::Suppression::Scope::Rule);
        x.value = r->str(i, 2);
        x.entity = r->str(i, 3);
        x.reason = r->str(i, 4);
        x.expires_at = r->i64(i, 5);
        x.created_by = r->str(i, 6);
        x.created_at = r->i64(i, 7);
        x.hits = r->i64(i, 8);
        out.push_back(std::move(x));
    }
    return out;
}

Result<void> PgAlertStore::delete_suppression(std::string_view id) {
    return exec_one(db_, "DELETE FROM suppressions WHERE id = $1", {id}, "suppression");
}

Result<void> PgAlertStore::add_suppression_hits(std::span<const std::pair<std::string, std::int64_t>> hits) {
    if (hits.empty()) return {};
    return db_.pool.with([&](Conn& c) -> Result<void> {
        return transaction(c, [&]() -> Result<void> {
            for (const auto& [id, n] : hits) {
                auto r = c.query("UPDATE suppressions SET hits = hits + $2 WHERE id = $1", {id, n});
                if (!r) return r.error();
            }
            return {};
        });
    });
}

Result<void> PgAlertStore::block(const model::BlockedAddress& b) {
    // A permanent block (0) always wins; otherwise the later expiry.
    auto r = run(db_,
                 "INSERT INTO blocklist (ip, reason, alert_id, created_by, created_at, expires_at) "
                 "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ip) DO UPDATE SET reason = excluded.reason, "
                 "alert_id = excluded.alert_id, created_by = excluded.created_by, "
                 "expires_at = CASE WHEN blocklist.expires_at = 0 OR excluded.expires_at = 0 THEN 0 "
                 "ELSE greatest(blocklist.expires_at, excluded.expires_at) END",
                 {b.ip, b.reason, b.alert_id, b.created_by, b.created_at, b.expires_at});
    if (!r) return r.error();
    return {};
}

Result<void> PgAlertStore::unblock(std::string_view ip) {
    auto r = run(db_, "DELETE FROM blocklist WHERE ip = $1", {ip});
    if (!r) return r.error();
    if (r->affected() == 0) return make_error(Errc::NotFound, "address is not on the blocklist");
    return {};
}

Result<std::vector<model::BlockedAddress>> PgAlertStore::blocklist(std::int64_t now_ms) {
    auto r = run(db_,
                 "SELECT ip, reason, alert_id, created_by, created_at, expires_at FROM blocklist "
                 "WHERE expires_at = 0 OR expires_at > $1 ORDER BY ip LIMIT 100000",
                 {now_ms});
    if (!r) return r.error();
    std::vector<model::BlockedAddress> out;
    for (int i = 0; i < r->size(); ++i) {
        out.push_back({r->str(i, 0), r->str(i, 1), r->str(i, 2), r->str(i, 3), r->i64(i, 4), r->i64(i, 5)});
    }
    return out;
}

Result<void> PgAlertStore::add_labels(std::span<const model::AlertLabel> labels) {
    if (labels.empty()) return {};
    return db_.pool.with([&](Conn& c) -> Result<void> {
        return transaction(c, [&]() -> Result<void> {
            for (const auto& l : labels) {
                auto r = c.query("INSERT INTO alert_labels (event_id, alert_id, label, verdict, at) "
                                 "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id, alert_id) DO UPDATE SET "
                                 "label = excluded.label, verdict = excluded.verdict, at = excluded.at",
                                 {storable(l.event_id), l.alert_id, storable(l.label), storable(l.verdict), l.at});
                if (!r) return r.error();
            }
            return {};
        });
    });
}

Result<std::vector<model::AlertLabel>> PgAlertStore::labels(std::int64_t since_ms, std::size_t limit) {
    auto r = run(db_,
                 "SELECT event_id, alert_id, label, verdict, at FROM alert_labels WHERE at >= $1 ORDER BY at LIMIT $2",
                 {since_ms, limit});
    if (!r) return r.error();
    std::vector<model::AlertLabel> out;
    for (int i = 0; i < r->size(); ++i) {
        out.push_back({r->str(i, 0), r->str(i, 1), r->str(i, 2), r->str(i, 3), r->i64(i, 4)});
    }
    return out;
}

}  // namespace sai::storage::pg
