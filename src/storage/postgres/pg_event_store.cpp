#include "pg_stores.hpp"

#include "core/log.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace sai::storage::pg {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

constexpr std::int64_t kDayMs = 86'400'000;
// Partition creation and retention are serialised across nodes by these
// transaction-scoped advisory locks ("SAIpart", "SAIretn" in ASCII).
constexpr long kPartitionLock = 0x53414970617274;
constexpr long kRetentionLock = 0x53414972657472;

std::int64_t day_of(std::int64_t ts) { return ts >= 0 ? ts / kDayMs : -((-ts + kDayMs - 1) / kDayMs); }

/// events_YYYYMMDD (UTC) for years 1000-9999, events_d<days> (m for minus) otherwise.
std::string partition_name(std::int64_t day) {
    // Civil date from days since the epoch (H. Hinnant's algorithm).
    const std::int64_t z = day + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    if (y < 1000 || y > 9999) {
        return "events_d" + std::string(day < 0 ? "m" : "") + std::to_string(day < 0 ? -day : day);
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "events_%04d%02d%02d", static_cast<int>(y), static_cast<int>(m), static_cast<int>(d));
    return buf;
}

/// Names come from partition_name (our own text), checked again before they
/// are spliced into DDL.
bool safe_identifier(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

/// Filter columns as PostgreSQL can store them (the JSON document keeps the exact text).
std::optional<std::string> column_text(std::string_view s) {
    if (s.empty()) return std::nullopt;
    return storable(s);
}

std::optional<std::string> key_column(const std::string& ip) {
    const std::string hex = model::ip_sort_key(ip);
    if (hex.empty()) return std::nullopt;
    return "\\x" + hex;
}

Result<model::Event> read_event(const Rows& r, int i) {
    boost::system::error_code ec;
    auto value = boost::json::parse(r.str(i, 0), ec);
    if (ec || !value.is_object()) {
        return make_error(Errc::Internal, "stored event is not valid JSON");
    }
    return model::event_from_json(value.as_object(), r.i64(i, 1));
}

Result<std::vector<model::Event>> read_events(const Rows& r) {
    std::vector<model::Event> out;
    for (int i = 0; i < r.size(); ++i) {
        auto e = read_event(r, i);
        if (!e) return e.error();
        out.push_back(std::move(*e));
    }
    return out;
}

/// Subtracts what was removed from event_counts.
Result<void> uncount(Conn& c, const Rows& per_category) {
    for (int i = 0; i < per_category.size(); ++i) {
        auto r = c.query("UPDATE event_counts SET count = greatest(0, count - $2) WHERE category = $1",
                         {per_category.str(i, 0), per_category.i64(i, 1)});
        if (!r) return r.error();
    }
    return {};
}

constexpr std::string_view kInsert = R"sql(
WITH batch AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                         $8::text[], $9::bytea[], $10::bytea[], $11::float8[], $12::text[], $13::text[], $14::text[])
        WITH ORDINALITY AS b(id, ts, ingested, category, outcome, severity, host, user_name, src_key, dst_key,
                             anomaly, threat_class, message, doc, n)
), firsts AS (
    SELECT DISTINCT ON (id) * FROM batch ORDER BY id, n
), fresh AS (
    INSERT INTO event_ids (id, ts) SELECT id, ts FROM firsts ON CONFLICT (id) DO NOTHING RETURNING id
), stored AS (
    INSERT INTO events (id, ts, ingested, category, outcome, severity, host, user_name, src_key, dst_key, anomaly,
                        threat_class, message, doc)
    SELECT f.id, f.ts, f.ingested, f.category, f.outcome, f.severity, f.host, f.user_name, f.src_key, f.dst_key,
           f.anomaly, f.threat_class, f.message, f.doc
    FROM firsts f JOIN fresh USING (id)
    RETURNING category
)
SELECT coalesce(category, ''), count(*) FROM stored GROUP BY 1 ORDER BY 1
)sql";

}  // namespace

Result<void> PgEventStore::ensure_partitions(Conn& c, const std::set<std::int64_t>& days) {
    std::vector<std::int64_t> missing;
    {
        std::lock_guard lock(partitions_mutex_);
        for (auto d : days) {
            if (!partitions_.contains(d)) missing.push_back(d);
        }
    }
    for (auto day : missing) {
        const std::string name = partition_name(day);
        SAI_CHECK(safe_identifier(name), "partition names are generated");
        const std::int64_t from = day * kDayMs;
        const std::int64_t to = from + kDayMs;
        // The lock makes creation by two nodes at once wait instead of colliding;
        // IF NOT EXISTS and the duplicate check make it idempotent.
        auto r = transaction(c, [&]() -> Result<void> {
            if (auto l = c.query("SELECT pg_advisory_xact_lock($1)", {kPartitionLock}); !l) return l.error();
            if (auto e = c.script("CREATE TABLE IF NOT EXISTS " + name + " PARTITION OF events FOR VALUES FROM (" +
                                  std::to_string(from) + ") TO (" + std::to_string(to) + ")");
                !e) {
                return e.error();
            }
            auto rec = c.query("INSERT INTO event_partitions (name, day, from_ms, to_ms) VALUES ($1, $2, $3, $4) "
                               "ON CONFLICT DO NOTHING",
                               {name, day, from, to});
            if (!rec) return rec.error();
            return {};
        });
        if (!r && !(c.last_sqlstate() == "42P07" || c.last_sqlstate() == "23505")) {
            return r.error();
        }
        std::lock_guard lock(partitions_mutex_);
        partitions_.insert(day);
    }
    return {};
}

