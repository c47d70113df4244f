#include "sqlite_alert_store.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

namespace sai::storage::sqlite {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kAlertColumns =
    "id, fingerprint, rule_id, title, description, source, severity, risk, status, assignee, tactics, techniques, "
    "tags, entities, event_ids, details, first_seen, last_seen, count, created_at, updated_at, verdict_reason";


model::Alert read_alert(sqlite3_stmt* s) {
    model::Alert a;
    a.id = column_text(s, 0);
    a.fingerprint = column_text(s, 1);
    a.rule_id = column_text(s, 2);
    a.title = column_text(s, 3);
    a.description = column_text(s, 4);
    a.source = column_text(s, 5);
    a.severity = static_cast<model::Severity>(std::clamp<int>(sqlite3_column_int(s, 6), 0, 4));
    a.risk = sqlite3_column_double(s, 7);
    a.status = model::parse_alert_status(column_text(s, 8)).value_or(model::AlertStatus::New);
    a.assignee = column_text(s, 9);
    a.tactics = strings_from_json_array(column_text(s, 10));
    a.techniques = strings_from_json_array(column_text(s, 11));
    a.tags = strings_from_json_array(column_text(s, 12));
    const auto entities = parse_json_or_null(column_text(s, 13));
    if (entities.is_object()) {
        a.entities.hosts = strings_from(entities.get_object().if_contains("hosts"));
        a.entities.users = strings_from(entities.get_object().if_contains("users"));
        a.entities.ips = strings_from(entities.get_object().if_contains("ips"));
    }
    a.event_ids = strings_from_json_array(column_text(s, 14));
    const auto details = parse_json_or_null(column_text(s, 15));
    if (details.is_array()) {
        for (const auto& d : details.get_array()) a.details.push_back(model::to_json_text(d));
    }
    a.first_seen = sqlite3_column_int64(s, 16);
    a.last_seen = sqlite3_column_int64(s, 17);
    a.count = sqlite3_column_int64(s, 18);
    a.created_at = sqlite3_column_int64(s, 19);
    a.updated_at = sqlite3_column_int64(s, 20);
    a.verdict_reason = column_text(s, 21);
    return a;
}

Result<std::vector<model::Alert>> collect_alerts(sqlite3* db, sqlite3_stmt* s) {
    std::vector<model::Alert> out;
    for (;;) {
        const int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return error_from(db, "read alerts");
        out.push_back(read_alert(s));
    }
}

Result<model::Alert> one_alert(sqlite3* db, sqlite3_stmt* s) {
    switch (sqlite3_step(s)) {
    case SQLITE_ROW: return read_alert(s);
    case SQLITE_DONE: return make_error(Errc::NotFound, "alert not found");
    default: return error_from(db, "read alert");
    }
}

}  // namespace

Result<void> SqliteAlertStore::save(std::span<const model::Alert> alerts, std::span<const model::AlertChange> changes) {
    if (alerts.empty() && changes.empty()) return {};
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        return transaction(db, [&]() -> Result<void> {
            auto upsert = prepare(db, "INSERT OR REPLACE INTO alerts (" + std::string(kAlertColumns) +
                                          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                                          "?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)");
            if (!upsert) return upsert.error();
            auto* s = upsert->get();
            for (const auto& a : alerts) {
                sqlite3_reset(s);
                bind_text(s, 1, a.id);
                bind_text(s, 2, a.fingerprint);
                bind_text(s, 3, a.rule_id);
                bind_text(s, 4, a.title);
                bind_text(s, 5, a.description);
                bind_text(s, 6, a.source);
                sqlite3_bind_int(s, 7, static_cast<int>(a.severity));
                sqlite3_bind_double(s, 8, a.risk);
                bind_text(s, 9, model::to_string(a.status));
                bind_text_or_null(s, 10, a.assignee);
                bind_text(s, 11, json_string_array(a.tactics));
                bind_text(s, 12, json_string_array(a.techniques));
                bind_text(s, 13, json_string_array(a.tags));
                bind_text(s, 14, model::to_json_text(model::entities_to_json(a.entities)));
                bind_text(s, 15, json_string_array(a.event_ids));
                bj::array details;
                for (const auto& d : a.details) {
                    auto v = parse_json_or_null(d);
                    if (!v.is_null()) details.push_back(std::move(v));
                }
                bind_text(s, 16, model::to_json_text(details));
                sqlite3_bind_int64(s, 17, a.first_seen);
                sqlite3_bind_int64(s, 18, a.last_seen);
                sqlite3_bind_int64(s, 19, a.count);
                sqlite3_bind_int64(s, 20, a.created_at);
                sqlite3_bind_int64(s, 21, a.updated_at);
                bind_text_or_null(s, 22, a.verdict_reason);
                if (auto r = step_done(db, s, "save alert"); !r) return r;
            }
            auto insert = prepare(db,
                                  "INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value, comment) "
                                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            if (!insert) return insert.error();
            for (const auto& c : changes) {
                auto* h = insert->get();
                sqlite3_reset(h);
                bind_text(h, 1, c.alert_id);
                sqlite3_bind_int64(h, 2, c.at);
                bind_text(h, 3, c.actor);
                bind_text(h, 4, c.action);
                bind_text_or_null(h, 5, c.from);
                bind_text_or_null(h, 6, c.to);
                bind_text_or_null(h, 7, c.comment);
                if (auto r = step_done(db, h, "save alert history"); !r) return r;
            }
            return {};
        });
    });
}

