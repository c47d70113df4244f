#include "sqlite_event_store.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <limits>
#include <optional>
#include <type_traits>

namespace sai::storage::sqlite {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

/// model::ip_sort_key's 32 hex digits as the 16 bytes stored in src_key/dst_key.
std::string key_bytes(std::string_view hex) {
    std::string out;
    out.reserve(16);
    auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
        out.push_back(static_cast<char>(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
    }
    return out;
}

void bind_key(sqlite3_stmt* s, int i, const std::string& ip) {
    const std::string hex = model::ip_sort_key(ip);
    if (hex.empty()) {
        sqlite3_bind_null(s, i);
    } else {
        const std::string bytes = key_bytes(hex);
        sqlite3_bind_blob(s, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    }
}

Result<model::Event> read_event(sqlite3_stmt* s) {
    // Columns: doc, ingested.
    const std::string doc = column_text(s, 0);
    boost::system::error_code ec;
    auto value = boost::json::parse(doc, ec);
    if (ec || !value.is_object()) {
        return make_error(Errc::Internal, "stored event is not valid JSON");
    }
    return model::event_from_json(value.as_object(), sqlite3_column_int64(s, 1));
}

}  // namespace

std::optional<std::string> fts_all_words(std::string_view text) {
    std::string out;
    int words = 0;
    std::size_t i = 0;
    while (i < text.size() && words < 16) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) {
            ++i;
        }
        std::size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') {
            ++j;
        }
        if (j > i) {
            std::string word(text.substr(i, std::min<std::size_t>(j - i, 128)));
            std::string quoted = "\"";
            for (char c : word) {
                quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
            }
            quoted += "\"";
            out += (out.empty() ? "" : " ") + quoted;
            ++words;
        }
        i = j;
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

Result<InsertResult> SqliteEventStore::insert_batch(std::span<const model::Event> events) {
    return db_.with_writer([&](sqlite3* db) -> Result<InsertResult> {
        InsertResult result;
        std::map<std::string, std::int64_t> per_category;
        auto done = transaction(db, [&]() -> Result<void> {
            // New rows get rowids above the current maximum; after the inserts they
            // are indexed for full-text search in one statement.
            auto last = prepare(db, "SELECT coalesce(max(rowid), 0) FROM events");
            if (!last) {
                return last.error();
            }
            if (sqlite3_step(last->get()) != SQLITE_ROW) {
                return error_from(db, "read last rowid");
            }
            const sqlite3_int64 last_rowid = sqlite3_column_int64(last->get(), 0);
            auto stmt = prepare(db,
                                "INSERT OR IGNORE INTO events (id, ts, ingested, category, outcome, severity, host, "
                                "user_name, src_key, dst_key, anomaly, threat_class, message, doc) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
            if (!stmt) {
                return stmt.error();
            }
            auto* s = stmt->get();
            for (const auto& e : events) {
                if (e.id.empty()) {
                    return make_error(Errc::InvalidArgument, "event without an id");
                }
                sqlite3_reset(s);
                bind_text(s, 1, e.id);
                sqlite3_bind_int64(s, 2, e.timestamp);
                sqlite3_bind_int64(s, 3, e.ingested);
                bind_text_or_null(s, 4, e.category);
                bind_text_or_null(s, 5, e.outcome);
                if (e.severity) {
                    sqlite3_bind_int64(s, 6, *e.severity);
                } else {
                    sqlite3_bind_null(s, 6);
                }
                bind_text_or_null(s, 7, e.host_name);
                bind_text_or_null(s, 8, e.user_name);
                bind_key(s, 9, e.source_ip);
                bind_key(s, 10, e.destination_ip);
                if (e.anomaly_score) {
                    sqlite3_bind_double(s, 11, *e.anomaly_score);
                } else {
                    sqlite3_bind_null(s, 11);
                }
                bind_text_or_null(s, 12, e.threat_class);
                bind_text(s, 13, e.message);
                bind_text(s, 14, model::event_to_json_text(e));
                if (sqlite3_step(s) != SQLITE_DONE) {
                    return error_from(db, "insert event");
                }
                if (sqlite3_changes(db) == 1) {
                    ++result.inserted;
                    ++per_category[e.category];
                } else {
                    ++result.duplicates;
                }
            }
            auto fts = prepare(db, "INSERT INTO events_fts (rowid, message) SELECT rowid, message FROM events WHERE rowid > ?1");
            if (!fts) {
                return fts.error();
            }
            sqlite3_bind_int64(fts->get(), 1, last_rowid);
            if (sqlite3_step(fts->get()) != SQLITE_DONE) {
                return error_from(db, "index events for search");
            }
            auto upsert = prepare(db,
                                  "INSERT INTO event_counts (category, count) VALUES (?1, ?2) "
                                  "ON CONFLICT (category) DO UPDATE SET count = count + excluded.count");
            if (!upsert) {
                return upsert.error();
            }
            for (const auto& [category, n] : per_category) {
                sqlite3_reset(upsert->get());
                bind_text(upsert->get(), 1, category);
                sqlite3_bind_int64(upsert->get(), 2, n);
                if (sqlite3_step(upsert->get()) != SQLITE_DONE) {
                    return error_from(db, "count events");
                }
            }
            return {};
        });
        if (!done) {
            return done.error();
        }
        return result;
    });
}

Result<model::Event> SqliteEventStore::get(std::string_view id) {
    return db_.with_reader([&](sqlite3* db) -> Result<model::Event> {
        auto stmt = prepare(db, "SELECT doc, ingested FROM events WHERE id = ?1");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, id);
        switch (sqlite3_step(stmt->get())) {
        case SQLITE_ROW: return read_event(stmt->get());
        case SQLITE_DONE: return make_error(Errc::NotFound, "event not found");
        default: return error_from(db, "read event");
        }
    });
}

namespace {

struct Arg {
    enum Kind { Text, Int, Real, Blob } kind;
    std::string text;
    std::int64_t i = 0;
    double d = 0;
};

/// True when an address range spans more than 2^16 addresses: then its events
/// are too many to read them all and sort them by time (see newest_matching).
bool broad_range(const std::pair<std::string, std::string>& r) {
    std::size_t common = 0;
    while (common < r.first.size() && common < r.second.size() && r.first[common] == r.second[common]) {
        ++common;
    }
    return common < 28;  // 32 hex digits in all; the last 4 are 16 bits
}

/// The WHERE clause for everything but the full-text condition; its
/// parameters are appended to `args`.
std::string filters_sql(const EventQuery& q, std::vector<Arg>& args) {
    std::string sql;
    auto text_arg = [&](const std::string& clause, const std::string& v) {
        args.push_back({Arg::Text, v});
        sql += " AND " + clause + " ?" + std::to_string(args.size());
    };
    auto int_arg = [&](const char* clause, std::int64_t v) {
        args.push_back({Arg::Int, {}, v});
        sql += std::string(" AND ") + clause + " ?" + std::to_string(args.size());
    };
    if (q.from_ms) int_arg("ts >=", *q.from_ms);
    if (q.to_ms) int_arg("ts <", *q.to_ms);
    if (q.host) text_arg("host =", *q.host);
    if (q.user) text_arg("user_name =", *q.user);
    if (q.category) text_arg("category =", *q.category);
    if (q.outcome) text_arg("outcome =", *q.outcome);
    if (q.threat_class) text_arg("threat_class =", *q.threat_class);
    if (q.severity_min) int_arg("severity >=", *q.severity_min);
    for (auto [column, range] : {std::pair{"src_key", &q.source_range}, std::pair{"dst_key", &q.destination_range}}) {
        if (*range) {
            args.push_back({Arg::Blob, key_bytes((*range)->first)});
            sql += std::string(" AND ") + column + " >= ?" + std::to_string(args.size());
            args.push_back({Arg::Blob, key_bytes((*range)->second)});
            sql += std::string(" AND ") + column + " <= ?" + std::to_string(args.size());
        }
    }
    if (q.anomaly_min) {
        args.push_back({Arg::Real, {}, 0, *q.anomaly_min});
        sql += " AND anomaly >= ?" + std::to_string(args.size());
    }
    if (q.before) {
        args.push_back({Arg::Int, {}, q.before->first});
        const auto ts_arg = std::to_string(args.size());
        args.push_back({Arg::Text, q.before->second});
        const auto id_arg = std::to_string(args.size());
        sql += " AND (ts < ?" + ts_arg + " OR (ts = ?" + ts_arg + " AND id < ?" + id_arg + "))";
    }
    return sql;
}

bool has_filters(const EventQuery& q) {
    return q.from_ms || q.to_ms || q.host || q.user || q.category || q.outcome || q.threat_class ||
           q.source_range || q.destination_range || q.severity_min || q.anomaly_min || q.before;
}

void bind_args(sqlite3_stmt* stmt, const std::vector<Arg>& args) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const int idx = static_cast<int>(i + 1);
        switch (args[i].kind) {
        case Arg::Text: bind_text(stmt, idx, args[i].text); break;
        case Arg::Int: sqlite3_bind_int64(stmt, idx, args[i].i); break;
        case Arg::Real: sqlite3_bind_double(stmt, idx, args[i].d); break;
        case Arg::Blob:
            sqlite3_bind_blob(stmt, idx, args[i].text.data(), static_cast<int>(args[i].text.size()), SQLITE_TRANSIENT);
            break;
        }
    }
}

