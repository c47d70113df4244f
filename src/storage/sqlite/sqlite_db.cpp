#include "sqlite_db.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

namespace sai::storage::sqlite {

core::Error error_from(sqlite3* db, std::string_view what) {
    const int code = db ? sqlite3_extended_errcode(db) : SQLITE_ERROR;
    const int primary = code & 0xff;
    const auto errc = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
                       primary == SQLITE_CANTOPEN || primary == SQLITE_FULL || primary == SQLITE_READONLY)
                          ? core::Errc::Unavailable
                          : primary == SQLITE_CONSTRAINT ? core::Errc::Conflict : core::Errc::Internal;
    return core::make_error(errc, std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(code)));
}

namespace {

/// SQLite keeps allocation statistics, which nothing here reads, under a global
/// mutex taken on every allocation: off, once, before the library initialises
/// (if something else initialised it first, the call fails and nothing changes).
void configure_library() {
    static const int once = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    (void)once;
}

}  // namespace

core::Result<Db> open_connection(const std::string& file, bool read_only, const SqliteOptions& options) {
    configure_library();
    sqlite3* raw = nullptr;
    const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    const int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) {
        return error_from(db.get(), "open " + file);
    }
    sqlite3_busy_timeout(db.get(), static_cast<int>(options.busy_timeout.count()));
    std::string pragmas = "PRAGMA foreign_keys=ON;";
    if (!read_only) {
        // A larger page cache keeps the event indexes hot: inserts are several times faster.
        pragmas += "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA journal_mode=WAL; PRAGMA synchronous=" +
                   std::string(options.synchronous == "normal" ? "NORMAL" : "FULL") + ";";
    }
    if (auto r = exec(db.get(), pragmas); !r) {
        return r.error();
    }
    return db;
}

core::Result<void> exec(sqlite3* db, const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        auto err = error_from(db, "exec");
        sqlite3_free(message);
        return err;
    }
    return {};
}

core::Result<Stmt> prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
        return error_from(db, "prepare");
    }
    return Stmt(raw);
}

void bind_text(sqlite3_stmt* stmt, int index, std::string_view value, sqlite3_destructor_type lifetime) {
    sqlite3_bind_text64(stmt, index, value.data(), value.size(), lifetime, SQLITE_UTF8);
}

void bind_text_or_null(sqlite3_stmt* stmt, int index, std::string_view value, sqlite3_destructor_type lifetime) {
    if (value.empty()) {
        sqlite3_bind_null(stmt, index);
    } else {
        bind_text(stmt, index, value, lifetime);
    }
}

core::Result<void> step_done(sqlite3* db, sqlite3_stmt* stmt, std::string_view what) {
    const int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return error_from(db, what);
    }
    return {};
}

std::string json_string_array(const std::vector<std::string>& values) {
    return model::to_json_text(boost::json::array(values.begin(), values.end()));
}


std::string column_text(sqlite3_stmt* stmt, int column) {
    const auto* text = sqlite3_column_text(stmt, column);
    const int size = sqlite3_column_bytes(stmt, column);
    return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)) : std::string();
}

core::Result<void> transaction(sqlite3* db, const std::function<core::Result<void>()>& body) {
    if (auto r = exec(db, "BEGIN IMMEDIATE"); !r) {
        return r;
    }
    core::Result<void> result;
    try {
        result = body();
    } catch (...) {
        (void)exec(db, "ROLLBACK");
        throw;
    }
    if (!result) {
        (void)exec(db, "ROLLBACK");
        return result;
    }
    if (auto r = exec(db, "COMMIT"); !r) {
        (void)exec(db, "ROLLBACK");
        return r;
    }
    return {};
}

}  // namespace sai::storage::sqlite