Result<model::Alert> SqliteAlertStore::get(std::string_view id) {
    return db_.with_reader([&](sqlite3* db) -> Result<model::Alert> {
        auto stmt = prepare(db, "SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE id = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, id);
        return one_alert(db, stmt->get());
    });
}

Result<model::Alert> SqliteAlertStore::find_open(std::string_view fingerprint, std::int64_t since_ms) {
    return db_.with_reader([&](sqlite3* db) -> Result<model::Alert> {
        auto stmt = prepare(db, "SELECT " + std::string(kAlertColumns) +
                                    " FROM alerts WHERE fingerprint = ?1 AND last_seen >= ?2 AND status IN "
                                    "('new', 'acknowledged', 'investigating') ORDER BY last_seen DESC LIMIT 1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, fingerprint);
        sqlite3_bind_int64(stmt->get(), 2, since_ms);
        return one_alert(db, stmt->get());
    });
}

Result<std::vector<model::Alert>> SqliteAlertStore::query(const AlertQuery& q) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Alert>> {
        std::string sql = "SELECT " + std::string(kAlertColumns) + " FROM alerts WHERE 1 = 1";
        std::vector<std::string> texts;
        std::vector<std::int64_t> ints;
        // Parameters are numbered in the order they are added; texts and ints
        // keep their values, `order` says which list each ?N comes from.
        std::vector<std::pair<bool, std::size_t>> order;
        auto text = [&](const std::string& clause, const std::string& v) {
            texts.push_back(v);
            order.emplace_back(true, texts.size() - 1);
            std::string c = clause;  // exactly one '?'
            c.replace(c.find('?'), 1, "?" + std::to_string(order.size()));
            sql += " AND " + c;
        };
        auto integer = [&](const std::string& clause, std::int64_t v) {
            ints.push_back(v);
            order.emplace_back(false, ints.size() - 1);
            sql += " AND " + clause + " ?" + std::to_string(order.size());
        };
        if (!q.statuses.empty()) {
            sql += " AND status IN (";
            for (std::size_t i = 0; i < q.statuses.size(); ++i) {
                texts.emplace_back(model::to_string(q.statuses[i]));
                order.emplace_back(true, texts.size() - 1);
                sql += (i ? ", ?" : "?") + std::to_string(order.size());
            }
            sql += ")";
        }
        if (q.severity_min) integer("severity >=", static_cast<std::int64_t>(*q.severity_min));
        if (q.rule_id) text("rule_id = ?", *q.rule_id);
        if (q.assignee) text("assignee = ?", *q.assignee);
        if (q.host) text("EXISTS (SELECT 1 FROM json_each(alerts.entities, '$.hosts') WHERE value = ?)", *q.host);
        if (q.user) text("EXISTS (SELECT 1 FROM json_each(alerts.entities, '$.users') WHERE value = ?)", *q.user);
        if (q.ip) text("EXISTS (SELECT 1 FROM json_each(alerts.entities, '$.ips') WHERE value = ?)", *q.ip);
        if (q.tactic) text("EXISTS (SELECT 1 FROM json_each(alerts.tactics) WHERE value = ?)", *q.tactic);
        if (q.technique) text("EXISTS (SELECT 1 FROM json_each(alerts.techniques) WHERE value = ?)", *q.technique);
        if (q.from_ms) integer("last_seen >=", *q.from_ms);
        if (q.to_ms) integer("first_seen <", *q.to_ms);
        if (q.text) text("instr(lower(title || ' ' || description), lower(?)) > 0", *q.text);
        const char* column = sort_column(q.sort);
        const char* dir = q.descending ? " DESC" : " ASC";
        sql += std::string(" ORDER BY ") + column + dir + ", id" + dir + " LIMIT " + std::to_string(q.limit) +
               " OFFSET " + std::to_string(q.offset);
        auto stmt = prepare(db, sql);
        if (!stmt) return stmt.error();
        for (std::size_t i = 0; i < order.size(); ++i) {
            const int idx = static_cast<int>(i + 1);
            if (order[i].first) {
                bind_text(stmt->get(), idx, texts[order[i].second]);
            } else {
                sqlite3_bind_int64(stmt->get(), idx, ints[order[i].second]);
            }
        }
        return collect_alerts(db, stmt->get());
    });
}

