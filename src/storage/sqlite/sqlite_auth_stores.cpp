#include "sqlite_auth_stores.hpp"

namespace sai::storage::sqlite {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

std::optional<std::string> optional_text(sqlite3_stmt* stmt, int column) {
    if (sqlite3_column_type(stmt, column) == SQLITE_NULL) {
        return std::nullopt;
    }
    return column_text(stmt, column);
}

void bind_optional(sqlite3_stmt* stmt, int index, const std::optional<std::string>& value) {
    if (value) {
        bind_text(stmt, index, *value);
    } else {
        sqlite3_bind_null(stmt, index);
    }
}

/// Collects every row of `stmt` with `read`.
template <class T, class Read>
Result<std::vector<T>> collect(sqlite3* db, sqlite3_stmt* stmt, Read read, std::string_view what) {
    std::vector<T> out;
    for (;;) {
        const int rc = sqlite3_step(stmt);
        if (rc == SQLITE_DONE) {
            return out;
        }
        if (rc != SQLITE_ROW) {
            return error_from(db, what);
        }
        out.push_back(read(stmt));
    }
}

constexpr std::string_view kUserColumns =
    "id, username, role, password_hash, disabled, created_at, updated_at, last_login, token_generation";

/// Binds ?1..?9 in kUserColumns order.
void bind_user(sqlite3_stmt* s, const model::User& u) {
    bind_text(s, 1, u.id);
    bind_text(s, 2, u.username);
    bind_text(s, 3, model::to_string(u.role));
    bind_text(s, 4, u.password_hash);
    sqlite3_bind_int(s, 5, u.disabled ? 1 : 0);
    bind_text(s, 6, u.created_at);
    bind_text(s, 7, u.updated_at);
    bind_optional(s, 8, u.last_login);
    sqlite3_bind_int64(s, 9, u.token_generation);
}

/// Runs a user write; a uniqueness violation means the username is taken.
Result<void> write_user(sqlite3* db, sqlite3_stmt* s, const model::User& u, std::string_view what) {
    if (sqlite3_step(s) != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CONSTRAINT) {
            return make_error(Errc::Conflict, "username '" + u.username + "' is taken");
        }
        return error_from(db, what);
    }
    return {};
}

model::User read_user(sqlite3_stmt* s) {
    model::User u;
    u.id = column_text(s, 0);
    u.username = column_text(s, 1);
    u.role = model::parse_role(column_text(s, 2)).value_or(model::Role::Viewer);
    u.password_hash = column_text(s, 3);
    u.disabled = sqlite3_column_int(s, 4) != 0;
    u.created_at = column_text(s, 5);
    u.updated_at = column_text(s, 6);
    u.last_login = optional_text(s, 7);
    u.token_generation = sqlite3_column_int64(s, 8);
    return u;
}

Result<model::User> one_user(sqlite3* db, std::string_view where, std::string_view value, std::string_view what) {
    auto stmt = prepare(db, "SELECT " + std::string(kUserColumns) + " FROM users WHERE " + std::string(where));
    if (!stmt) {
        return stmt.error();
    }
    bind_text(stmt->get(), 1, value);
    switch (sqlite3_step(stmt->get())) {
    case SQLITE_ROW: return read_user(stmt->get());
    case SQLITE_DONE: return make_error(Errc::NotFound, std::string(what) + " not found");
    default: return error_from(db, "read user");
    }
}

constexpr std::string_view kKeyColumns =
    "id, name, role, prefix, key_hash, created_by, created_at, expires_at, revoked, last_used_at";

model::ApiKey read_key(sqlite3_stmt* s) {
    model::ApiKey k;
    k.id = column_text(s, 0);
    k.name = column_text(s, 1);
    k.role = model::parse_role(column_text(s, 2)).value_or(model::Role::Viewer);
    k.prefix = column_text(s, 3);
    k.key_hash = column_text(s, 4);
    k.created_by = column_text(s, 5);
    k.created_at = column_text(s, 6);
    k.expires_at = optional_text(s, 7);
    k.revoked = sqlite3_column_int(s, 8) != 0;
    k.last_used_at = optional_text(s, 9);
    return k;
}

constexpr std::string_view kAuditColumns =
    "seq, ts, actor, role, client_ip, request_id, action, target, outcome, detail, prev_hash, hash";

AuditRecord read_audit(sqlite3_stmt* s) {
    AuditRecord r;
    r.seq = sqlite3_column_int64(s, 0);
    r.ts = column_text(s, 1);
    r.actor = column_text(s, 2);
    r.role = column_text(s, 3);
    r.client_ip = column_text(s, 4);
    r.request_id = column_text(s, 5);
    r.action = column_text(s, 6);
    r.target = column_text(s, 7);
    r.outcome = column_text(s, 8);
    r.detail = column_text(s, 9);
    r.prev_hash = column_text(s, 10);
    r.hash = column_text(s, 11);
    return r;
}

}  // namespace

