#pragma once
// Private: SQLite implementations of the authentication stores.

#include "sqlite_db.hpp"
#include "storage/auth_stores.hpp"

namespace sai::storage::sqlite {

class SqliteUserStore final : public UserStore {
public:
    explicit SqliteUserStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> create(const model::User& user) override;
    core::Result<model::User> get(std::string_view id) override;
    core::Result<model::User> find_by_username(std::string_view username) override;
    core::Result<std::vector<model::User>> list(std::size_t limit, std::string_view after) override;
    core::Result<void> update(const model::User& user) override;
    core::Result<void> remove(std::string_view id) override;
    core::Result<std::size_t> count() override;

private:
    SqliteStore::Impl& db_;
};

class SqliteTokenStore final : public TokenStore {
public:
    explicit SqliteTokenStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> insert_refresh(const RefreshTokenRecord& record) override;
    core::Result<RefreshTokenRecord> use_refresh(std::string_view token_hash) override;
    core::Result<void> revoke_family(std::string_view family_id) override;
    core::Result<void> revoke_user_refresh(std::string_view user_id) override;
    core::Result<void> revoke_access(std::string_view jti, std::int64_t expires_at) override;
    core::Result<std::vector<std::pair<std::string, std::int64_t>>> revoked_access(std::int64_t now) override;
    core::Result<std::size_t> purge_expired(std::int64_t now) override;

private:
    SqliteStore::Impl& db_;
};

class SqliteApiKeyStore final : public ApiKeyStore {
public:
    explicit SqliteApiKeyStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<void> insert(const model::ApiKey& key) override;
    core::Result<model::ApiKey> get(std::string_view id) override;
    core::Result<std::vector<model::ApiKey>> list() override;
    core::Result<void> revoke(std::string_view id) override;
    core::Result<void> touch(std::string_view id, std::string_view used_at) override;

private:
    SqliteStore::Impl& db_;
};

class SqliteAuditStore final : public AuditStore {
public:
    explicit SqliteAuditStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<AuditRecord> append(AuditRecord record, std::string_view genesis,
                                     const std::function<std::string(const AuditRecord&)>& seal) override;
    core::Result<std::optional<AuditRecord>> last() override;
    core::Result<std::vector<AuditRecord>> query(const AuditQuery& query) override;
    core::Result<void> scan(const std::function<bool(const AuditRecord&)>& visit) override;

private:
    SqliteStore::Impl& db_;
};

}  // namespace sai::storage::sqlite