Result<InsertResult> PgEventStore::insert_once(Conn& c, std::span<const model::Event> events) {
    std::vector<std::optional<std::string>> cols[14];
    for (auto& col : cols) col.reserve(events.size());
    for (const auto& e : events) {
        cols[0].emplace_back(e.id);
        cols[1].emplace_back(std::to_string(e.timestamp));
        cols[2].emplace_back(std::to_string(e.ingested));
        cols[3].push_back(column_text(e.category));
        cols[4].push_back(column_text(e.outcome));
        cols[5].push_back(e.severity ? std::optional<std::string>(std::to_string(*e.severity)) : std::nullopt);
        cols[6].push_back(column_text(e.host_name));
        cols[7].push_back(column_text(e.user_name));
        cols[8].push_back(key_column(e.source_ip));
        cols[9].push_back(key_column(e.destination_ip));
        cols[10].push_back(e.anomaly_score ? P(*e.anomaly_score).v : std::nullopt);
        cols[11].push_back(column_text(e.threat_class));
        auto message = column_text(e.message);
        cols[12].push_back(message ? *message : std::string());
        cols[13].emplace_back(storable(model::event_to_json_text(e)));
    }
    Params params;
    for (const auto& col : cols) params.emplace_back(array_literal(col));

    InsertResult result;
    std::string failed_state;
    auto done = transaction(c, [&]() -> Result<void> {
        auto stored = c.query(kInsert, params);
        if (!stored) {
            failed_state = c.last_sqlstate();
            return stored.error();
        }
        std::vector<std::optional<std::string>> categories;
        std::vector<std::optional<std::string>> counts;
        for (int i = 0; i < stored->size(); ++i) {
            result.inserted += static_cast<std::size_t>(stored->i64(i, 1));
            categories.emplace_back(stored->str(i, 0));
            counts.emplace_back(std::to_string(stored->i64(i, 1)));
        }
        result.duplicates = events.size() - result.inserted;
        if (categories.empty()) return {};
        // Sorted by category, so concurrent batches lock the counters in one order.
        auto upsert = c.query("INSERT INTO event_counts (category, count) SELECT * FROM unnest($1::text[], $2::bigint[]) "
                              "ON CONFLICT (category) DO UPDATE SET count = event_counts.count + excluded.count",
                              {array_literal(categories), array_literal(counts)});
        if (!upsert) return upsert.error();
        return {};
    });
    if (!done) {
        if (failed_state == "23514") {
            // "no partition of relation found for row": another node's retention
            // dropped a partition this process had cached.
            std::lock_guard lock(partitions_mutex_);
            partitions_.clear();
            return make_error(Errc::Unavailable, "event partition missing (dropped by retention); retrying");
        }
        return done.error();
    }
    return result;
}

Result<InsertResult> PgEventStore::insert_batch(std::span<const model::Event> events) {
    if (events.empty()) return InsertResult{};
    std::set<std::int64_t> days;
    for (const auto& e : events) {
        if (e.id.empty()) return make_error(Errc::InvalidArgument, "event without an id");
        days.insert(day_of(e.timestamp));
    }
    return db_.pool.with([&](Conn& c) -> Result<InsertResult> {
        Result<InsertResult> r = make_error(Errc::Internal, "not attempted");
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (auto p = ensure_partitions(c, days); !p) return p.error();
            r = insert_once(c, events);
            if (r || r.error().code != Errc::Unavailable || c.broken()) break;
        }
        return r;
    });
}

Result<model::Event> PgEventStore::get(std::string_view id) {
    // event_ids knows the timestamp, so only one partition is searched.
    auto r = run(db_,
                 "SELECT doc, ingested FROM events WHERE id = $1 AND ts = (SELECT ts FROM event_ids WHERE id = $1)",
                 {id});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "event not found");
    return read_event(*r, 0);
}

