#include "sqlite_template_store.hpp"

namespace sai::storage::sqlite {

using core::Result;

Result<void> SqliteTemplateStore::save_templates(std::span<const TemplateRecord> templates) {
    if (templates.empty()) return {};
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        return transaction(db, [&]() -> Result<void> {
            auto stmt = prepare(db,
                                "INSERT OR REPLACE INTO log_templates (id, format, text, count, first_seen, last_seen) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
            if (!stmt) return stmt.error();
            auto* s = stmt->get();
            for (const auto& t : templates) {
                sqlite3_reset(s);
                bind_text(s, 1, t.id);
                bind_text(s, 2, t.format);
                bind_text(s, 3, t.text);
                sqlite3_bind_int64(s, 4, t.count);
                sqlite3_bind_int64(s, 5, t.first_seen);
                sqlite3_bind_int64(s, 6, t.last_seen);
                if (sqlite3_step(s) != SQLITE_DONE) return error_from(db, "save log template");
            }
            return {};
        });
    });
}

Result<void> SqliteTemplateStore::delete_templates(std::span<const std::string> ids) {
    if (ids.empty()) return {};
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        return transaction(db, [&]() -> Result<void> {
            auto stmt = prepare(db, "DELETE FROM log_templates WHERE id = ?1");
            if (!stmt) return stmt.error();
            for (const auto& id : ids) {
                sqlite3_reset(stmt->get());
                bind_text(stmt->get(), 1, id);
                if (sqlite3_step(stmt->get()) != SQLITE_DONE) return error_from(db, "delete log template");
            }
            return {};
        });
    });
}

Result<std::vector<TemplateRecord>> SqliteTemplateStore::load_templates() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<TemplateRecord>> {
        auto stmt = prepare(db, "SELECT id, format, text, count, first_seen, last_seen FROM log_templates ORDER BY id");
        if (!stmt) return stmt.error();
        std::vector<TemplateRecord> out;
        for (;;) {
            const int rc = sqlite3_step(stmt->get());
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW) return error_from(db, "load log templates");
            auto* s = stmt->get();
            out.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), sqlite3_column_int64(s, 3),
                           sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5)});
        }
    });
}

}  // namespace sai::storage::sqlite
