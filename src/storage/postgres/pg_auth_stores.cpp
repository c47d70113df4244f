#include "pg_stores.hpp"

namespace sai::storage::pg {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kUserColumns =
    "id, username, role, password_hash, disabled, created_at, updated_at, last_login, token_generation";

/// $1..$9 in kUserColumns order.
Params user_params(const model::User& u) {
    return {u.id, u.username, model::to_string(u.role), u.password_hash, u.disabled, u.created_at, u.updated_at,
            u.last_login, u.token_generation};
}

model::User read_user(const Rows& r, int i) {
    model::User u;
    u.id = r.str(i, 0);
    u.username = r.str(i, 1);
    u.role = model::parse_role(r.str(i, 2)).value_or(model::Role::Viewer);
    u.password_hash = r.str(i, 3);
    u.disabled = r.boolean(i, 4);
    u.created_at = r.str(i, 5);
    u.updated_at = r.str(i, 6);
    u.last_login = r.opt(i, 7);
    u.token_generation = r.i64(i, 8);
    return u;
}

/// A uniqueness violation on users means the username is taken.
Result<Rows> write_user(PgStore::Impl& db, std::string_view sql, const model::User& u) {
    auto r = run(db, sql, user_params(u));
    if (!r && r.error().code == Errc::Conflict) {
        return make_error(Errc::Conflict, "username '" + u.username + "' is taken");
    }
    return r;
}

Result<model::User> one_user(PgStore::Impl& db, std::string_view where, std::string_view value) {
    auto r = run(db, "SELECT " + std::string(kUserColumns) + " FROM users WHERE " + std::string(where), {value});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "user not found");
    return read_user(*r, 0);
}

constexpr std::string_view kKeyColumns =
    "id, name, role, prefix, key_hash, created_by, created_at, expires_at, revoked, last_used_at";

model::ApiKey read_key(const Rows& r, int i) {
    model::ApiKey k;
    k.id = r.str(i, 0);
    k.name = r.str(i, 1);
    k.role = model::parse_role(r.str(i, 2)).value_or(model::Role::Viewer);
    k.prefix = r.str(i, 3);
    k.key_hash = r.str(i, 4);
    k.created_by = r.str(i, 5);
    k.created_at = r.str(i, 6);
    k.expires_at = r.opt(i, 7);
    k.revoked = r.boolean(i, 8);
    k.last_used_at = r.opt(i, 9);
    return k;
}

constexpr std::string_view kAuditColumns =
    "seq, ts, actor, role, client_ip, request_id, action, target, outcome, detail, prev_hash, hash";

AuditRecord read_audit(const Rows& r, int i) {
    AuditRecord a;
    a.seq = r.i64(i, 0);
    a.ts = r.str(i, 1);
    a.actor = r.str(i, 2);
    a.role = r.str(i, 3);
    a.client_ip = r.str(i, 4);
    a.request_id = r.str(i, 5);
    a.action = r.str(i, 6);
    a.target = r.str(i, 7);
    a.outcome = r.str(i, 8);
    a.detail = r.str(i, 9);
    a.prev_hash = r.str(i, 10);
    a.hash = r.str(i, 11);
    return a;
}

// Appends to the audit chain are serialised across every node by this
// transaction-scoped advisory lock ("SAIaudit" in ASCII).
constexpr long kAuditLock = 0x534149617564;

}  // namespace

// ---- users

Result<void> PgUserStore::create(const model::User& u) {
    auto r = write_user(db_, "INSERT INTO users (" + std::string(kUserColumns) +
                                 ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", u);
    if (!r) return r.error();
    return {};
}

Result<model::User> PgUserStore::get(std::string_view id) { return one_user(db_, "id = $1", id); }

Result<model::User> PgUserStore::find_by_username(std::string_view username) {
    return one_user(db_, "lower(username) = lower($1)", username);
}

Result<std::vector<model::User>> PgUserStore::list(std::size_t limit, std::string_view after) {
    auto r = run(db_, "SELECT " + std::string(kUserColumns) + " FROM users WHERE id > $1 ORDER BY id LIMIT $2",
                 {after, limit});
    if (!r) return r.error();
    std::vector<model::User> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_user(*r, i));
    return out;
}