Result<std::vector<model::AlertChange>> SqliteAlertStore::history(std::string_view alert_id) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::AlertChange>> {
        auto stmt = prepare(db,
                            "SELECT alert_id, at, actor, action, from_value, to_value, comment FROM alert_history "
                            "WHERE alert_id = ?1 ORDER BY seq LIMIT 10000");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, alert_id);
        std::vector<model::AlertChange> out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            auto* s = stmt->get();
            out.push_back({column_text(s, 0), sqlite3_column_int64(s, 1), column_text(s, 2), column_text(s, 3),
                           column_text(s, 4), column_text(s, 5), column_text(s, 6)});
        }
        return out;
    });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteAlertStore::count_by_status() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<std::pair<std::string, std::int64_t>>> {
        auto stmt = prepare(db, "SELECT status, count(*) FROM alerts GROUP BY status ORDER BY status");
        if (!stmt) return stmt.error();
        std::vector<std::pair<std::string, std::int64_t>> out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            out.emplace_back(column_text(stmt->get(), 0), sqlite3_column_int64(stmt->get(), 1));
        }
        return out;
    });
}

Result<std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>>>
SqliteAlertStore::count_by_severity_and_status() {
    using Rows = std::vector<std::pair<std::pair<std::string, std::string>, std::int64_t>>;
    return db_.with_reader([&](sqlite3* db) -> Result<Rows> {
        auto stmt = prepare(db, "SELECT severity, status, count(*) FROM alerts GROUP BY 1, 2 ORDER BY 1, 2");
        if (!stmt) return stmt.error();
        Rows out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            const auto sev = static_cast<model::Severity>(std::clamp(sqlite3_column_int(stmt->get(), 0), 0, 4));
            out.push_back({{std::string(model::to_string(sev)), column_text(stmt->get(), 1)},
                           sqlite3_column_int64(stmt->get(), 2)});
        }
        return out;
    });
}

