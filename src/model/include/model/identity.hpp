#pragma once
// Who may do what: roles, users, API keys, and the principal a request runs as.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sai::model {

/// Ordered: a higher role can do everything a lower one can.
enum class Role { Viewer = 0, Analyst = 1, Admin = 2 };

std::string_view to_string(Role role) noexcept;
std::optional<Role> parse_role(std::string_view text) noexcept;

struct User {
    std::string id;  // UUIDv7
    std::string username;
    Role role = Role::Viewer;
    std::string password_hash;  // argon2id ($argon2id$...) or imported bcrypt ($2b$...)
    bool disabled = false;
    std::string created_at;  // RFC 3339
    std::string updated_at;
    std::optional<std::string> last_login;
    std::int64_t token_generation = 0;  // bumped to invalidate every token issued so far (role change, disable...)
};

struct ApiKey {
    std::string id;  // UUIDv7
    std::string name;
    Role role = Role::Viewer;
    std::string prefix;    // the first characters of the key, to recognise it in lists
    std::string key_hash;  // SHA-256 (hex) of the whole key; the key itself is never stored
    std::string created_by;
    std::string created_at;
    std::optional<std::string> expires_at;
    bool revoked = false;
    std::optional<std::string> last_used_at;
};

/// The authenticated caller of one request.
struct Principal {
    enum class Kind { User, ApiKey };
    Kind kind = Kind::User;
    std::string id;    // user id or API key id
    std::string name;  // username or key name
    Role role = Role::Viewer;
    std::string token_id;            // jti of the access token (users)
    std::int64_t token_expires = 0;  // Unix seconds (users)
    std::string token_family;        // refresh-token family of the session (users)

    /// "user:alice" or "apikey:shipper-1", as written to the audit log.
    std::string actor() const {
        return (kind == Kind::User ? "user:" : "apikey:") + name;
    }
};

}  // namespace sai::model