Result<void> PgUserStore::update(const model::User& u) {
    // $6 (created_at) never changes; it is sent so the parameters match user_params.
    auto r = write_user(db_,
                        "UPDATE users SET username = $2, role = $3, password_hash = $4, disabled = $5, "
                        "updated_at = $7, last_login = $8, token_generation = $9 WHERE id = $1 AND $6::text IS NOT NULL",
                        u);
    if (!r) return r.error();
    if (r->affected() == 0) return make_error(Errc::NotFound, "user not found");
    return {};
}

Result<void> PgUserStore::remove(std::string_view id) {
    return exec_one(db_, "DELETE FROM users WHERE id = $1", {id}, "user");
}

Result<std::size_t> PgUserStore::count() {
    auto r = run(db_, "SELECT count(*) FROM users");
    if (!r) return r.error();
    return static_cast<std::size_t>(r->i64(0, 0));
}

// ---- tokens

Result<void> PgTokenStore::insert_refresh(const RefreshTokenRecord& r) {
    auto done = run(db_,
                    "INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at, used, revoked) "
                    "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    {r.token_hash, r.family_id, r.user_id, r.issued_at, r.expires_at, r.used, r.revoked});
    if (!done) return done.error();
    return {};
}

Result<RefreshTokenRecord> PgTokenStore::use_refresh(std::string_view token_hash) {
    // One statement: the row is locked, marked used, and returned as it was.
    auto r = run(db_,
                 "UPDATE refresh_tokens t SET used = true FROM (SELECT token_hash, used FROM refresh_tokens "
                 "WHERE token_hash = $1 FOR UPDATE) old WHERE t.token_hash = old.token_hash "
                 "RETURNING t.token_hash, t.family_id, t.user_id, t.issued_at, t.expires_at, old.used, t.revoked",
                 {token_hash});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "refresh token not found");
    return RefreshTokenRecord{r->str(0, 0), r->str(0, 1), r->str(0, 2), r->i64(0, 3),
                              r->i64(0, 4), r->boolean(0, 5), r->boolean(0, 6)};
}

Result<void> PgTokenStore::revoke_family(std::string_view family_id) {
    auto r = run(db_, "UPDATE refresh_tokens SET revoked = true WHERE family_id = $1", {family_id});
    if (!r) return r.error();
    return {};
}

Result<void> PgTokenStore::revoke_user_refresh(std::string_view user_id) {
    auto r = run(db_, "UPDATE refresh_tokens SET revoked = true WHERE user_id = $1", {user_id});
    if (!r) return r.error();
    return {};
}

Result<void> PgTokenStore::revoke_access(std::string_view jti, std::int64_t expires_at) {
    auto r = run(db_, "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
                 {jti, expires_at});
    if (!r) return r.error();
    return {};
}

Result<std::vector<std::pair<std::string, std::int64_t>>> PgTokenStore::revoked_access(std::int64_t now) {
    auto r = run(db_, "SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1", {now});
    if (!r) return r.error();
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (int i = 0; i < r->size(); ++i) out.emplace_back(r->str(i, 0), r->i64(i, 1));
    return out;
}

Result<std::size_t> PgTokenStore::purge_expired(std::int64_t now) {
    std::size_t removed = 0;
    for (const char* sql : {"DELETE FROM refresh_tokens WHERE expires_at <= $1",
                            "DELETE FROM revoked_tokens WHERE expires_at <= $1"}) {
        auto r = run(db_, sql, {now});
        if (!r) return r.error();
        removed += static_cast<std::size_t>(r->affected());
    }
    return removed;
}

// ---- API keys

Result<void> PgApiKeyStore::insert(const model::ApiKey& k) {
    auto r = run(db_, "INSERT INTO api_keys (" + std::string(kKeyColumns) +
                          ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                 {k.id, k.name, model::to_string(k.role), k.prefix, k.key_hash, k.created_by, k.created_at,
                  k.expires_at, k.revoked, k.last_used_at});
    if (!r) return r.error();
    return {};
}

Result<model::ApiKey> PgApiKeyStore::get(std::string_view id) {
    auto r = run(db_, "SELECT " + std::string(kKeyColumns) + " FROM api_keys WHERE id = $1", {id});
    if (!r) return r.error();
    if (r->empty()) return make_error(Errc::NotFound, "API key not found");
    return read_key(*r, 0);
}