// One result row into an output: a whole event (columns doc, ingested) or a rowid.
constexpr const char* kEventColumns = "doc, ingested";
Result<void> read_row(sqlite3_stmt* s, std::vector<model::Event>& out) {
    auto e = read_event(s);
    if (!e) {
        return e.error();
    }
    out.push_back(std::move(*e));
    return {};
}
Result<void> read_row(sqlite3_stmt* s, std::vector<std::int64_t>& out) {
    out.push_back(sqlite3_column_int64(s, 0));
    return {};
}

/// Steps a prepared statement to its end, appending each row to `out`.
template <class Out>
Result<void> collect(sqlite3* db, sqlite3_stmt* stmt, Out& out) {
    for (;;) {
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            return {};
        }
        if (rc != SQLITE_ROW) {
            return error_from(db, "query events");
        }
        if (auto r = read_row(stmt, out); !r) {
            return r.error();
        }
    }
}

template <class Out>
Result<void> run(sqlite3* db, const std::string& sql, const std::vector<Arg>& args, Out& out) {
    auto stmt = prepare(db, sql);
    if (!stmt) {
        return stmt.error();
    }
    bind_args(stmt->get(), args);
    return collect(db, stmt->get(), out);
}

/// A broad CIDR block of the query, with the (key, ts) index that serves it.
struct Block {
    const char* column;
    const char* index;
    const std::pair<std::string, std::string>* range;
};