// ---- users

Result<void> SqliteUserStore::create(const model::User& u) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "INSERT INTO users (" + std::string(kUserColumns) +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
        if (!stmt) {
            return stmt.error();
        }
        bind_user(stmt->get(), u);
        return write_user(db, stmt->get(), u, "create user");
    });
}

Result<model::User> SqliteUserStore::get(std::string_view id) {
    return db_.with_reader([&](sqlite3* db) { return one_user(db, "id = ?1", id, "user"); });
}

Result<model::User> SqliteUserStore::find_by_username(std::string_view username) {
    return db_.with_reader([&](sqlite3* db) { return one_user(db, "username = ?1", username, "user"); });
}

Result<std::vector<model::User>> SqliteUserStore::list(std::size_t limit, std::string_view after) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::User>> {
        auto stmt = prepare(db, "SELECT " + std::string(kUserColumns) + " FROM users WHERE id > ?1 ORDER BY id LIMIT ?2");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, after);
        sqlite3_bind_int64(stmt->get(), 2, static_cast<sqlite3_int64>(limit));
        return collect<model::User>(db, stmt->get(), read_user, "list users");
    });
}

Result<void> SqliteUserStore::update(const model::User& u) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        // ?6 (created_at) is bound by bind_user but not used: it never changes.
        auto stmt = prepare(db,
                            "UPDATE users SET username = ?2, role = ?3, password_hash = ?4, disabled = ?5, "
                            "updated_at = ?7, last_login = ?8, token_generation = ?9 WHERE id = ?1");
        if (!stmt) {
            return stmt.error();
        }
        bind_user(stmt->get(), u);
        if (auto r = write_user(db, stmt->get(), u, "update user"); !r) {
            return r;
        }
        if (sqlite3_changes(db) == 0) {
            return make_error(Errc::NotFound, "user not found");
        }
        return {};
    });
}

Result<void> SqliteUserStore::remove(std::string_view id) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "DELETE FROM users WHERE id = ?1");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, id);
        if (auto r = step_done(db, stmt->get(), "delete user"); !r) {
            return r;
        }
        if (sqlite3_changes(db) == 0) {
            return make_error(Errc::NotFound, "user not found");
        }
        return {};
    });
}

Result<std::size_t> SqliteUserStore::count() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::size_t> {
        auto stmt = prepare(db, "SELECT count(*) FROM users");
        if (!stmt) {
            return stmt.error();
        }
        if (sqlite3_step(stmt->get()) != SQLITE_ROW) {
            return error_from(db, "count users");
        }
        return static_cast<std::size_t>(sqlite3_column_int64(stmt->get(), 0));
    });
}

// ---- tokens

Result<void> SqliteTokenStore::insert_refresh(const RefreshTokenRecord& r) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db,
                            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, used, "
                            "revoked) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        if (!stmt) {
            return stmt.error();
        }
        auto* s = stmt->get();
        bind_text(s, 1, r.token_hash);
        bind_text(s, 2, r.family_id);
        bind_text(s, 3, r.user_id);
        sqlite3_bind_int64(s, 4, r.issued_at);
        sqlite3_bind_int64(s, 5, r.expires_at);
        sqlite3_bind_int(s, 6, r.used ? 1 : 0);
        sqlite3_bind_int(s, 7, r.revoked ? 1 : 0);
        return step_done(db, s, "insert refresh token");
    });
}

Result<RefreshTokenRecord> SqliteTokenStore::use_refresh(std::string_view token_hash) {
    return db_.with_writer([&](sqlite3* db) -> Result<RefreshTokenRecord> {
        RefreshTokenRecord found;
        bool exists = false;
        auto r = transaction(db, [&]() -> Result<void> {
            auto sel = prepare(db,
                               "SELECT token_hash, family_id, user_id, issued_at, expires_at, used, revoked "
                               "FROM refresh_tokens WHERE token_hash = ?1");
            if (!sel) {
                return sel.error();
            }
            bind_text(sel->get(), 1, token_hash);
            const int rc = sqlite3_step(sel->get());
            if (rc == SQLITE_DONE) {
                return {};
            }
            if (rc != SQLITE_ROW) {
                return error_from(db, "read refresh token");
            }
            exists = true;
            auto* s = sel->get();
            found = {column_text(s, 0), column_text(s, 1), column_text(s, 2), sqlite3_column_int64(s, 3),
                     sqlite3_column_int64(s, 4), sqlite3_column_int(s, 5) != 0, sqlite3_column_int(s, 6) != 0};
            auto upd = prepare(db, "UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?1");
            if (!upd) {
                return upd.error();
            }
            bind_text(upd->get(), 1, token_hash);
            return step_done(db, upd->get(), "use refresh token");
        });
        if (!r) {
            return r.error();
        }
        if (!exists) {
            return make_error(Errc::NotFound, "refresh token not found");
        }
        return found;
    });
}

