#pragma once
// Authentication and account management: login, token refresh with rotation and
// reuse detection, logout, request authentication (JWT or API key), users and API
// keys. Every auth event goes to the audit log.
//
// Threading: authenticate() is cheap and non-blocking (in-memory caches) and may be
// called on I/O threads; everything else touches the store or hashes passwords and
// must run on the blocking pool. All methods are thread-safe.

#include "auth/audit_log.hpp"
#include "auth/jwt.hpp"
#include "auth/rate_limiter.hpp"
#include "model/identity.hpp"
#include "storage/store.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sai::auth {

struct AuthOptions {
    JwtOptions jwt;
    std::chrono::seconds refresh_ttl{7 * 24 * 3600};
    LoginGuard::Options login_guard;
};

struct TokenPair {
    std::string access_token;
    std::string refresh_token;
    std::int64_t expires_in = 0;  // seconds
};

/// Where a request came from, for the audit log and the login guard.
struct ClientInfo {
    std::string ip;
    std::string request_id;
};

struct UserPatch {
    std::optional<model::Role> role;
    std::optional<bool> disabled;
    std::optional<std::string> password;
};

struct NewApiKey {
    model::ApiKey key;
    std::string secret;  // "sk_...": shown once, never stored
};

/// Usernames: 1-64 characters of [A-Za-z0-9._@-].
core::Result<void> check_username(std::string_view username);

class AuthService {
public:
    static core::Result<std::unique_ptr<AuthService>> open(storage::Store& store, AuditLog& audit,
                                                           AuthOptions options);
    ~AuthService();

    /// Generic Unauthenticated for a wrong username or password (never says which);
    /// RateLimited while the username or address is locked out (detail: seconds).
    core::Result<TokenPair> login(std::string_view username, std::string_view password, const ClientInfo& client);
    /// Rotates: the old refresh token is spent. A spent or revoked token revokes its family.
    core::Result<TokenPair> refresh(std::string_view refresh_token, const ClientInfo& client);
    /// Revokes the caller's access token and its refresh-token family.
    core::Result<void> logout(const model::Principal& principal, const ClientInfo& client);

    /// nullopt when the request carries no credentials; Unauthenticated when it
    /// carries bad ones. `authorization` is the Authorization header, `api_key` X-API-Key.
    core::Result<std::optional<model::Principal>> authenticate(std::string_view authorization,
                                                               std::string_view api_key) const;

    core::Result<model::User> create_user(std::string_view username, std::string_view password, model::Role role,
                                          const model::Principal& actor, const ClientInfo& client);
    core::Result<model::User> get_user(std::string_view id);
    /// The in-memory profile of a user (password hash blanked); non-blocking.
    /// Current for changes made through this process, and within seconds for others.
    std::optional<model::User> cached_user(std::string_view id) const;
    core::Result<std::vector<model::User>> list_users(std::size_t limit, std::string_view after);
    core::Result<model::User> update_user(std::string_view id, const UserPatch& patch, const model::Principal& actor,
                                          const ClientInfo& client);
    core::Result<void> delete_user(std::string_view id, const model::Principal& actor, const ClientInfo& client);

    core::Result<NewApiKey> create_api_key(std::string_view name, model::Role role,
                                           std::optional<std::string> expires_at, const model::Principal& actor,
                                           const ClientInfo& client);
    core::Result<std::vector<model::ApiKey>> list_api_keys();
    core::Result<void> revoke_api_key(std::string_view id, const model::Principal& actor, const ClientInfo& client);

    /// First start: creates the `admin` account when there are no users. Returns the
    /// generated password when `password` is empty (to print once), else nullopt.
    core::Result<std::optional<std::string>> ensure_admin(std::string_view password);

    /// Records an audit event (e.g. permission denied) through the service's log.
    void audit(AuditEvent event);
    /// Waits until every audit event recorded so far is stored (before reading the log).
    void flush_audit();
    /// Writes API key last-use times kept in memory to the store.
    void flush_usage();
    /// Re-reads users, API keys and revocations from the store, so that changes made
    /// by another process (a CLI command, another node) take effect; purges expired
    /// tokens. Called periodically by the server.
    core::Result<void> reload();

    /// Scale-out: called after this node revoked an access token (logout), so that
    /// other nodes can learn it at once. Set before serving; runs on the caller's thread.
    void set_revocation_listener(std::function<void(const std::string& jti, std::int64_t expires_at)> listener);
    /// Scale-out: called after this node changed a user or an API key (what
    /// authenticate() caches), so that other nodes can reload() at once.
    void set_change_listener(std::function<void()> listener);
    /// A revocation made elsewhere (another node): authenticate() refuses the token
    /// from now on. Non-blocking; `expires_at` in Unix seconds.
    void note_revoked(std::string jti, std::int64_t expires_at);

private:
    struct Impl;
    explicit AuthService(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::auth