std::optional<Block> broad_block(const EventQuery& q) {
    if (q.source_range && broad_range(*q.source_range)) return Block{"src_key", "events_src", &*q.source_range};
    if (q.destination_range && broad_range(*q.destination_range)) {
        return Block{"dst_key", "events_dst", &*q.destination_range};
    }
    return std::nullopt;
}

/// The time of the k-th newest event in the block within the query's time
/// bounds, read from the (key, ts) index alone; nullopt when it holds fewer.
Result<std::optional<std::int64_t>> kth_newest_time(sqlite3* db, const EventQuery& q, const Block& b, std::size_t k) {
    std::vector<Arg> args{{Arg::Blob, key_bytes(b.range->first)}, {Arg::Blob, key_bytes(b.range->second)}};
    std::string sql = std::string("SELECT ts FROM events INDEXED BY ") + b.index + " WHERE " + b.column +
                      " >= ?1 AND " + b.column + " <= ?2";
    auto bound = [&](const char* clause, std::int64_t v) {
        args.push_back({Arg::Int, {}, v});
        sql += std::string(" AND ts ") + clause + " ?" + std::to_string(args.size());
    };
    if (q.from_ms) bound(">=", *q.from_ms);
    if (q.to_ms) bound("<", *q.to_ms);
    if (q.before) bound("<=", q.before->first);
    args.push_back({Arg::Int, {}, static_cast<std::int64_t>(k - 1)});
    sql += " ORDER BY ts DESC LIMIT 1 OFFSET ?" + std::to_string(args.size());
    std::vector<std::int64_t> found;
    if (auto r = run(db, sql, args, found); !r) {
        return r.error();
    }
    return found.empty() ? std::nullopt : std::optional(found.front());
}