Result<std::vector<model::ApiKey>> PgApiKeyStore::list() {
    auto r = run(db_, "SELECT " + std::string(kKeyColumns) + " FROM api_keys ORDER BY id");
    if (!r) return r.error();
    std::vector<model::ApiKey> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_key(*r, i));
    return out;
}

Result<void> PgApiKeyStore::revoke(std::string_view id) {
    return exec_one(db_, "UPDATE api_keys SET revoked = true WHERE id = $1", {id}, "API key");
}

Result<void> PgApiKeyStore::touch(std::string_view id, std::string_view used_at) {
    auto r = run(db_, "UPDATE api_keys SET last_used_at = $2 WHERE id = $1", {id, used_at});
    if (!r) return r.error();
    return {};
}

// ---- audit

Result<AuditRecord> PgAuditStore::append(AuditRecord r, std::string_view genesis,
                                         const std::function<std::string(const AuditRecord&)>& seal) {
    return db_.pool.with([&](Conn& c) -> Result<AuditRecord> {
        auto done = transaction(c, [&]() -> Result<void> {
            if (auto l = c.query("SELECT pg_advisory_xact_lock($1)", {kAuditLock}); !l) return l.error();
            auto tail = c.query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
            if (!tail) return tail.error();
            if (tail->empty()) {
                r.seq = 1;
                r.prev_hash = std::string(genesis);
            } else {
                r.seq = tail->i64(0, 0) + 1;
                r.prev_hash = tail->str(0, 1);
            }
            // Sealed as stored: text PostgreSQL cannot hold (NUL, bad UTF-8) is replaced first.
            for (std::string* field : {&r.ts, &r.actor, &r.role, &r.client_ip, &r.request_id, &r.action, &r.target,
                                       &r.outcome, &r.detail, &r.prev_hash}) {
                *field = storable(*field);
            }
            r.hash = seal(r);
            auto ins = c.query("INSERT INTO audit_log (" + std::string(kAuditColumns) +
                                   ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                               {r.seq, r.ts, r.actor, r.role, r.client_ip, r.request_id, r.action, r.target, r.outcome,
                                r.detail, r.prev_hash, r.hash});
            if (!ins) return ins.error();
            return {};
        });
        if (!done) return done.error();
        return r;
    });
}

Result<std::optional<AuditRecord>> PgAuditStore::last() {
    auto r = run(db_, "SELECT " + std::string(kAuditColumns) + " FROM audit_log ORDER BY seq DESC LIMIT 1");
    if (!r) return r.error();
    if (r->empty()) return std::optional<AuditRecord>();
    return std::optional<AuditRecord>(read_audit(*r, 0));
}

Result<std::vector<AuditRecord>> PgAuditStore::query(const AuditQuery& q) {
    std::string sql = "SELECT " + std::string(kAuditColumns) + " FROM audit_log WHERE true";
    Params args;
    auto add = [&](const char* clause, const std::optional<std::string>& value) {
        if (value) {
            args.emplace_back(*value);
            sql += std::string(" AND ") + clause + " $" + std::to_string(args.size());
        }
    };
    add("ts >=", q.from);
    add("ts <", q.to);
    add("actor =", q.actor);
    add("action =", q.action);
    add("outcome =", q.outcome);
    if (q.before_seq > 0) {
        args.emplace_back(q.before_seq);
        sql += " AND seq < $" + std::to_string(args.size());
    }
    args.emplace_back(q.limit);
    sql += " ORDER BY seq DESC LIMIT $" + std::to_string(args.size());
    auto r = run(db_, sql, args);
    if (!r) return r.error();
    std::vector<AuditRecord> out;
    for (int i = 0; i < r->size(); ++i) out.push_back(read_audit(*r, i));
    return out;
}

Result<void> PgAuditStore::scan(const std::function<bool(const AuditRecord&)>& visit) {
    // Pages by seq, so a long chain is never held in memory at once.
    std::int64_t after = 0;
    for (;;) {
        auto r = run(db_, "SELECT " + std::string(kAuditColumns) + " FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000",
                     {after});
        if (!r) return r.error();
        for (int i = 0; i < r->size(); ++i) {
            auto rec = read_audit(*r, i);
            after = rec.seq;
            if (!visit(rec)) return {};
        }
        if (r->size() < 1000) return {};
    }
}

}  // namespace sai::storage::pg