namespace {

Result<void> exec_bound(SqliteStore::Impl& impl, std::string_view sql, std::string_view value, std::string_view what) {
    return impl.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, sql);
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, value);
        return step_done(db, stmt->get(), what);
    });
}

}  // namespace

Result<void> SqliteTokenStore::revoke_family(std::string_view family_id) {
    return exec_bound(db_, "UPDATE refresh_tokens SET revoked = 1 WHERE family_id = ?1", family_id, "revoke family");
}

Result<void> SqliteTokenStore::revoke_user_refresh(std::string_view user_id) {
    return exec_bound(db_, "UPDATE refresh_tokens SET revoked = 1 WHERE user_id = ?1", user_id, "revoke user tokens");
}

Result<void> SqliteTokenStore::revoke_access(std::string_view jti, std::int64_t expires_at) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2)");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, jti);
        sqlite3_bind_int64(stmt->get(), 2, expires_at);
        return step_done(db, stmt->get(), "revoke access token");
    });
}

Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteTokenStore::revoked_access(std::int64_t now) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<std::pair<std::string, std::int64_t>>> {
        auto stmt = prepare(db, "SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > ?1");
        if (!stmt) {
            return stmt.error();
        }
        sqlite3_bind_int64(stmt->get(), 1, now);
        return collect<std::pair<std::string, std::int64_t>>(
            db, stmt->get(),
            [](sqlite3_stmt* s) { return std::pair<std::string, std::int64_t>{column_text(s, 0), sqlite3_column_int64(s, 1)}; },
            "read revocations");
    });
}

Result<std::size_t> SqliteTokenStore::purge_expired(std::int64_t now) {
    return db_.with_writer([&](sqlite3* db) -> Result<std::size_t> {
        std::size_t removed = 0;
        for (const char* sql : {"DELETE FROM refresh_tokens WHERE expires_at <= ?1",
                                "DELETE FROM revoked_tokens WHERE expires_at <= ?1"}) {
            auto stmt = prepare(db, sql);
            if (!stmt) {
                return stmt.error();
            }
            sqlite3_bind_int64(stmt->get(), 1, now);
            if (auto r = step_done(db, stmt->get(), "purge tokens"); !r) {
                return r.error();
            }
            removed += static_cast<std::size_t>(sqlite3_changes(db));
        }
        return removed;
    });
}

// ---- API keys

Result<void> SqliteApiKeyStore::insert(const model::ApiKey& k) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "INSERT INTO api_keys (" + std::string(kKeyColumns) +
                                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
        if (!stmt) {
            return stmt.error();
        }
        auto* s = stmt->get();
        bind_text(s, 1, k.id);
        bind_text(s, 2, k.name);
        bind_text(s, 3, model::to_string(k.role));
        bind_text(s, 4, k.prefix);
        bind_text(s, 5, k.key_hash);
        bind_text(s, 6, k.created_by);
        bind_text(s, 7, k.created_at);
        bind_optional(s, 8, k.expires_at);
        sqlite3_bind_int(s, 9, k.revoked ? 1 : 0);
        bind_optional(s, 10, k.last_used_at);
        return step_done(db, s, "insert api key");
    });
}

Result<model::ApiKey> SqliteApiKeyStore::get(std::string_view id) {
    return db_.with_reader([&](sqlite3* db) -> Result<model::ApiKey> {
        auto stmt = prepare(db, "SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE id = ?1");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, id);
        switch (sqlite3_step(stmt->get())) {
        case SQLITE_ROW: return read_key(stmt->get());
        case SQLITE_DONE: return make_error(Errc::NotFound, "API key not found");
        default: return error_from(db, "read api key");
        }
    });
}

Result<std::vector<model::ApiKey>> SqliteApiKeyStore::list() {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<model::ApiKey>> {
        auto stmt = prepare(db, "SELECT " + std::string(kKeyColumns) + " FROM api_keys ORDER BY id");
        if (!stmt) {
            return stmt.error();
        }
        return collect<model::ApiKey>(db, stmt->get(), read_key, "list api keys");
    });
}

Result<void> SqliteApiKeyStore::revoke(std::string_view id) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "UPDATE api_keys SET revoked = 1 WHERE id = ?1");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, id);
        if (auto r = step_done(db, stmt->get(), "revoke api key"); !r) {
            return r;
        }
        if (sqlite3_changes(db) == 0) {
            return make_error(Errc::NotFound, "API key not found");
        }
        return {};
    });
}