/// The newest `n` events (by @timestamp, then id) matching every filter of
/// `q` but the text, into `out` (events or rowids).
template <class Out>
Result<void> newest_matching(sqlite3* db, const EventQuery& q, std::size_t n, Out& out) {
    constexpr bool kRowids = std::is_same_v<Out, std::vector<std::int64_t>>;
    const std::string select = std::string("SELECT ") + (kRowids ? "rowid" : kEventColumns) + " FROM events";
    const std::string order = " ORDER BY ts DESC, id DESC LIMIT " + std::to_string(n);
    const auto block = broad_block(q);
    if (!block) {
        std::vector<Arg> args;
        return run(db, select + " WHERE 1 = 1" + filters_sql(q, args) + order, args, out);
    }
    // A broad block holds too many events to sort them all by time, and walking
    // the time index tests too many others (a /16 of a busy network). Its
    // (key, ts) index gives the time above which it holds k events; only those
    // are read. When other filters leave fewer than n of them, k grows.
    for (std::size_t k = n;; k *= 8) {
        auto floor = kth_newest_time(db, q, *block, k);
        if (!floor) {
            return floor.error();
        }
        std::vector<Arg> args;
        std::string sql = select + " INDEXED BY " + block->index + " WHERE 1 = 1" + filters_sql(q, args);
        if (*floor) {
            args.push_back({Arg::Int, {}, **floor});
            sql += " AND ts >= ?" + std::to_string(args.size());
        }
        out.clear();
        if (auto r = run(db, sql + order, args, out); !r) {
            return r.error();
        }
        if (!*floor || out.size() >= n) {
            return {};
        }
    }
}

}  // namespace

Result<std::vector<model::Event>> SqliteEventStore::query(const EventQuery& q) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Event>> {
        std::vector<model::Event> out;
        if (!q.text) {
            if (auto r = newest_matching(db, q, q.limit, out); !r) {
                return r.error();
            }
            return out;
        }
        auto match = fts_all_words(*q.text);
        if (!match) {
            return out;
        }
        auto fetch = prepare(db, "SELECT doc, ingested FROM events WHERE rowid = ?1");
        auto matches = prepare(db, "SELECT 1 FROM events_fts WHERE events_fts MATCH ?1 AND rowid = ?2");
        if (!fetch) {
            return fetch.error();
        }
        if (!matches) {
            return matches.error();
        }
        if (has_filters(q)) {
            // Filters first: the newest events that pass them, each tested against
            // the full-text index, give the exact newest matches. Enough when the
            // words are not rare among them; otherwise the text goes first, below.
            constexpr std::size_t kCandidates = 4096;
            std::vector<std::int64_t> candidates;
            if (auto r = newest_matching(db, q, kCandidates, candidates); !r) {
                return r.error();
            }
            for (std::size_t i = 0; i < candidates.size() && out.size() < q.limit; ++i) {
                sqlite3_reset(matches->get());
                bind_text(matches->get(), 1, *match);
                sqlite3_bind_int64(matches->get(), 2, candidates[i]);
                const int rc = sqlite3_step(matches->get());
                if (rc == SQLITE_DONE) {
                    continue;
                }
                if (rc != SQLITE_ROW) {
                    return error_from(db, "full-text test");
                }
                sqlite3_reset(fetch->get());
                sqlite3_bind_int64(fetch->get(), 1, candidates[i]);
                if (auto r = collect(db, fetch->get(), out); !r) {
                    return r.error();
                }
            }
            if (out.size() >= q.limit || candidates.size() < kCandidates) {
                return out;
            }
            out.clear();
        }
        // Text first: walk the matches newest-stored first in growing windows
        // (FTS5 reads a doclist backwards and stops at the window's end), apply
        // the other filters to each, and stop once enough events were found.
        // Results are the matching events among the most recently stored, newest
        // first by @timestamp.
        constexpr std::size_t kMaxWindow = 65536;
        constexpr std::size_t kMaxExamined = 262144;
        auto window = prepare(db, "SELECT rowid FROM events_fts WHERE events_fts MATCH ?1 AND rowid < ?2 "
                                  "ORDER BY rowid DESC LIMIT ?3");
        if (!window) {
            return window.error();
        }
        std::vector<Arg> args{{Arg::Int, {}, 0}};  // ?1: the rowid
        auto filtered = prepare(db, "SELECT doc, ingested FROM events WHERE rowid = ?1" + filters_sql(q, args));
        if (!filtered) {
            return filtered.error();
        }
        std::int64_t upper = std::numeric_limits<std::int64_t>::max();
        std::size_t size = std::max<std::size_t>(q.limit, 64);
        std::vector<std::int64_t> rowids;
        for (std::size_t examined = 0; out.size() < q.limit && examined < kMaxExamined; examined += rowids.size()) {
            sqlite3_reset(window->get());
            bind_text(window->get(), 1, *match);
            sqlite3_bind_int64(window->get(), 2, upper);
            sqlite3_bind_int64(window->get(), 3, static_cast<std::int64_t>(size));
            rowids.clear();
            if (auto r = collect(db, window->get(), rowids); !r) {
                return r.error();
            }
            for (std::int64_t rowid : rowids) {
                sqlite3_reset(filtered->get());
                args[0].i = rowid;
                bind_args(filtered->get(), args);
                if (auto r = collect(db, filtered->get(), out); !r) {
                    return r.error();
                }
            }
            if (rowids.size() < size) {
                break;  // no older matches
            }
            upper = rowids.back();
            size = std::min(size * 4, kMaxWindow);
        }
        std::sort(out.begin(), out.end(), [](const model::Event& a, const model::Event& b) {
            return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.id > b.id;
        });
        if (out.size() > q.limit) {
            out.resize(q.limit);
        }
        return out;
    });
}

