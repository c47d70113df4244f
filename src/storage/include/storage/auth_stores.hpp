#pragma once
// Durable state of authentication: users, refresh tokens and revocations, API
// keys, and the audit log. Synchronous and thread-safe, like every store.

#include "core/error.hpp"
#include "model/identity.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sai::storage {

class UserStore {
public:
    virtual ~UserStore() = default;

    /// Conflict when the username is taken (usernames compare case-insensitively).
    virtual core::Result<void> create(const model::User& user) = 0;
    virtual core::Result<model::User> get(std::string_view id) = 0;
    virtual core::Result<model::User> find_by_username(std::string_view username) = 0;
    /// In creation order; `after` is the last id of the previous page ("" for the first).
    virtual core::Result<std::vector<model::User>> list(std::size_t limit, std::string_view after) = 0;
    /// Replaces every mutable field of the user with this id; NotFound when absent.
    virtual core::Result<void> update(const model::User& user) = 0;
    virtual core::Result<void> remove(std::string_view id) = 0;
    virtual core::Result<std::size_t> count() = 0;
};

struct RefreshTokenRecord {
    std::string token_hash;  // SHA-256 (hex) of the opaque token; the token itself is never stored
    std::string family_id;   // all tokens descending from one login
    std::string user_id;
    std::int64_t issued_at = 0;   // Unix seconds
    std::int64_t expires_at = 0;  // Unix seconds
    bool used = false;
    bool revoked = false;
};

class TokenStore {
public:
    virtual ~TokenStore() = default;

    virtual core::Result<void> insert_refresh(const RefreshTokenRecord& record) = 0;
    /// Atomically marks the token used and returns it as it was before, so that a
    /// second use is visible as `used == true`. NotFound for unknown tokens.
    virtual core::Result<RefreshTokenRecord> use_refresh(std::string_view token_hash) = 0;
    virtual core::Result<void> revoke_family(std::string_view family_id) = 0;
    virtual core::Result<void> revoke_user_refresh(std::string_view user_id) = 0;
    /// Access tokens are revoked by id until they would have expired anyway.
    virtual core::Result<void> revoke_access(std::string_view jti, std::int64_t expires_at) = 0;
    /// Revoked access tokens not yet expired at `now`: (jti, expires_at).
    virtual core::Result<std::vector<std::pair<std::string, std::int64_t>>> revoked_access(std::int64_t now) = 0;
    /// Deletes expired refresh tokens and revocations; returns how many rows went.
    virtual core::Result<std::size_t> purge_expired(std::int64_t now) = 0;
};

class ApiKeyStore {
public:
    virtual ~ApiKeyStore() = default;

    virtual core::Result<void> insert(const model::ApiKey& key) = 0;
    virtual core::Result<model::ApiKey> get(std::string_view id) = 0;
    /// Every key, revoked ones included, in creation order.
    virtual core::Result<std::vector<model::ApiKey>> list() = 0;
    virtual core::Result<void> revoke(std::string_view id) = 0;
    virtual core::Result<void> touch(std::string_view id, std::string_view used_at) = 0;
};

/// One audit entry. `hash` = SHA-256(prev_hash || canonical content), so any
/// edit or deletion breaks the chain (see auth/audit_log.hpp).
struct AuditRecord {
    std::int64_t seq = 0;  // 1, 2, 3... without gaps
    std::string ts;        // RFC 3339
    std::string actor;     // "user:alice", "apikey:x", "anonymous", "system"
    std::string role;
    std::string client_ip;
    std::string request_id;
    std::string action;   // "auth.login", "user.create", "POST /api/v1/..."
    std::string target;   // what was acted on
    std::string outcome;  // "success", "failure", "denied"
    std::string detail;
    std::string prev_hash;
    std::string hash;
};

struct AuditQuery {
    std::optional<std::string> from;  // RFC 3339, inclusive
    std::optional<std::string> to;    // RFC 3339, exclusive
    std::optional<std::string> actor;
    std::optional<std::string> action;
    std::optional<std::string> outcome;
    std::int64_t before_seq = 0;  // cursor: entries with seq < this (0: from the newest)
    std::size_t limit = 100;
};

class AuditStore {
public:
    virtual ~AuditStore() = default;

    /// Appends at the end of the chain, atomically even across processes (the
    /// server and a CLI command may both write): sets `seq` to the last seq + 1 and
    /// `prev_hash` to the last hash (`genesis` for the first entry), then `hash` to
    /// seal(record), and stores it. Returns the stored record.
    virtual core::Result<AuditRecord> append(AuditRecord record, std::string_view genesis,
                                             const std::function<std::string(const AuditRecord&)>& seal) = 0;
    virtual core::Result<std::optional<AuditRecord>> last() = 0;
    /// Newest first.
    virtual core::Result<std::vector<AuditRecord>> query(const AuditQuery& query) = 0;
    /// Calls `visit` for every entry in seq order; stops early when it returns false.
    virtual core::Result<void> scan(const std::function<bool(const AuditRecord&)>& visit) = 0;
};

}  // namespace sai::storage