Result<AlertSummary> SqliteAlertStore::summary(std::int64_t from_ms, std::int64_t to_ms) {
    return db_.with_reader([&](sqlite3* db) -> Result<AlertSummary> {
        AlertSummary out;
        auto run = [&](const char* sql, auto&& row) -> Result<void> {
            auto stmt = prepare(db, sql);
            if (!stmt) return stmt.error();
            sqlite3_bind_int64(stmt->get(), 1, from_ms);
            sqlite3_bind_int64(stmt->get(), 2, to_ms);
            for (;;) {
                const int rc = sqlite3_step(stmt->get());
                if (rc == SQLITE_DONE) return {};
                if (rc != SQLITE_ROW) return error_from(db, "summarise alerts");
                row(stmt->get());
            }
        };
        constexpr const char* kRange = " first_seen >= ?1 AND first_seen < ?2 ";
        std::vector<Result<void>> results;
        results.push_back(run((std::string("SELECT strftime('%Y-%m-%d', first_seen / 1000, 'unixepoch'), severity, "
                                           "count(*) FROM alerts WHERE") + kRange + "GROUP BY 1, 2 ORDER BY 1")
                                  .c_str(),
                              [&](sqlite3_stmt* s) {
                                  const std::string day = column_text(s, 0);
                                  if (out.per_day.empty() || out.per_day.back().day != day) out.per_day.push_back({day});
                                  auto& d = out.per_day.back();
                                  const auto n = sqlite3_column_int64(s, 2);
                                  switch (sqlite3_column_int(s, 1)) {
                                  case 0:
                                  case 1: d.low += n; break;
                                  case 2: d.medium += n; break;
                                  case 3: d.high += n; break;
                                  default: d.critical += n; break;
                                  }
                                  out.alerts += n;
                              }));
        results.push_back(run((std::string("SELECT status, count(*) FROM alerts WHERE") + kRange +
                               "GROUP BY 1 ORDER BY 2 DESC")
                                  .c_str(),
                              [&](sqlite3_stmt* s) { out.by_status.emplace_back(column_text(s, 0), sqlite3_column_int64(s, 1)); }));
        results.push_back(run((std::string("SELECT rule_id, max(title), count(*), sum(count) FROM alerts WHERE") + kRange +
                               "GROUP BY 1 ORDER BY 3 DESC, 4 DESC LIMIT 10")
                                  .c_str(),
                              [&](sqlite3_stmt* s) {
                                  out.top_rules.push_back({column_text(s, 0), column_text(s, 1), sqlite3_column_int64(s, 2),
                                                           sqlite3_column_int64(s, 3)});
                              }));
        for (auto [path, list] : {std::pair{"$.hosts", &out.top_hosts}, std::pair{"$.users", &out.top_users}}) {
            const std::string sql = std::string("SELECT j.value, count(*), sum(a.count) FROM alerts a, json_each(a.entities, '") +
                                    path + "') j WHERE a.first_seen >= ?1 AND a.first_seen < ?2 GROUP BY 1 ORDER BY 2 DESC, 3 DESC LIMIT 10";
            results.push_back(run(sql.c_str(), [&, l = list](sqlite3_stmt* s) {
                l->push_back({column_text(s, 0), "", sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2)});
            }));
        }
        results.push_back(run("SELECT j.value, count(*) FROM alerts a, json_each(a.tactics) j WHERE a.first_seen >= ?1 "
                              "AND a.first_seen < ?2 GROUP BY 1 ORDER BY 2 DESC",
                              [&](sqlite3_stmt* s) { out.tactics.emplace_back(column_text(s, 0), sqlite3_column_int64(s, 1)); }));
        // Mean time to acknowledge: creation to the first status change; to resolve:
        // creation to the first resolved / false_positive verdict.
        for (auto [to_values, target] : {std::pair{"", &out.mtta_seconds},
                                         std::pair{" AND h.to_value IN ('resolved', 'false_positive')", &out.mttr_seconds}}) {
            const std::string sql =
                std::string("SELECT avg(t - created_at) / 1000.0 FROM (SELECT a.created_at, (SELECT min(h.at) FROM "
                            "alert_history h WHERE h.alert_id = a.id AND h.action = 'status'") +
                to_values + ") AS t FROM alerts a WHERE a.created_at >= ?1 AND a.created_at < ?2) WHERE t IS NOT NULL";
            results.push_back(run(sql.c_str(), [&, t = target](sqlite3_stmt* s) {
                if (sqlite3_column_type(s, 0) != SQLITE_NULL) *t = sqlite3_column_double(s, 0);
            }));
        }
        for (auto& r : results) {
            if (!r) return r.error();
        }
        return out;
    });
}

Result<void> SqliteAlertStore::add_suppression(const model::Suppression& x) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db,
                            "INSERT INTO suppressions (id, scope, value, entity, reason, expires_at, created_by, "
                            "created_at, hits) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        bind_text(s, 1, x.id);
        bind_text(s, 2, model::to_string(x.scope));
        bind_text(s, 3, x.value);
        bind_text(s, 4, x.entity);
        bind_text(s, 5, x.reason);
        sqlite3_bind_int64(s, 6, x.expires_at);
        bind_text(s, 7, x.created_by);
        sqlite3_bind_int64(s, 8, x.created_at);
        sqlite3_bind_int64(s, 9, x.hits);
        return step_done(db, s, "add suppression");
    });
}

Result<std::vector<model::Suppression>> SqliteAlertStore::suppressions() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Suppression>> {
        auto stmt = prepare(db,
                            "SELECT id, scope, value, entity, reason, expires_at, created_by, created_at, hits "
                            "FROM suppressions ORDER BY created_at, id");
        if (!stmt) return stmt.error();
        std::vector<model::Suppression> out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            auto* s = stmt->get();
            model::Suppression x;
            x.id = column_text(s, 0);
            x.scope = model::parse_suppression_scope(column_text(s, 1)).value_or(model::Suppression::Scope::Rule);
            x.value = column_text(s, 2);
            x.entity = column_text(s, 3);
            x.reason = column_text(s, 4);
            x.expires_at = sqlite3_column_int64(s, 5);
            x.created_by = column_text(s, 6);
            x.created_at = sqlite3_column_int64(s, 7);
            x.hits = sqlite3_column_int64(s, 8);
            out.push_back(std::move(x));
        }
        return out;
    });
}

