#include "pg_db.hpp"

#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <charconv>
#include <cstdlib>

namespace sai::storage::pg {
namespace {

using core::Errc;
using core::make_error;

/// What a SQLSTATE means to callers.
Errc errc_of(std::string_view state) {
    if (state == "23505" || state == "23503" || state == "23P01") return Errc::Conflict;  // unique, foreign key, exclusion
    if (state == "57014") return Errc::Timeout;                                            // statement_timeout
    if (state == "40001" || state == "40P01" || state == "55P03") return Errc::Unavailable;  // retry may help
    if (state.starts_with("08") || state.starts_with("53") || state.starts_with("57P") || state == "25006") {
        return Errc::Unavailable;  // connection, resources, shutdown, read-only replica
    }
    if (state.starts_with("22") || state == "23502" || state == "23514") return Errc::InvalidArgument;
    return Errc::Internal;
}

}  // namespace

P::P(double d) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    v = ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

std::string storable(std::string_view s) {
    // Fast path for the common case, plain ASCII without NUL (log text mostly is).
    bool plain = true;
    for (unsigned char c : s) {
        if (c == 0 || c >= 0x80) {
            plain = false;
            break;
        }
    }
    if (plain) return std::string(s);
    std::string out = core::sanitize_utf8(s);
    for (std::size_t pos = out.find('\0'); pos != std::string::npos; pos = out.find('\0', pos)) {
        out.replace(pos, 1, "\xEF\xBF\xBD");
    }
    return out;
}

std::string array_literal(const std::vector<std::optional<std::string>>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        if (!values[i]) {
            out += "NULL";
            continue;
        }
        out += '"';
        for (char c : *values[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return out;
}

std::int64_t Rows::i64(int row, int col) const {
    const char* s = PQgetvalue(r_.get(), row, col);
    const int n = PQgetlength(r_.get(), row, col);
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(s, s + n, v);
    if (ec != std::errc() || (ptr != s + n && *ptr == '.')) {
        return static_cast<std::int64_t>(std::strtod(s, nullptr));  // numeric results (sum, avg)
    }
    return v;
}

double Rows::f64(int row, int col) const { return std::strtod(PQgetvalue(r_.get(), row, col), nullptr); }

std::string Rows::bytes(int row, int col) const {
    std::size_t n = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_.get(), row, col)), &n);
    if (!raw) return {};
    std::string out(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
    return out;
}

std::int64_t Rows::affected() const {
    const char* s = PQcmdTuples(r_.get());
    return s && *s ? std::strtoll(s, nullptr, 10) : 0;
}

core::Error Conn::fail(PGresult* r, std::string_view what) {
    const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    sqlstate_ = state ? state : "";
    std::string message = r ? PQresultErrorMessage(r) : "";
    if (message.empty()) message = PQerrorMessage(c_.get());
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    if (r) PQclear(r);
    if (PQstatus(c_.get()) != CONNECTION_OK || sqlstate_.empty() || sqlstate_.starts_with("08") ||
        sqlstate_.starts_with("57P")) {
        broken_ = true;
        return make_error(Errc::Unavailable, "PostgreSQL unavailable: " + std::string(what) + ": " + message);
    }
    return make_error(errc_of(sqlstate_), std::string(what) + ": " + message);
}

core::Result<Rows> Conn::query(std::string_view sql, const Params& params) {
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) {
        if (p.v && p.v->find('\0') != std::string::npos) {
            // libpq would cut the value at the NUL: refuse rather than store something else.
            return make_error(Errc::InvalidArgument, "text contains a NUL byte, which PostgreSQL cannot store");
        }
        values.push_back(p.v ? p.v->c_str() : nullptr);
    }
    const std::string text(sql);
    PGresult* r = PQexecParams(c_.get(), text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return fail(r, "query");
    }
    sqlstate_.clear();
    return Rows(r);
}

core::Result<void> Conn::script(const std::string& sql) {
    PGresult* r = PQexec(c_.get(), sql.c_str());
    const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        return fail(r, "exec");
    }
    PQclear(r);
    return {};  // sqlstate_ is kept: a ROLLBACK after a failure must not hide why
}

core::Result<void> transaction(Conn& c, const std::function<core::Result<void>()>& body) {
    if (auto r = c.script("BEGIN"); !r) {
        return r;
    }
    core::Result<void> result;
    try {
        result = body();
    } catch (...) {
        (void)c.script("ROLLBACK");
        throw;
    }
    if (!result) {
        if (!c.broken()) (void)c.script("ROLLBACK");
        return result;
    }
    if (auto r = c.script("COMMIT"); !r) {
        // A lost connection during COMMIT leaves the outcome unknown: the caller
        // sees Unavailable and retries (inserts are idempotent by id).
        if (!c.broken()) (void)c.script("ROLLBACK");
        return r;
    }
    return {};
}

