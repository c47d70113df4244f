#include "auth/auth_service.hpp"

#include "auth/password.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <algorithm>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

namespace sai::auth {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

constexpr std::string_view kBadCredentials = "invalid username or password";
constexpr std::size_t kMaxUsernameBytes = 64;

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(core::Clock::now().time_since_epoch()).count();
}

std::string now_text() { return core::format_rfc3339(core::Clock::now()); }

std::string new_secret() { return core::base64url_encode(core::random_bytes(32)); }

/// What authentication needs of a user, kept in memory: the token generation,
/// the disabled flag, and the profile served by /auth/me (never the password hash).
struct UserState {
    std::int64_t generation = 0;
    bool disabled = false;
    model::User profile;
};

UserState state_of(const model::User& u) {
    UserState s{u.token_generation, u.disabled, u};
    s.profile.password_hash.clear();
    return s;
}

}  // namespace

Result<void> check_username(std::string_view username) {
    if (username.empty() || username.size() > kMaxUsernameBytes) {
        return make_error(Errc::InvalidArgument, "username must be 1 to 64 characters");
    }
    for (char c : username) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '@' || c == '-';
        if (!ok) {
            return make_error(Errc::InvalidArgument, "username may contain only letters, digits and . _ @ -");
        }
    }
    return {};
}

struct AuthService::Impl {
    storage::Store& store;
    AuditLog& audit_log;
    AuthOptions options;
    JwtCodec jwt;
    LoginGuard guard;
    std::string dummy_hash;  // verified for unknown users, so timing does not reveal existence

    mutable std::shared_mutex mutex;  // guards the caches below
    std::unordered_map<std::string, std::int64_t> revoked;  // jti -> exp
    std::unordered_map<std::string, UserState> users;        // id -> state
    std::unordered_map<std::string, model::ApiKey> keys;     // key hash -> key
    mutable std::mutex usage_mutex;
    mutable std::unordered_map<std::string, std::string> key_usage;  // key id -> last use
    std::function<void(const std::string&, std::int64_t)> revocation_listener;
    std::function<void()> change_listener;

    void changed() {
        if (change_listener) change_listener();
    }

    void remember_revoked(std::string jti, std::int64_t exp) {
        std::unique_lock lock(mutex);
        revoked[std::move(jti)] = exp;
        if (revoked.size() > 10000) {
            const auto now = unix_now();
            std::erase_if(revoked, [&](const auto& kv) { return kv.second + 60 < now; });
        }
    }

    Impl(storage::Store& s, AuditLog& a, AuthOptions o)
        : store(s), audit_log(a), options(o), jwt(o.jwt), guard(o.login_guard) {}

    void record(const ClientInfo& client, std::string actor, std::string role, std::string action,
                std::string target, std::string outcome, std::string detail = {}) {
        audit_log.record({std::move(actor), std::move(role), client.ip, client.request_id, std::move(action),
                          std::move(target), std::move(outcome), std::move(detail)});
    }

    void remember_user(const model::User& u) {
        std::unique_lock lock(mutex);
        users[u.id] = state_of(u);
    }

    Result<TokenPair> issue(const model::User& user, const std::string& family) {
        AccessClaims claims;
        claims.subject = user.id;
        claims.username = user.username;
        claims.role = user.role;
        claims.generation = user.token_generation;
        claims.family = family;
        const auto now = unix_now();
        auto access = jwt.issue(claims, now);
        if (!access) {
            return access.error();
        }
        const std::string refresh = "rt_" + new_secret();
        storage::RefreshTokenRecord rec{core::sha256_hex(refresh), family, user.id, now,
                                        now + options.refresh_ttl.count(), false, false};
        if (auto r = store.tokens().insert_refresh(rec); !r) {
            return r.error();
        }
        return TokenPair{std::move(*access), refresh, options.jwt.ttl.count()};
    }

    Result<std::size_t> active_admins() {
        std::size_t n = 0;
        std::string after;
        for (;;) {
            auto page = store.users().list(500, after);
            if (!page) {
                return page.error();
            }
            for (const auto& u : *page) {
                n += u.role == model::Role::Admin && !u.disabled;
            }
            if (page->size() < 500) {
                return n;
            }
            after = page->back().id;
        }
    }
};

