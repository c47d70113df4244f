#pragma once
// Private to the SQLite backend: RAII handles and the connection pool that the
// SqliteStore and the per-aggregate SQLite stores share.

#include "core/error.hpp"
#include "storage/common/json_columns.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sai::storage::sqlite {

struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

/// A failed call as a Result error; busy/locked map to Unavailable.
core::Error error_from(sqlite3* db, std::string_view what);

core::Result<Db> open_connection(const std::string& file, bool read_only, const SqliteOptions& options);
core::Result<void> exec(sqlite3* db, const std::string& sql);
core::Result<Stmt> prepare(sqlite3* db, std::string_view sql);

/// Binds text; SQLITE_TRANSIENT (the default) copies it, so the value may be a temporary.
/// SQLITE_STATIC binds without a copy: the value must outlive the statement's steps.
void bind_text(sqlite3_stmt* stmt, int index, std::string_view value,
               sqlite3_destructor_type lifetime = SQLITE_TRANSIENT);
std::string column_text(sqlite3_stmt* stmt, int column);

/// Binds text, or NULL when `value` is empty.
void bind_text_or_null(sqlite3_stmt* stmt, int index, std::string_view value,
                       sqlite3_destructor_type lifetime = SQLITE_TRANSIENT);
/// Steps a write statement to completion; `what` names it in errors.
core::Result<void> step_done(sqlite3* db, sqlite3_stmt* stmt, std::string_view what);
/// Lists of strings stored as JSON arrays; malformed text reads as an empty list.
std::string json_string_array(const std::vector<std::string>& values);

/// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it fails or throws.
core::Result<void> transaction(sqlite3* db, const std::function<core::Result<void>()>& body);

}  // namespace sai::storage::sqlite

namespace sai::storage {

/// Connections of one database file: one writer, a pool of readers.
struct SqliteStore::Impl {
    SqliteOptions options;
    std::string file;
    std::vector<Migration> migrations;

    std::mutex write_mutex;
    sqlite::Db writer;

    std::mutex read_mutex;
    std::condition_variable read_available;
    std::vector<sqlite::Db> readers;  // idle readers
    bool closed = false;

    std::uint64_t inode = 0;  // of the file we opened, to notice it being replaced or removed

    /// Runs `fn` with the writer connection, serialised with other writers.
    template <class F>
    auto with_writer(F&& fn) -> decltype(fn(static_cast<sqlite3*>(nullptr))) {
        std::lock_guard lock(write_mutex);
        if (!writer) {
            return core::make_error(core::Errc::Unavailable, "store is closed");
        }
        return fn(writer.get());
    }

    /// Runs `fn` with an idle reader connection (waits for one when all are busy).
    template <class F>
    auto with_reader(F&& fn) -> decltype(fn(static_cast<sqlite3*>(nullptr))) {
        sqlite::Db db;
        {
            std::unique_lock lock(read_mutex);
            read_available.wait(lock, [&] { return closed || !readers.empty(); });
            if (closed) {
                return core::make_error(core::Errc::Unavailable, "store is closed");
            }
            db = std::move(readers.back());
            readers.pop_back();
        }
        struct Return {
            Impl& impl;
            sqlite::Db& db;
            ~Return() {
                {
                    std::lock_guard lock(impl.read_mutex);
                    if (!impl.closed) {
                        impl.readers.push_back(std::move(db));
                    }
                }
                impl.read_available.notify_one();
            }
        } give_back{*this, db};
        return fn(db.get());
    }
};

}  // namespace sai::storage