Result<void> SqliteAlertStore::delete_suppression(std::string_view id) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "DELETE FROM suppressions WHERE id = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, id);
        if (auto r = step_done(db, stmt->get(), "delete suppression"); !r) return r;
        if (sqlite3_changes(db) == 0) return make_error(Errc::NotFound, "suppression not found");
        return {};
    });
}

Result<void> SqliteAlertStore::add_suppression_hits(std::span<const std::pair<std::string, std::int64_t>> hits) {
    if (hits.empty()) return {};
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        return transaction(db, [&]() -> Result<void> {
            auto stmt = prepare(db, "UPDATE suppressions SET hits = hits + ?2 WHERE id = ?1");
            if (!stmt) return stmt.error();
            for (const auto& [id, n] : hits) {
                sqlite3_reset(stmt->get());
                bind_text(stmt->get(), 1, id);
                sqlite3_bind_int64(stmt->get(), 2, n);
                if (auto r = step_done(db, stmt->get(), "count suppression hits"); !r) return r;
            }
            return {};
        });
    });
}

Result<void> SqliteAlertStore::block(const model::BlockedAddress& b) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        // A permanent block (0) always wins; otherwise the later expiry.
        auto stmt = prepare(db,
                            "INSERT INTO blocklist (ip, reason, alert_id, created_by, created_at, expires_at) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ip) DO UPDATE SET reason = excluded.reason, "
                            "alert_id = excluded.alert_id, created_by = excluded.created_by, "
                            "expires_at = CASE WHEN blocklist.expires_at = 0 OR excluded.expires_at = 0 THEN 0 "
                            "ELSE max(blocklist.expires_at, excluded.expires_at) END");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        bind_text(s, 1, b.ip);
        bind_text(s, 2, b.reason);
        bind_text(s, 3, b.alert_id);
        bind_text(s, 4, b.created_by);
        sqlite3_bind_int64(s, 5, b.created_at);
        sqlite3_bind_int64(s, 6, b.expires_at);
        return step_done(db, s, "block address");
    });
}

Result<void> SqliteAlertStore::unblock(std::string_view ip) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "DELETE FROM blocklist WHERE ip = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, ip);
        if (auto r = step_done(db, stmt->get(), "unblock address"); !r) return r;
        if (sqlite3_changes(db) == 0) return make_error(Errc::NotFound, "address is not on the blocklist");
        return {};
    });
}

Result<std::vector<model::BlockedAddress>> SqliteAlertStore::blocklist(std::int64_t now_ms) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::BlockedAddress>> {
        auto stmt = prepare(db,
                            "SELECT ip, reason, alert_id, created_by, created_at, expires_at FROM blocklist "
                            "WHERE expires_at = 0 OR expires_at > ?1 ORDER BY ip LIMIT 100000");
        if (!stmt) return stmt.error();
        sqlite3_bind_int64(stmt->get(), 1, now_ms);
        std::vector<model::BlockedAddress> out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            auto* s = stmt->get();
            out.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3),
                           sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5)});
        }
        return out;
    });
}

Result<void> SqliteAlertStore::add_labels(std::span<const model::AlertLabel> labels) {
    if (labels.empty()) return {};
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        return transaction(db, [&]() -> Result<void> {
            auto stmt = prepare(db,
                                "INSERT OR REPLACE INTO alert_labels (event_id, alert_id, label, verdict, at) "
                                "VALUES (?1, ?2, ?3, ?4, ?5)");
            if (!stmt) return stmt.error();
            for (const auto& l : labels) {
                auto* s = stmt->get();
                sqlite3_reset(s);
                bind_text(s, 1, l.event_id);
                bind_text(s, 2, l.alert_id);
                bind_text(s, 3, l.label);
                bind_text(s, 4, l.verdict);
                sqlite3_bind_int64(s, 5, l.at);
                if (auto r = step_done(db, s, "save label"); !r) return r;
            }
            return {};
        });
    });
}

Result<std::vector<model::AlertLabel>> SqliteAlertStore::labels(std::int64_t since_ms, std::size_t limit) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::AlertLabel>> {
        auto stmt = prepare(db,
                            "SELECT event_id, alert_id, label, verdict, at FROM alert_labels WHERE at >= ?1 "
                            "ORDER BY at LIMIT ?2");
        if (!stmt) return stmt.error();
        sqlite3_bind_int64(stmt->get(), 1, since_ms);
        sqlite3_bind_int64(stmt->get(), 2, static_cast<sqlite3_int64>(limit));
        std::vector<model::AlertLabel> out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            auto* s = stmt->get();
            out.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3),
                           sqlite3_column_int64(s, 4)});
        }
        return out;
    });
}

}  // namespace sai::storage::sqlite
