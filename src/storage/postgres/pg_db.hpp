#pragma once
// Private to the PostgreSQL backend: a libpq connection with parameterised
// queries, result rows, and the bounded pool (with a circuit breaker) that the
// PgStore and its aggregate stores share.

#include "core/circuit_breaker.hpp"
#include "core/error.hpp"
#include "core/metrics.hpp"
#include "storage/postgres/pg_store.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::storage::pg {

/// One query parameter, sent as text (NULL when empty). Built implicitly from
/// strings, integers, doubles, booleans and optionals.
struct P {
    std::optional<std::string> v;
    P(std::nullopt_t) {}
    P(std::string_view s) : v(std::string(s)) {}
    P(const std::string& s) : v(s) {}
    P(const char* s) : v(std::string(s)) {}
    P(int i) : v(std::to_string(i)) {}
    P(long i) : v(std::to_string(i)) {}
    P(long long i) : v(std::to_string(i)) {}
    P(unsigned long i) : v(std::to_string(std::min<unsigned long>(i, 9223372036854775807UL))) {}  // sizes fit bigint
    P(double d);
    P(bool b) : v(b ? "t" : "f") {}
    P(const std::optional<std::string>& o) : v(o) {}
};
using Params = std::vector<P>;

/// `s` as PostgreSQL text can hold it: invalid UTF-8 and NUL bytes become U+FFFD.
/// For what the system records (audit, alerts, events' columns, templates, assets),
/// where refusing would lose data; user input elsewhere is refused instead (see Conn::query).
std::string storable(std::string_view s);

/// Text, or NULL when empty.
inline P text_or_null(std::string_view s) { return s.empty() ? P(std::nullopt) : P(s); }

/// A PostgreSQL array literal of text elements ('{"a","b",NULL}'), for unnest().
std::string array_literal(const std::vector<std::optional<std::string>>& values);

struct ResultFree {
    void operator()(PGresult* r) const { PQclear(r); }
};

/// The rows of one statement's result.
class Rows {
public:
    explicit Rows(PGresult* r) : r_(r) {}
    int size() const { return PQntuples(r_.get()); }
    bool empty() const { return size() == 0; }
    bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string str(int row, int col) const {
        return std::string(PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
    }
    std::optional<std::string> opt(int row, int col) const {
        return null(row, col) ? std::nullopt : std::optional<std::string>(str(row, col));
    }
    std::int64_t i64(int row, int col) const;
    double f64(int row, int col) const;
    bool boolean(int row, int col) const { return PQgetvalue(r_.get(), row, col)[0] == 't'; }
    /// A bytea column (text format) as raw bytes.
    std::string bytes(int row, int col) const;
    /// Rows affected by an INSERT/UPDATE/DELETE.
    std::int64_t affected() const;

private:
    std::unique_ptr<PGresult, ResultFree> r_;
};

struct ConnClose {
    void operator()(PGconn* c) const { PQfinish(c); }
};

/// One connection. Not thread-safe: the pool lends it to one caller at a time.
class Conn {
public:
    explicit Conn(PGconn* c) : c_(c) {}
    PGconn* raw() const { return c_.get(); }
    /// Runs one parameterised statement. Errors carry the SQLSTATE's meaning:
    /// unique violation → Conflict, connection loss → Unavailable (and the
    /// connection is marked broken), bad data → InvalidArgument, timeout → Timeout.
    core::Result<Rows> query(std::string_view sql, const Params& params = {});
    /// Runs a script of statements without parameters (migrations, BEGIN/COMMIT).
    core::Result<void> script(const std::string& sql);
    bool broken() const { return broken_ || PQstatus(c_.get()) != CONNECTION_OK; }
    /// SQLSTATE of the last failure ("" when none).
    const std::string& last_sqlstate() const { return sqlstate_; }

private:
    core::Error fail(PGresult* r, std::string_view what);
    std::unique_ptr<PGconn, ConnClose> c_;
    bool broken_ = false;
    std::string sqlstate_;
};

/// Runs `body` inside BEGIN ... COMMIT; rolls back when it fails or throws.
core::Result<void> transaction(Conn& c, const std::function<core::Result<void>()>& body);

/// A bounded pool: at most options.pool_size connections, opened lazily;
/// callers wait up to acquire_timeout for a free one. A circuit breaker counts
/// connection-level failures, so a dead database fails fast with Unavailable;
/// new connections are attempted with exponential backoff.
class Pool {
public:
    explicit Pool(const PgOptions& options);

    template <class F>
    auto with(F&& fn) -> decltype(fn(std::declval<Conn&>())) {
        auto conn = acquire();
        if (!conn) {
            return conn.error();
        }
        struct Return {
            Pool& pool;
            std::unique_ptr<Conn>& c;
            ~Return() { pool.release(std::move(c)); }
        } give_back{*this, *conn};
        return fn(**conn);
    }

    void close();
    /// "closed", "open", "half_open": the breaker's state, for health details.
    std::string_view breaker_state() const;

private:
    core::Result<std::unique_ptr<Conn>> acquire();
    void release(std::unique_ptr<Conn> c);
    core::Result<std::unique_ptr<Conn>> connect();

    PgOptions options_;
    std::mutex mutex_;
    std::condition_variable available_;
    std::vector<std::unique_ptr<Conn>> idle_;
    int open_ = 0;  // connections lent out or idle
    bool closed_ = false;
    std::int64_t next_connect_ms_ = 0;  // backoff: no new connection before this
    std::int64_t backoff_ms_ = 0;
    mutable core::CircuitBreaker breaker_;
    // Process-wide series (one pool per process outside tests).
    core::metrics::Gauge& connections_;
    core::metrics::Gauge& circuit_open_;
    core::metrics::Counter& connect_failures_;
    core::metrics::Counter& acquire_timeouts_;
    core::metrics::Counter& connections_lost_;
};

}  // namespace sai::storage::pg

namespace sai::storage {

struct PgStore::Impl {
    explicit Impl(const PgOptions& o) : options(o), pool(o) {}
    PgOptions options;
    pg::Pool pool;
    std::vector<Migration> migrations;
};

}  // namespace sai::storage