Result<void> SqliteApiKeyStore::touch(std::string_view id, std::string_view used_at) {
    return db_.with_writer([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1");
        if (!stmt) {
            return stmt.error();
        }
        bind_text(stmt->get(), 1, id);
        bind_text(stmt->get(), 2, used_at);
        return step_done(db, stmt->get(), "touch api key");
    });
}

// ---- audit

Result<AuditRecord> SqliteAuditStore::append(AuditRecord r, std::string_view genesis,
                                             const std::function<std::string(const AuditRecord&)>& seal) {
    return db_.with_writer([&](sqlite3* db) -> Result<AuditRecord> {
        // BEGIN IMMEDIATE takes the database's write lock, so reading the chain's
        // end and appending to it is atomic even against other processes.
        auto done = transaction(db, [&]() -> Result<void> {
            auto tail = prepare(db, "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
            if (!tail) {
                return tail.error();
            }
            switch (sqlite3_step(tail->get())) {
            case SQLITE_ROW:
                r.seq = sqlite3_column_int64(tail->get(), 0) + 1;
                r.prev_hash = column_text(tail->get(), 1);
                break;
            case SQLITE_DONE:
                r.seq = 1;
                r.prev_hash = std::string(genesis);
                break;
            default: return error_from(db, "read audit chain end");
            }
            r.hash = seal(r);
            auto stmt = prepare(db, "INSERT INTO audit_log (" + std::string(kAuditColumns) +
                                        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
            if (!stmt) {
                return stmt.error();
            }
            auto* s = stmt->get();
            sqlite3_bind_int64(s, 1, r.seq);
            int i = 2;
            for (const std::string* field : {&r.ts, &r.actor, &r.role, &r.client_ip, &r.request_id, &r.action,
                                             &r.target, &r.outcome, &r.detail, &r.prev_hash, &r.hash}) {
                bind_text(s, i++, *field);
            }
            return step_done(db, s, "append audit entry");
        });
        if (!done) {
            return done.error();
        }
        return r;
    });
}

Result<std::optional<AuditRecord>> SqliteAuditStore::last() {
    return db_.with_writer([&](sqlite3* db) -> Result<std::optional<AuditRecord>> {
        // Read through the writer: the chain continues from what was last written.
        auto stmt = prepare(db, "SELECT " + std::string(kAuditColumns) + " FROM audit_log ORDER BY seq DESC LIMIT 1");
        if (!stmt) {
            return stmt.error();
        }
        switch (sqlite3_step(stmt->get())) {
        case SQLITE_ROW: return std::optional<AuditRecord>(read_audit(stmt->get()));
        case SQLITE_DONE: return std::optional<AuditRecord>();
        default: return error_from(db, "read last audit entry");
        }
    });
}

Result<std::vector<AuditRecord>> SqliteAuditStore::query(const AuditQuery& q) {
    return db_.with_reader([&](sqlite3* db) -> Result<std::vector<AuditRecord>> {
        std::string sql = "SELECT " + std::string(kAuditColumns) + " FROM audit_log WHERE 1 = 1";
        std::vector<std::string> args;
        auto add = [&](const char* clause, const std::optional<std::string>& value) {
            if (value) {
                args.push_back(*value);
                sql += std::string(" AND ") + clause + " ?" + std::to_string(args.size());
            }
        };
        add("ts >=", q.from);
        add("ts <", q.to);
        add("actor =", q.actor);
        add("action =", q.action);
        add("outcome =", q.outcome);
        if (q.before_seq > 0) {
            sql += " AND seq < " + std::to_string(q.before_seq);  // an integer we own, not input text
        }
        sql += " ORDER BY seq DESC LIMIT " + std::to_string(q.limit);
        auto stmt = prepare(db, sql);
        if (!stmt) {
            return stmt.error();
        }
        for (std::size_t i = 0; i < args.size(); ++i) {
            bind_text(stmt->get(), static_cast<int>(i + 1), args[i]);
        }
        return collect<AuditRecord>(db, stmt->get(), read_audit, "query audit log");
    });
}

Result<void> SqliteAuditStore::scan(const std::function<bool(const AuditRecord&)>& visit) {
    return db_.with_reader([&](sqlite3* db) -> Result<void> {
        auto stmt = prepare(db, "SELECT " + std::string(kAuditColumns) + " FROM audit_log ORDER BY seq");
        if (!stmt) {
            return stmt.error();
        }
        for (;;) {
            const int rc = sqlite3_step(stmt->get());
            if (rc == SQLITE_DONE) {
                return {};
            }
            if (rc != SQLITE_ROW) {
                return error_from(db, "scan audit log");
            }
            if (!visit(read_audit(stmt->get()))) {
                return {};
            }
        }
    });
}

}  // namespace sai::storage::sqlite
