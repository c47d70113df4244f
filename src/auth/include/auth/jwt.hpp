#pragma once
// Access tokens: JWT signed with HS256 and SECRET_KEY (libjwt). Verification
// pins the algorithm, checks the signature, iss, aud, exp and nbf (30 s of
// clock skew) and the token's shape before libjwt ever sees it.

#include "core/error.hpp"
#include "model/identity.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sai::auth {

struct AccessClaims {
    std::string subject;  // user id
    std::string username;
    model::Role role = model::Role::Viewer;
    std::string jti;
    std::int64_t issued_at = 0;  // Unix seconds
    std::int64_t not_before = 0;
    std::int64_t expires_at = 0;
    std::int64_t generation = 0;  // the user's token generation when issued
    std::string family;           // refresh-token family of the login that issued it
};

struct JwtOptions {
    std::string secret;  // HS256 key (SECRET_KEY)
    std::string issuer = "securityai";
    std::string audience = "securityai-api";
    std::chrono::seconds ttl{1800};
    std::chrono::seconds leeway{30};
};

/// Thread-safe. Verified tokens are remembered (up to `cache_size`, keyed by the
/// whole token text) so that a client's repeated requests cost a hash lookup, not
/// a signature check; time claims are still checked on every call.
class JwtCodec {
public:
    explicit JwtCodec(JwtOptions options, std::size_t cache_size = 16384);
    ~JwtCodec();

    /// Signs a token for `claims` (jti, iat, nbf, exp are filled in from `now`).
    core::Result<std::string> issue(AccessClaims& claims, std::int64_t now) const;

    /// Unauthenticated with a short reason for every kind of bad token.
    core::Result<AccessClaims> verify(std::string_view token, std::int64_t now) const;

    const JwtOptions& options() const { return options_; }

private:
    core::Result<AccessClaims> verify_signed(std::string_view token) const;

    JwtOptions options_;
    struct Cache;
    std::unique_ptr<Cache> cache_;
};

}  // namespace sai::auth