Pool::Pool(const PgOptions& options)
    : options_(options),
      breaker_(std::max(1, options.breaker_threshold), options.breaker_cooldown),
      connections_(core::metrics::default_registry().gauge("securityai_postgres_connections",
                                                           "PostgreSQL connections open (idle or in use).")),
      circuit_open_(core::metrics::default_registry().gauge(
          "securityai_postgres_circuit_open", "1 while the PostgreSQL circuit breaker refuses calls, else 0.")),
      connect_failures_(core::metrics::default_registry().counter("securityai_postgres_connect_failures_total",
                                                                  "Failed attempts to connect to PostgreSQL.")),
      acquire_timeouts_(core::metrics::default_registry().counter(
          "securityai_postgres_pool_timeouts_total", "Store calls refused after waiting for a free connection.")),
      connections_lost_(core::metrics::default_registry().counter(
          "securityai_postgres_connections_lost_total", "Connections found broken (server gone, network).")) {
    if (options_.pool_size < 1) options_.pool_size = 1;
}

std::string_view Pool::breaker_state() const { return core::to_string(breaker_.state(core::now_unix_ms())); }

core::Result<std::unique_ptr<Conn>> Pool::connect() {
    const std::string timeout = std::to_string(std::max<std::int64_t>(1, options_.connect_timeout.count()));
    const char* keys[] = {"dbname", "connect_timeout", "application_name", nullptr};
    const char* values[] = {options_.url.c_str(), timeout.c_str(), "securityai", nullptr};
    auto c = std::make_unique<Conn>(PQconnectdbParams(keys, values, 1));
    if (!c->raw() || PQstatus(c->raw()) != CONNECTION_OK) {
        std::string message = c->raw() ? PQerrorMessage(c->raw()) : "out of memory";
        while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
        // The message names host and port, never the password.
        return make_error(Errc::Unavailable, "PostgreSQL unavailable: connect: " + message);
    }
    // UTC and a bound on every statement; plain strings, as libpq sends them.
    const std::string setup = "SET statement_timeout = " + std::to_string(options_.statement_timeout.count()) +
                              "; SET TIME ZONE 'UTC'; SET client_min_messages = warning";
    if (auto r = c->script(setup); !r) {
        return r.error();
    }
    return c;
}

core::Result<std::unique_ptr<Conn>> Pool::acquire() {
    std::unique_ptr<Conn> conn;
    {
        std::unique_lock lock(mutex_);
        const bool ready = available_.wait_for(lock, options_.acquire_timeout, [&] {
            return closed_ || !idle_.empty() || open_ < options_.pool_size;
        });
        if (closed_) return make_error(Errc::Unavailable, "store is closed");
        if (!ready) {
            acquire_timeouts_.inc();
            return make_error(Errc::Unavailable, "PostgreSQL connection pool exhausted (timed out waiting)");
        }
        const auto now = core::now_unix_ms();
        if (!breaker_.allow(now)) {
            circuit_open_.set(1);
            return make_error(Errc::Unavailable, "PostgreSQL unavailable (circuit open after repeated failures)");
        }
        if (!idle_.empty()) {
            conn = std::move(idle_.back());
            idle_.pop_back();
            return conn;
        }
        if (now < next_connect_ms_) {
            breaker_.on_failure(now);
            return make_error(Errc::Unavailable, "PostgreSQL unavailable (reconnecting)");
        }
        ++open_;  // reserve the slot while connecting without the lock
    }
    auto c = connect();
    std::lock_guard lock(mutex_);
    const auto now = core::now_unix_ms();
    if (!c) {
        --open_;
        connect_failures_.inc();
        breaker_.on_failure(now);
        backoff_ms_ = std::min<std::int64_t>(2000, backoff_ms_ == 0 ? 100 : backoff_ms_ * 2);
        next_connect_ms_ = now + backoff_ms_;
        available_.notify_one();
        return c.error();
    }
    backoff_ms_ = 0;
    next_connect_ms_ = 0;
    connections_.set(open_);
    return c;
}

void Pool::release(std::unique_ptr<Conn> c) {
    {
        std::lock_guard lock(mutex_);
        const auto now = core::now_unix_ms();
        if (!c || c->broken()) {
            // The server went away: the idle connections are most likely dead too.
            breaker_.on_failure(now);
            connections_lost_.inc();
            open_ -= 1 + static_cast<int>(idle_.size());
            idle_.clear();
            connections_.set(open_);
        } else {
            if (PQtransactionStatus(c->raw()) != PQTRANS_IDLE) {
                (void)c->script("ROLLBACK");  // never hand out a connection inside a transaction
            }
            breaker_.on_success();
            circuit_open_.set(0);
            if (closed_) {
                --open_;
            } else {
                idle_.push_back(std::move(c));
            }
        }
    }
    available_.notify_all();
}

void Pool::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        open_ -= static_cast<int>(idle_.size());
        idle_.clear();
    }
    available_.notify_all();
}

}  // namespace sai::storage::pg
