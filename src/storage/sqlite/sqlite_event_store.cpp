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

/// The stored form of an address: 16 key bytes, or "" (stored as NULL) when not an address.
std::string address_key(const std::string& ip) {
    const std::string hex = model::ip_sort_key(ip);
    return hex.empty() ? std::string() : key_bytes(hex);
}

/// What the writer binds for one event beside its fields, made before the
/// transaction begins so that the write lock is held for SQLite work only.
struct DerivedColumns {
    std::string doc;
    std::string src_key;
    std::string dst_key;
};

std::vector<DerivedColumns> derive_columns(std::span<const model::Event> events) {
    std::vector<DerivedColumns> out;
    out.reserve(events.size());
    for (const auto& e : events) {
        out.push_back({model::event_to_json_text(e), address_key(e.source_ip), address_key(e.destination_ip)});
    }
    return out;
}

// The insert binds its values without copies (SQLITE_STATIC): the events and
// their derived columns outlive the statement's steps.
void bind_static_blob_or_null(sqlite3_stmt* s, int i, const std::string& bytes) {
    if (bytes.empty()) {
        sqlite3_bind_null(s, i);
    } else {
        sqlite3_bind_blob64(s, i, bytes.data(), bytes.size(), SQLITE_STATIC);
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
    for (const auto& e : events) {
        if (e.id.empty()) {
            return make_error(Errc::InvalidArgument, "event without an id");
        }
    }
    const auto derived = derive_columns(events);
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
            for (std::size_t i = 0; i < events.size(); ++i) {
                const auto& e = events[i];
                sqlite3_reset(s);
                bind_text(s, 1, e.id, SQLITE_STATIC);
                sqlite3_bind_int64(s, 2, e.timestamp);
                sqlite3_bind_int64(s, 3, e.ingested);
                bind_text_or_null(s, 4, e.category, SQLITE_STATIC);
                bind_text_or_null(s, 5, e.outcome, SQLITE_STATIC);
                if (e.severity) {
                    sqlite3_bind_int64(s, 6, *e.severity);
                } else {
                    sqlite3_bind_null(s, 6);
                }
                bind_text_or_null(s, 7, e.host_name, SQLITE_STATIC);
                bind_text_or_null(s, 8, e.user_name, SQLITE_STATIC);
                bind_static_blob_or_null(s, 9, derived[i].src_key);
                bind_static_blob_or_null(s, 10, derived[i].dst_key);
                if (e.anomaly_score) {
                    sqlite3_bind_double(s, 11, *e.anomaly_score);
                } else {
                    sqlite3_bind_null(s, 11);
                }
                bind_text_or_null(s, 12, e.threat_class, SQLITE_STATIC);
                bind_text(s, 13, e.message, SQLITE_STATIC);
                bind_text(s, 14, derived[i].doc, SQLITE_STATIC);
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

/// An address range of the query, with the (key, ts) index that serves it.
struct Block {
    const char* column;
    const char* index;
    const std::pair<std::string, std::string>* range;

    /// "column >= ?N AND column <= ?N+1", its bounds appended to `args`;
    /// "+column" keeps SQLite off the column's index.
    std::string where(std::vector<Arg>& args, bool unindexed = false) const {
        const std::string col = (unindexed ? "+" : "") + std::string(column);
        args.push_back({Arg::Blob, key_bytes(range->first)});
        std::string sql = col + " >= ?" + std::to_string(args.size());
        args.push_back({Arg::Blob, key_bytes(range->second)});
        return sql + " AND " + col + " <= ?" + std::to_string(args.size());
    }
};

std::vector<Block> address_ranges(const EventQuery& q) {
    std::vector<Block> out;
    if (q.source_range) out.push_back({"src_key", "events_src", &*q.source_range});
    if (q.destination_range) out.push_back({"dst_key", "events_dst", &*q.destination_range});
    return out;
}

/// The WHERE clause for everything but the full-text condition; its
/// parameters are appended to `args`. A test on `unindexed` (an address key
/// column) is written so that SQLite does not use that column's index.
std::string filters_sql(const EventQuery& q, std::vector<Arg>& args, std::string_view unindexed = {}) {
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
    for (const auto& b : address_ranges(q)) {
        sql += " AND " + b.where(args, b.column == unindexed);
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

/// The query's first address range that is a block (more than one address).
std::optional<Block> address_block(const EventQuery& q) {
    for (const auto& b : address_ranges(q)) {
        if (b.range->first != b.range->second) return b;
    }
    return std::nullopt;
}

/// Blocks with fewer events are served from their own index, larger ones by
/// walking the time index (at worst 1 in 200 of 10 million events matches:
/// 20,000 rows walked for a page of 100).
constexpr std::size_t kSortableBlock = 50000;

/// The number of events in the block, counted up to `cap` from its index alone.
Result<std::size_t> block_size(sqlite3* db, const Block& b, std::size_t cap) {
    std::vector<Arg> args;
    std::vector<std::int64_t> count;
    const std::string sql = std::string("SELECT count(*) FROM (SELECT 1 FROM events INDEXED BY ") + b.index +
                            " WHERE " + b.where(args) + " LIMIT " + std::to_string(cap) + ")";
    if (auto r = run(db, sql, args, count); !r) {
        return r.error();
    }
    return static_cast<std::size_t>(count.empty() ? 0 : count.front());
}

/// The time of the k-th newest event in the block within the query's time
/// bounds, read from the (key, ts) index alone; nullopt when it holds fewer.
Result<std::optional<std::int64_t>> kth_newest_time(sqlite3* db, const EventQuery& q, const Block& b, std::size_t k) {
    std::vector<Arg> args;
    std::string sql = std::string("SELECT ts FROM events INDEXED BY ") + b.index + " WHERE " + b.where(args);
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
/// `q` but the text, into `out`.
Result<void> newest_matching(sqlite3* db, const EventQuery& q, std::size_t n, std::vector<model::Event>& out) {
    const std::string select = std::string("SELECT ") + kEventColumns + " FROM events";
    const std::string order = " ORDER BY ts DESC, id DESC LIMIT " + std::to_string(n);
    const auto block = address_block(q);
    auto size = block ? block_size(db, *block, kSortableBlock) : Result<std::size_t>(0);
    if (!size) {
        return size.error();
    }
    if (!block || *size >= kSortableBlock) {
        // No block, or so large a share of all events that walking the time
        // index (or another filter's) finds its newest soon.
        std::vector<Arg> args;
        const std::string_view unindexed = block ? block->column : "";
        return run(db, select + " WHERE 1 = 1" + filters_sql(q, args, unindexed) + order, args, out);
    }
    // A smaller block: sorting all its events by time costs a table read each,
    // and walking the time index tests many others (a /16 of a busy network).
    // Its (key, ts) index gives the time above which it holds k events; only
    // those are read. When other filters leave fewer than n of them, k grows.
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

/// The rowids (sorted) of every event passing one of the query's indexed
/// equality filters (host, user, an address or block), read from that index
/// alone; nullopt when there is no such filter or each passes over `cap` events.
Result<std::optional<std::vector<std::int64_t>>> candidate_rowids(sqlite3* db, const EventQuery& q, std::size_t cap) {
    struct Source {
        std::string where;
        std::vector<Arg> args;
    };
    std::vector<Source> sources;
    if (q.host) sources.push_back({"host = ?1", {{Arg::Text, *q.host}}});
    if (q.user) sources.push_back({"user_name = ?1", {{Arg::Text, *q.user}}});
    for (const auto& b : address_ranges(q)) {
        Source source;
        source.where = b.where(source.args);
        sources.push_back(std::move(source));
    }
    for (const auto& source : sources) {
        std::vector<std::int64_t> rowids;
        const std::string sql = "SELECT rowid FROM events WHERE " + source.where + " LIMIT " + std::to_string(cap + 1);
        if (auto r = run(db, sql, source.args, rowids); !r) {
            return r.error();
        }
        if (rowids.size() <= cap) {
            std::sort(rowids.begin(), rowids.end());
            return std::optional(std::move(rowids));
        }
    }
    return std::nullopt;
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
        // Text first: walk the matches newest-stored first (FTS5 reads a doclist
        // backwards, lazily), read the events that pass the other filters, and
        // stop once enough were found. Results are the matching events among the
        // most recently stored, newest first by @timestamp. An indexed filter
        // (host, user, address) first gives the rowids that can pass, so the
        // matches of other hosts cost a lookup in memory, not a table read.
        constexpr std::size_t kMaxCandidates = 65536;
        constexpr std::size_t kMaxExamined = 262144;  // matches walked without finding enough
        auto candidates = candidate_rowids(db, q, kMaxCandidates);
        if (!candidates) {
            return candidates.error();
        }
        auto matches = prepare(db, "SELECT rowid FROM events_fts WHERE events_fts MATCH ?1 ORDER BY rowid DESC");
        if (!matches) {
            return matches.error();
        }
        std::vector<Arg> args{{Arg::Int, {}, 0}};  // ?1: the rowid
        auto fetch = prepare(db, "SELECT doc, ingested FROM events WHERE rowid = ?1" + filters_sql(q, args));
        if (!fetch) {
            return fetch.error();
        }
        bind_text(matches->get(), 1, *match);
        for (std::size_t examined = 0; out.size() < q.limit && examined < kMaxExamined; ++examined) {
            const int rc = sqlite3_step(matches->get());
            if (rc == SQLITE_DONE) {
                break;
            }
            if (rc != SQLITE_ROW) {
                return error_from(db, "full-text search");
            }
            const std::int64_t rowid = sqlite3_column_int64(matches->get(), 0);
            if (*candidates && !std::binary_search((*candidates)->begin(), (*candidates)->end(), rowid)) {
                continue;
            }
            sqlite3_reset(fetch->get());
            args[0].i = rowid;
            bind_args(fetch->get(), args);
            if (auto r = collect(db, fetch->get(), out); !r) {
                return r.error();
            }
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