Result<std::vector<model::Event>> PgEventStore::query(const EventQuery& q) {
    std::string sql = "SELECT doc, ingested FROM events WHERE true";
    Params args;
    auto arg = [&](const char* clause, P value) {
        args.push_back(std::move(value));
        sql += std::string(" AND ") + clause + " $" + std::to_string(args.size());
    };
    if (q.from_ms) arg("ts >=", *q.from_ms);
    if (q.to_ms) arg("ts <", *q.to_ms);
    if (q.host) arg("host =", *q.host);
    if (q.user) arg("user_name =", *q.user);
    if (q.category) arg("category =", *q.category);
    if (q.outcome) arg("outcome =", *q.outcome);
    if (q.threat_class) arg("threat_class =", *q.threat_class);
    if (q.severity_min) arg("severity >=", *q.severity_min);
    if (q.source_range) {
        arg("src_key >=", "\\x" + q.source_range->first);
        arg("src_key <=", "\\x" + q.source_range->second);
    }
    if (q.destination_range) {
        arg("dst_key >=", "\\x" + q.destination_range->first);
        arg("dst_key <=", "\\x" + q.destination_range->second);
    }
    if (q.anomaly_min) arg("anomaly >=", *q.anomaly_min);
    if (q.text) {
        // plainto_tsquery: every word must appear; operators in the input are just text.
        std::string words = q.text->substr(0, std::min<std::size_t>(q.text->size(), 2048));
        std::erase(words, '\0');
        args.emplace_back(words);
        sql += " AND search @@ plainto_tsquery('simple', $" + std::to_string(args.size()) + ")";
    }
    if (q.before) {
        args.emplace_back(q.before->first);
        const auto ts_arg = std::to_string(args.size());
        args.emplace_back(q.before->second);
        const auto id_arg = std::to_string(args.size());
        sql += " AND (ts < $" + ts_arg + " OR (ts = $" + ts_arg + " AND id < $" + id_arg + "))";
    }
    args.emplace_back(q.limit);
    sql += " ORDER BY ts DESC, id DESC LIMIT $" + std::to_string(args.size());
    auto r = run(db_, sql, args);
    if (!r) return r.error();
    return read_events(*r);
}

Result<std::int64_t> PgEventStore::count() {
    auto r = run(db_, "SELECT coalesce(sum(count), 0) FROM event_counts");
    if (!r) return r.error();
    return r->i64(0, 0);
}

Result<std::map<std::string, std::int64_t>> PgEventStore::count_by_category() {
    auto r = run(db_, "SELECT category, count FROM event_counts");
    if (!r) return r.error();
    std::map<std::string, std::int64_t> out;
    for (int i = 0; i < r->size(); ++i) out[r->str(i, 0)] = r->i64(i, 1);
    return out;
}

Result<std::size_t> PgEventStore::delete_before(std::int64_t before_ms, std::size_t max_rows) {
    return db_.pool.with([&](Conn& c) -> Result<std::size_t> {
        std::size_t removed = 0;
        std::vector<std::int64_t> dropped_days;
        auto done = transaction(c, [&]() -> Result<void> {
            if (auto l = c.query("SELECT pg_advisory_xact_lock($1)", {kRetentionLock}); !l) return l.error();
            // Whole days before the cut-off: drop their partitions (no row-by-row delete).
            auto old = c.query("SELECT name, day, from_ms, to_ms FROM event_partitions WHERE to_ms <= $1 ORDER BY day",
                               {before_ms});
            if (!old) return old.error();
            for (int i = 0; i < old->size(); ++i) {
                const std::string name = old->str(i, 0);
                if (!safe_identifier(name)) return make_error(Errc::Internal, "unexpected partition name " + name);
                auto per_category = c.query("SELECT coalesce(category, ''), count(*) FROM " + name + " GROUP BY 1");
                if (!per_category) return per_category.error();
                for (int j = 0; j < per_category->size(); ++j) removed += static_cast<std::size_t>(per_category->i64(j, 1));
                if (auto u = uncount(c, *per_category); !u) return u;
                auto ids = c.query("DELETE FROM event_ids WHERE ts >= $1 AND ts < $2", {old->i64(i, 2), old->i64(i, 3)});
                if (!ids) return ids.error();
                if (auto d = c.script("DROP TABLE IF EXISTS " + name); !d) return d;
                auto rec = c.query("DELETE FROM event_partitions WHERE name = $1", {name});
                if (!rec) return rec.error();
                dropped_days.push_back(old->i64(i, 1));
            }
            // The day straddling the cut-off: delete its older rows, oldest first.
            auto per_category = c.query(R"sql(
WITH doomed AS (
    SELECT id, ts FROM events WHERE ts < $1 ORDER BY ts LIMIT $2
), gone AS (
    DELETE FROM events e USING doomed d WHERE e.ts = d.ts AND e.id = d.id RETURNING e.id, e.category
), forgotten AS (
    DELETE FROM event_ids i USING gone g WHERE i.id = g.id
)
SELECT coalesce(category, ''), count(*) FROM gone GROUP BY 1 ORDER BY 1)sql",
                                        {before_ms, max_rows});
            if (!per_category) return per_category.error();
            for (int j = 0; j < per_category->size(); ++j) removed += static_cast<std::size_t>(per_category->i64(j, 1));
            return uncount(c, *per_category);
        });
        if (!done) return done.error();
        if (!dropped_days.empty()) {
            std::lock_guard lock(partitions_mutex_);
            for (auto d : dropped_days) partitions_.erase(d);
            core::log::info("event partitions dropped by retention", {{"partitions", static_cast<std::int64_t>(dropped_days.size())}});
        }
        return removed;
    });
}

}  // namespace sai::storage::pg
