#include "sqlite_ml_store.hpp"

namespace sai::storage::sqlite {

using core::Result;

Result<void> SqliteMlStore::upsert_model(const MlModelRecord& m) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db,
                            "INSERT OR REPLACE INTO ml_models (id, type, version, created_at, window_from, window_to, "
                            "rows, params, schema_name, schema_version, metrics, status, training_id) "
                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        bind_text(s, 1, m.id);
        bind_text(s, 2, m.type);
        sqlite3_bind_int64(s, 3, m.version);
        sqlite3_bind_int64(s, 4, m.created_at);
        sqlite3_bind_int64(s, 5, m.window_from);
        sqlite3_bind_int64(s, 6, m.window_to);
        sqlite3_bind_int64(s, 7, m.rows);
        bind_text(s, 8, m.params.empty() ? "{}" : m.params);
        bind_text(s, 9, m.schema_name);
        sqlite3_bind_int64(s, 10, m.schema_version);
        bind_text(s, 11, m.metrics.empty() ? "{}" : m.metrics);
        bind_text(s, 12, m.status);
        bind_text(s, 13, m.training_id);
        if (sqlite3_step(s) != SQLITE_DONE) return error_from(db, "store model metadata");
        return {};
    });
}

Result<std::vector<MlModelRecord>> SqliteMlStore::models() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<MlModelRecord>> {
        auto stmt = prepare(db,
                            "SELECT id, type, version, created_at, window_from, window_to, rows, params, schema_name, "
                            "schema_version, metrics, status, training_id FROM ml_models ORDER BY type, version");
        if (!stmt) return stmt.error();
        std::vector<MlModelRecord> out;
        auto* s = stmt->get();
        for (;;) {
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW) return error_from(db, "read model metadata");
            MlModelRecord m;
            m.id = column_text(s, 0);
            m.type = column_text(s, 1);
            m.version = sqlite3_column_int64(s, 2);
            m.created_at = sqlite3_column_int64(s, 3);
            m.window_from = sqlite3_column_int64(s, 4);
            m.window_to = sqlite3_column_int64(s, 5);
            m.rows = sqlite3_column_int64(s, 6);
            m.params = column_text(s, 7);
            m.schema_name = column_text(s, 8);
            m.schema_version = sqlite3_column_int64(s, 9);
            m.metrics = column_text(s, 10);
            m.status = column_text(s, 11);
            m.training_id = column_text(s, 12);
            out.push_back(std::move(m));
        }
    });
}

Result<void> SqliteMlStore::upsert_training_job(const TrainingJobRecord& j) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db,
                            "INSERT OR REPLACE INTO ml_training_jobs (id, state, created_at, finished_at, job) "
                            "VALUES (?1, ?2, ?3, ?4, ?5)");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        bind_text(s, 1, j.id);
        bind_text(s, 2, j.state);
        sqlite3_bind_int64(s, 3, j.created_at);
        sqlite3_bind_int64(s, 4, j.finished_at);
        bind_text(s, 5, j.job.empty() ? "{}" : j.job);
        if (sqlite3_step(s) != SQLITE_DONE) return error_from(db, "store training job");
        return {};
    });
}

Result<std::vector<TrainingJobRecord>> SqliteMlStore::training_jobs(std::size_t limit) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<TrainingJobRecord>> {
        auto stmt = prepare(db,
                            "SELECT id, state, created_at, finished_at, job FROM ml_training_jobs "
                            "ORDER BY id DESC LIMIT ?1");
        if (!stmt) return stmt.error();
        auto* s = stmt->get();
        sqlite3_bind_int64(s, 1, static_cast<sqlite3_int64>(limit));
        std::vector<TrainingJobRecord> out;
        for (;;) {
            const int rc = sqlite3_step(s);
            if (rc == SQLITE_DONE) return out;
            if (rc != SQLITE_ROW) return error_from(db, "read training jobs");
            out.push_back({column_text(s, 0), column_text(s, 1), sqlite3_column_int64(s, 2),
                           sqlite3_column_int64(s, 3), column_text(s, 4)});
        }
    });
}

}  // namespace sai::storage::sqlite