Result<std::int64_t> SqliteEventStore::count() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::int64_t> {
        auto stmt = prepare(db, "SELECT coalesce(sum(count), 0) FROM event_counts");
        if (!stmt) {
            return stmt.error();
        }
        if (sqlite3_step(stmt->get()) != SQLITE_ROW) {
            return error_from(db, "count events");
        }
        return sqlite3_column_int64(stmt->get(), 0);
    });
}

Result<std::map<std::string, std::int64_t>> SqliteEventStore::count_by_category() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::map<std::string, std::int64_t>> {
        auto stmt = prepare(db, "SELECT category, count FROM event_counts");
        if (!stmt) {
            return stmt.error();
        }
        std::map<std::string, std::int64_t> out;
        while (sqlite3_step(stmt->get()) == SQLITE_ROW) {
            out[column_text(stmt->get(), 0)] = sqlite3_column_int64(stmt->get(), 1);
        }
        return out;
    });
}

Result<std::size_t> SqliteEventStore::delete_before(std::int64_t before_ms, std::size_t max_rows) {
    return db_.with_writer([&](sqlite3* db) -> Result<std::size_t> {
        std::size_t removed = 0;
        auto done = transaction(db, [&]() -> Result<void> {
            // Keep event_counts equal to what is stored.
            auto counts = prepare(db,
                                  "SELECT coalesce(category, ''), count(*) FROM (SELECT category FROM events "
                                  "WHERE ts < ?1 ORDER BY ts LIMIT ?2) GROUP BY 1");
            if (!counts) {
                return counts.error();
            }
            sqlite3_bind_int64(counts->get(), 1, before_ms);
            sqlite3_bind_int64(counts->get(), 2, static_cast<sqlite3_int64>(max_rows));
            std::vector<std::pair<std::string, std::int64_t>> per_category;
            while (sqlite3_step(counts->get()) == SQLITE_ROW) {
                per_category.emplace_back(column_text(counts->get(), 0), sqlite3_column_int64(counts->get(), 1));
            }
            auto del = prepare(db,
                               "DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE ts < ?1 "
                               "ORDER BY ts LIMIT ?2)");
            if (!del) {
                return del.error();
            }
            sqlite3_bind_int64(del->get(), 1, before_ms);
            sqlite3_bind_int64(del->get(), 2, static_cast<sqlite3_int64>(max_rows));
            if (sqlite3_step(del->get()) != SQLITE_DONE) {
                return error_from(db, "delete events");
            }
            removed = static_cast<std::size_t>(sqlite3_changes(db));
            auto dec = prepare(db, "UPDATE event_counts SET count = max(0, count - ?2) WHERE category = ?1");
            if (!dec) {
                return dec.error();
            }
            for (const auto& [category, n] : per_category) {
                sqlite3_reset(dec->get());
                bind_text(dec->get(), 1, category);
                sqlite3_bind_int64(dec->get(), 2, n);
                if (sqlite3_step(dec->get()) != SQLITE_DONE) {
                    return error_from(db, "count events");
                }
            }
            return {};
        });
        if (!done) {
            return done.error();
        }
        return removed;
    });
}

}  // namespace sai::storage::sqlite