AuthService::AuthService(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuthService::~AuthService() { flush_usage(); }

Result<std::unique_ptr<AuthService>> AuthService::open(storage::Store& store, AuditLog& audit, AuthOptions options) {
    auto impl = std::make_unique<Impl>(store, audit, options);
    auto dummy = hash_password(generate_password(24));
    if (!dummy) {
        return dummy.error();
    }
    impl->dummy_hash = std::move(*dummy);
    auto service = std::unique_ptr<AuthService>(new AuthService(std::move(impl)));
    if (auto loaded = service->reload(); !loaded) {
        return loaded.error();
    }
    return service;
}

Result<void> AuthService::reload() {
    auto& d = *impl_;
    const auto now = unix_now();
    if (auto purged = d.store.tokens().purge_expired(now); !purged) {
        core::log::warn("could not purge expired tokens", {{"error", purged.error().detail}});
    }
    auto revoked = d.store.tokens().revoked_access(now);
    if (!revoked) {
        return revoked.error();
    }
    std::unordered_map<std::string, UserState> users;
    std::string after;
    for (;;) {
        auto page = d.store.users().list(500, after);
        if (!page) {
            return page.error();
        }
        for (const auto& u : *page) {
            users[u.id] = state_of(u);
        }
        if (page->size() < 500) {
            break;
        }
        after = page->back().id;
    }
    auto keys = d.store.api_keys().list();
    if (!keys) {
        return keys.error();
    }
    std::unordered_map<std::string, model::ApiKey> live_keys;
    for (auto& k : *keys) {
        if (!k.revoked) {
            live_keys.emplace(k.key_hash, std::move(k));
        }
    }
    std::unique_lock lock(d.mutex);
    for (auto& [jti, exp] : *revoked) {
        d.revoked.emplace(std::move(jti), exp);
    }
    std::erase_if(d.revoked, [&](const auto& kv) { return kv.second + 60 < now; });
    // A change this process made after the store was read above is newer: keep it.
    for (auto& [id, state] : users) {
        auto cached = d.users.find(id);
        if (cached != d.users.end() && cached->second.generation > state.generation) {
            state = cached->second;
        }
    }
    d.users = std::move(users);
    d.keys = std::move(live_keys);
    return {};
}

void AuthService::set_revocation_listener(std::function<void(const std::string&, std::int64_t)> listener) {
    impl_->revocation_listener = std::move(listener);
}

void AuthService::set_change_listener(std::function<void()> listener) { impl_->change_listener = std::move(listener); }

void AuthService::note_revoked(std::string jti, std::int64_t expires_at) {
    impl_->remember_revoked(std::move(jti), expires_at);
}

Result<TokenPair> AuthService::login(std::string_view username, std::string_view password, const ClientInfo& client) {
    auto& d = *impl_;
    const auto mono = std::chrono::steady_clock::now();
    const std::string shown = username.size() <= kMaxUsernameBytes ? std::string(username) : "(too long)";
    if (const int wait = d.guard.locked_for(username, client.ip, mono); wait > 0) {
        d.record(client, "anonymous", "", "auth.login", "user:" + shown, "denied", "locked out after failed attempts");
        return make_error(Errc::RateLimited, std::to_string(wait));
    }
    std::optional<model::User> user;
    if (check_username(username) && password.size() <= kMaxPasswordBytes) {
        auto found = d.store.users().find_by_username(username);
        if (found) {
            user = std::move(*found);
        } else if (found.error().code != Errc::NotFound) {
            return found.error();
        }
    }
    // Always pay for one password verification, so that response time does not
    // tell whether the account exists.
    const bool match = verify_password(password, user ? std::string_view(user->password_hash) : d.dummy_hash);
    if (!user || !match || user->disabled) {
        d.guard.record_failure(username, client.ip, mono);
        d.record(client, "anonymous", "", "auth.login", "user:" + shown, "failure",
                 !user ? "unknown user" : (user->disabled ? "account disabled" : "wrong password"));
        return make_error(Errc::Unauthenticated, std::string(kBadCredentials));
    }
    d.guard.record_success(username);
    user->last_login = now_text();
    if (needs_rehash(user->password_hash)) {
        if (auto h = hash_password(password)) {
            user->password_hash = std::move(*h);
        }
    }
    if (auto r = d.store.users().update(*user); !r) {
        return r.error();
    }
    d.remember_user(*user);
    auto pair = d.issue(*user, core::new_uuid_v7());
    if (pair) {
        d.record(client, "user:" + user->username, std::string(model::to_string(user->role)), "auth.login",
                 "user:" + user->username, "success");
    }
    return pair;
}

Result<TokenPair> AuthService::refresh(std::string_view refresh_token, const ClientInfo& client) {
    auto& d = *impl_;
    auto invalid = [&](std::string detail) {
        d.record(client, "anonymous", "", "auth.refresh", "", "failure", detail);
        return make_error(Errc::Unauthenticated, "invalid or expired refresh token");
    };
    if (refresh_token.empty() || refresh_token.size() > 256) {
        return invalid("malformed refresh token");
    }
    auto rec = d.store.tokens().use_refresh(core::sha256_hex(refresh_token));
    if (!rec) {
        if (rec.error().code == Errc::NotFound) {
            return invalid("unknown refresh token");
        }
        return rec.error();
    }
    if (rec->used || rec->revoked) {
        // A spent token presented again: it was stolen or replayed. Revoke the
        // whole family so the thief's copy dies with the victim's.
        (void)d.store.tokens().revoke_family(rec->family_id);
        d.record(client, "anonymous", "", "auth.refresh", "family:" + rec->family_id, "denied",
                 rec->revoked ? "revoked refresh token presented" : "refresh token reuse detected; family revoked");
        return make_error(Errc::Unauthenticated, "invalid or expired refresh token");
    }
    if (rec->expires_at <= unix_now()) {
        return invalid("expired refresh token");
    }
    auto user = d.store.users().get(rec->user_id);
    if (!user || user->disabled) {
        (void)d.store.tokens().revoke_family(rec->family_id);
        return invalid("account missing or disabled");
    }
    auto pair = d.issue(*user, rec->family_id);
    if (pair) {
        d.record(client, "user:" + user->username, std::string(model::to_string(user->role)), "auth.refresh",
                 "user:" + user->username, "success");
    }
    return pair;
}

Result<void> AuthService::logout(const model::Principal& p, const ClientInfo& client) {
    auto& d = *impl_;
    if (p.kind != model::Principal::Kind::User) {
        return make_error(Errc::InvalidArgument, "API keys do not log out; revoke the key instead");
    }
    if (auto r = d.store.tokens().revoke_access(p.token_id, p.token_expires); !r) {
        return r;
    }
    d.remember_revoked(p.token_id, p.token_expires);
    if (d.revocation_listener) {
        d.revocation_listener(p.token_id, p.token_expires);
    }
    // The session's refresh family travels in the access token (claim "fam").
    if (!p.token_family.empty()) {
        if (auto r = d.store.tokens().revoke_family(p.token_family); !r) {
            return r;
        }
    }
    d.record(client, p.actor(), std::string(model::to_string(p.role)), "auth.logout", p.actor(), "success");
    return {};
}

Result<std::optional<model::Principal>> AuthService::authenticate(std::string_view authorization,
                                                                  std::string_view api_key) const {
    auto& d = *impl_;
    std::string_view credential;
    bool is_key = false;
    if (!api_key.empty()) {
        credential = api_key;
        is_key = true;
    } else if (!authorization.empty()) {
        if (authorization.size() < 7 || !(authorization.substr(0, 7) == "Bearer " || authorization.substr(0, 7) == "bearer ")) {
            return make_error(Errc::Unauthenticated, "Authorization must be 'Bearer <token>'");
        }
        credential = authorization.substr(7);
        while (!credential.empty() && credential.front() == ' ') {
            credential.remove_prefix(1);
        }
        is_key = credential.starts_with("sk_");
    } else {
        return std::optional<model::Principal>();
    }
    if (is_key) {
        if (credential.size() > 256) {
            return make_error(Errc::Unauthenticated, "invalid API key");
        }
        std::shared_lock lock(d.mutex);
        auto it = d.keys.find(core::sha256_hex(credential));
        if (it == d.keys.end()) {
            return make_error(Errc::Unauthenticated, "invalid API key");
        }
        const auto& key = it->second;
        if (key.expires_at && *key.expires_at <= core::format_rfc3339(core::Clock::now())) {
            return make_error(Errc::Unauthenticated, "API key expired");
        }
        {
            std::lock_guard usage(d.usage_mutex);
            d.key_usage[key.id] = core::format_rfc3339(core::Clock::now());
        }
        return std::optional<model::Principal>(
            model::Principal{model::Principal::Kind::ApiKey, key.id, key.name, key.role, "", 0});
    }
    auto claims = d.jwt.verify(credential, unix_now());
    if (!claims) {
        return claims.error();
    }
    std::shared_lock lock(d.mutex);
    if (d.revoked.contains(claims->jti)) {
        return make_error(Errc::Unauthenticated, "token revoked");
    }
    auto it = d.users.find(claims->subject);
    if (it == d.users.end() || it->second.disabled || it->second.generation != claims->generation) {
        return make_error(Errc::Unauthenticated, "token no longer valid; sign in again");
    }
    return std::optional<model::Principal>(model::Principal{model::Principal::Kind::User, claims->subject,
                                                            claims->username, claims->role, claims->jti,
                                                            claims->expires_at, claims->family});
}

Result<model::User> AuthService::create_user(std::string_view username, std::string_view password, model::Role role,
                                             const model::Principal& actor, const ClientInfo& client) {
    auto& d = *impl_;
    if (auto r = check_username(username); !r) {
        return r.error();
    }
    if (auto r = check_password_policy(username, password); !r) {
        return r.error();
    }
    auto hash = hash_password(password);
    if (!hash) {
        return hash.error();
    }
    model::User u;
    u.id = core::new_uuid_v7();
    u.username = std::string(username);
    u.role = role;
    u.password_hash = std::move(*hash);
    u.created_at = u.updated_at = now_text();
    if (auto r = d.store.users().create(u); !r) {
        d.record(client, actor.actor(), std::string(model::to_string(actor.role)), "user.create",
                 "user:" + u.username, "failure", r.error().detail);
        return r.error();
    }
    d.remember_user(u);
    d.record(client, actor.actor(), std::string(model::to_string(actor.role)), "user.create", "user:" + u.username,
             "success", "role " + std::string(model::to_string(role)));
    return u;
}

Result<model::User> AuthService::get_user(std::string_view id) { return impl_->store.users().get(id); }

std::optional<model::User> AuthService::cached_user(std::string_view id) const {
    std::shared_lock lock(impl_->mutex);
    auto it = impl_->users.find(std::string(id));
    if (it == impl_->users.end()) {
        return std::nullopt;
    }
    return it->second.profile;
}

Result<std::vector<model::User>> AuthService::list_users(std::size_t limit, std::string_view after) {
    return impl_->store.users().list(limit, after);
}

Result<model::User> AuthService::update_user(std::string_view id, const UserPatch& patch, const model::Principal& actor,
                                             const ClientInfo& client) {
    auto& d = *impl_;
    auto user = d.store.users().get(id);
    if (!user) {
        return user.error();
    }
    std::vector<std::string> changes;
    bool invalidate = false;
    const bool was_active_admin = user->role == model::Role::Admin && !user->disabled;
    if (patch.role && *patch.role != user->role) {
        changes.push_back("role " + std::string(model::to_string(user->role)) + " -> " +
                          std::string(model::to_string(*patch.role)));
        user->role = *patch.role;
        invalidate = true;
    }
    if (patch.disabled && *patch.disabled != user->disabled) {
        changes.push_back(*patch.disabled ? "disabled" : "enabled");
        user->disabled = *patch.disabled;
        invalidate = true;
    }
    if (patch.password) {
        if (auto r = check_password_policy(user->username, *patch.password); !r) {
            return r.error();
        }
        auto hash = hash_password(*patch.password);
        if (!hash) {
            return hash.error();
        }
        user->password_hash = std::move(*hash);
        changes.push_back("password reset");
        invalidate = true;
    }
    if (was_active_admin && (user->role != model::Role::Admin || user->disabled)) {
        auto admins = d.active_admins();
        if (!admins) {
            return admins.error();
        }
        if (*admins <= 1) {
            return make_error(Errc::Conflict, "cannot demote or disable the last active admin");
        }
    }
    if (invalidate) {
        ++user->token_generation;  // every token issued so far stops working
    }
    user->updated_at = now_text();
    if (auto r = d.store.users().update(*user); !r) {
        return r.error();
    }
    if (invalidate) {
        (void)d.store.tokens().revoke_user_refresh(user->id);
    }
    d.remember_user(*user);
    std::string detail;
    for (const auto& c : changes) {
        detail += (detail.empty() ? "" : ", ") + c;
    }
    d.changed();
    d.record(client, actor.actor(), std::string(model::to_string(actor.role)), "user.update",
             "user:" + user->username, "success", detail);
    return *user;
}

Result<void> AuthService::delete_user(std::string_view id, const model::Principal& actor, const ClientInfo& client) {
    auto& d = *impl_;
    auto user = d.store.users().get(id);
    if (!user) {
        return user.error();
    }
    if (user->role == model::Role::Admin && !user->disabled) {
        auto admins = d.active_admins();
        if (!admins) {
            return admins.error();
        }
        if (*admins <= 1) {
            return make_error(Errc::Conflict, "cannot delete the last active admin");
        }
    }
    if (auto r = d.store.users().remove(id); !r) {
        return r;
    }
    {
        std::unique_lock lock(d.mutex);
        d.users.erase(std::string(id));
    }
    d.changed();
    d.record(client, actor.actor(), std::string(model::to_string(actor.role)), "user.delete",
             "user:" + user->username, "success");
    return {};
}

Result<NewApiKey> AuthService::create_api_key(std::string_view name, model::Role role,
                                              std::optional<std::string> expires_at, const model::Principal& actor,
                                              const ClientInfo& client) {
    auto& d = *impl_;
    if (name.empty() || name.size() > 128 || name.find('\0') != std::string_view::npos) {
        return make_error(Errc::InvalidArgument, "name must be 1 to 128 characters");
    }
    if (expires_at) {
        auto t = core::parse_rfc3339_ms(*expires_at);
        if (!t) {
            return make_error(Errc::InvalidArgument, "expires_at must be an RFC 3339 time");
        }
        if (*t <= core::now_unix_ms()) {
            return make_error(Errc::InvalidArgument, "expires_at is in the past");
        }
        expires_at = core::format_rfc3339_ms(*t);
    }
    NewApiKey out;
    out.secret = "sk_" + new_secret();
    auto& k = out.key;
    k.id = core::new_uuid_v7();
    k.name = std::string(name);
    k.role = role;
    k.prefix = out.secret.substr(0, 10);
    k.key_hash = core::sha256_hex(out.secret);
    k.created_by = actor.actor();
    k.created_at = now_text();
    k.expires_at = std::move(expires_at);
    if (auto r = d.store.api_keys().insert(k); !r) {
        return r.error();
    }
    {
        std::unique_lock lock(d.mutex);
        d.keys.emplace(k.key_hash, k);
    }
    d.changed();
    d.record(client, actor.actor(), std::string(model::to_string(actor.role)), "api_key.create",
             "apikey:" + k.name, "success", "role " + std::string(model::to_string(role)));
    return out;
}

Result<std::vector<model::ApiKey>> AuthService::list_api_keys() {
    flush_usage();
    return impl_->store.api_keys().list();
}

Result<void> AuthService::revoke_api_key(std::string_view id, const model::Principal& actor,
                                         const ClientInfo& client) {
    auto& d = *impl_;
    auto key = d.store.api_keys().get(id);
    if (!key) {
        return key.error();
    }
    if (auto r = d.store.api_keys().revoke(id); !r) {
        return r;
    }
    {
        std::unique_lock lock(d.mutex);
        d.keys.erase(key->key_hash);
    }
    d.changed();
    d.record(client, actor.actor(), std::string(model::to_string(actor.role)), "api_key.revoke",
             "apikey:" + key->name, "success");
    return {};
}

Result<std::optional<std::string>> AuthService::ensure_admin(std::string_view password) {
    auto& d = *impl_;
    // Only when nobody can administer this installation: no active admin, and no
    // account named "admin" (which an operator may have demoted on purpose).
    auto admins = d.active_admins();
    if (!admins) {
        return admins.error();
    }
    if (*admins > 0) {
        return std::optional<std::string>();
    }
    auto existing = d.store.users().find_by_username("admin");
    if (existing) {
        core::log::warn("no active admin account; enable one with `securityai user role NAME admin`");
        return std::optional<std::string>();
    }
    if (existing.error().code != Errc::NotFound) {
        return existing.error();
    }
    std::string chosen = password.empty() ? generate_password(20) : std::string(password);
    if (auto r = check_password_policy("admin", chosen); !r) {
        return make_error(Errc::InvalidArgument, "SECURITYAI_ADMIN_PASSWORD: " + r.error().detail);
    }
    model::Principal system{model::Principal::Kind::User, "", "system", model::Role::Admin, "", 0};
    auto user = create_user("admin", chosen, model::Role::Admin, system, {"", ""});
    if (!user && user.error().code == Errc::Conflict) {
        // Another node sharing the database created it at the same moment.
        return std::optional<std::string>();
    }
    if (!user) {
        return user.error();
    }
    return password.empty() ? std::optional<std::string>(chosen) : std::optional<std::string>();
}

void AuthService::audit(AuditEvent event) { impl_->audit_log.record(std::move(event)); }

void AuthService::flush_audit() { impl_->audit_log.flush(); }

void AuthService::flush_usage() {
    auto& d = *impl_;
    std::unordered_map<std::string, std::string> pending;
    {
        std::lock_guard lock(d.usage_mutex);
        pending.swap(d.key_usage);
    }
    for (const auto& [id, when] : pending) {
        (void)d.store.api_keys().touch(id, when);
    }
}

}  // namespace sai::auth
