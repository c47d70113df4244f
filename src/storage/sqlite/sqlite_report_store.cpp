#include "sqlite_report_store.hpp"

namespace sai::storage::sqlite {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kColumns =
    "id, type, format, status, error, created_by, created_at, finished_at, from_ms, to_ms, filters, size_bytes";

model::Report read_report(sqlite3_stmt* s) {
    model::Report r;
    r.id = column_text(s, 0);
    r.type = column_text(s, 1);
    r.format = column_text(s, 2);
    r.status = model::parse_report_status(column_text(s, 3)).value_or(model::ReportStatus::Failed);
    r.error = column_text(s, 4);
    r.created_by = column_text(s, 5);
    r.created_at = sqlite3_column_int64(s, 6);
    r.finished_at = sqlite3_column_int64(s, 7);
    r.from_ms = sqlite3_column_int64(s, 8);
    r.to_ms = sqlite3_column_int64(s, 9);
    r.filters = column_text(s, 10);
    r.size_bytes = sqlite3_column_int64(s, 11);
    return r;
}

// Binds every column but id at 2..12, in kColumns order.
void bind_fields(sqlite3_stmt* s, const model::Report& r) {
    bind_text(s, 2, r.type);
    bind_text(s, 3, r.format);
    bind_text(s, 4, model::to_string(r.status));
    bind_text(s, 5, r.error);
    bind_text(s, 6, r.created_by);
    sqlite3_bind_int64(s, 7, r.created_at);
    sqlite3_bind_int64(s, 8, r.finished_at);
    sqlite3_bind_int64(s, 9, r.from_ms);
    sqlite3_bind_int64(s, 10, r.to_ms);
    bind_text(s, 11, r.filters.empty() ? "{}" : r.filters);
    sqlite3_bind_int64(s, 12, r.size_bytes);
}

Result<std::vector<model::Report>> collect(sqlite3* db, sqlite3_stmt* s) {
    std::vector<model::Report> out;
    for (;;) {
        const int rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) return out;
        if (rc != SQLITE_ROW) return error_from(db, "read reports");
        out.push_back(read_report(s));
    }
}

}  // namespace

Result<void> SqliteReportStore::insert(const model::Report& r) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "INSERT INTO reports (" + std::string(kColumns) +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, r.id);
        bind_fields(stmt->get(), r);
        if (sqlite3_step(stmt->get()) != SQLITE_DONE) return error_from(db, "insert report");
        return {};
    });
}

Result<void> SqliteReportStore::update(const model::Report& r) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db,
                            "UPDATE reports SET type = ?2, format = ?3, status = ?4, error = ?5, created_by = ?6, "
                            "created_at = ?7, finished_at = ?8, from_ms = ?9, to_ms = ?10, filters = ?11, "
                            "size_bytes = ?12 WHERE id = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, r.id);
        bind_fields(stmt->get(), r);
        if (sqlite3_step(stmt->get()) != SQLITE_DONE) return error_from(db, "update report");
        if (sqlite3_changes(db) == 0) return make_error(Errc::NotFound, "report not found");
        return {};
    });
}

Result<model::Report> SqliteReportStore::get(std::string_view id) {
    return db_.with_reader([&](sqlite3* db) -> Result<model::Report> {
        auto stmt = prepare(db, "SELECT " + std::string(kColumns) + " FROM reports WHERE id = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, id);
        switch (sqlite3_step(stmt->get())) {
        case SQLITE_ROW: return read_report(stmt->get());
        case SQLITE_DONE: return make_error(Errc::NotFound, "report not found");
        default: return error_from(db, "read report");
        }
    });
}

Result<std::vector<model::Report>> SqliteReportStore::list(const ReportQuery& q) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Report>> {
        // Fixed placeholders: an absent filter binds NULL and matches everything.
        auto stmt = prepare(db, "SELECT " + std::string(kColumns) +
                                    " FROM reports WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR status = ?2) "
                                    "AND (?3 IS NULL OR created_by = ?3) AND (?4 IS NULL OR created_at < ?4 OR "
                                    "(created_at = ?4 AND id < ?5)) ORDER BY created_at DESC, id DESC LIMIT ?6");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        if (q.type) bind_text(s, 1, *q.type);
        if (q.status) bind_text(s, 2, model::to_string(*q.status));
        if (q.created_by) bind_text(s, 3, *q.created_by);
        if (q.before) {
            sqlite3_bind_int64(s, 4, q.before->first);
            bind_text(s, 5, q.before->second);
        }
        sqlite3_bind_int64(s, 6, static_cast<sqlite3_int64>(q.limit));
        return collect(db, s);
    });
}

Result<void> SqliteReportStore::remove(std::string_view id) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "DELETE FROM reports WHERE id = ?1");
        if (!stmt) return stmt.error();
        bind_text(stmt->get(), 1, id);
        if (sqlite3_step(stmt->get()) != SQLITE_DONE) return error_from(db, "delete report");
        if (sqlite3_changes(db) == 0) return make_error(Errc::NotFound, "report not found");
        return {};
    });
}

Result<std::vector<model::Report>> SqliteReportStore::created_before(std::int64_t before_ms, std::size_t limit) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Report>> {
        auto stmt = prepare(db, "SELECT " + std::string(kColumns) +
                                    " FROM reports WHERE created_at < ?1 ORDER BY created_at, id LIMIT ?2");
        if (!stmt) return stmt.error();
        sqlite3_bind_int64(stmt->get(), 1, before_ms);
        sqlite3_bind_int64(stmt->get(), 2, static_cast<sqlite3_int64>(limit));
        return collect(db, stmt->get());
    });
}

Result<std::vector<model::Report>> SqliteReportStore::unfinished() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::Report>> {
        auto stmt = prepare(db, "SELECT " + std::string(kColumns) +
                                    " FROM reports WHERE status IN ('queued', 'running') ORDER BY created_at, id "
                                    "LIMIT 10000");
        if (!stmt) return stmt.error();
        return collect(db, stmt->get());
    });
}

}  // namespace sai::storage::sqlite
