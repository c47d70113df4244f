#include "auth/jwt.hpp"

#include "core/ids.hpp"

#include <jwt.h>

#include <cerrno>
#include <cstdlib>
#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace sai::auth {
namespace {

struct JwtFree {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
using Jwt = std::unique_ptr<jwt_t, JwtFree>;

core::Error rejected(std::string why) { return core::make_error(core::Errc::Unauthenticated, std::move(why)); }

constexpr std::size_t kMaxTokenBytes = 4096;

// header.payload.signature, each non-empty base64url: anything else is refused
// before it reaches the JSON parser.
bool well_formed(std::string_view token) {
    if (token.empty() || token.size() > kMaxTokenBytes) {
        return false;
    }
    int dots = 0;
    std::size_t segment = 0;
    for (char c : token) {
        if (c == '.') {
            if (segment == 0) {
                return false;
            }
            ++dots;
            segment = 0;
            continue;
        }
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok) {
            return false;
        }
        ++segment;
    }
    return dots == 2 && segment > 0;
}

}  // namespace

struct JwtCodec::Cache {
    static constexpr std::size_t kShards = 16;
    struct Shard {
        std::mutex mutex;
        std::unordered_map<std::string, AccessClaims> entries;
    };
    std::size_t per_shard;
    std::array<Shard, kShards> shards;
};

JwtCodec::JwtCodec(JwtOptions options, std::size_t cache_size)
    : options_(std::move(options)), cache_(std::make_unique<Cache>()) {
    SAI_CHECK(!options_.secret.empty(), "JWT secret must not be empty");
    cache_->per_shard = cache_size / Cache::kShards;
}

JwtCodec::~JwtCodec() = default;

core::Result<std::string> JwtCodec::issue(AccessClaims& claims, std::int64_t now) const {
    claims.jti = core::new_uuid_v7();
    claims.issued_at = now;
    claims.not_before = now;
    claims.expires_at = now + options_.ttl.count();
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) {
        return core::make_error(core::Errc::Internal, "jwt_new failed");
    }
    Jwt jwt(raw);
    const auto& key = options_.secret;
    bool ok = jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(key.data()),
                          static_cast<int>(key.size())) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "sub", claims.subject.c_str()) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "name", claims.username.c_str()) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "role", std::string(model::to_string(claims.role)).c_str()) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "jti", claims.jti.c_str()) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "iss", options_.issuer.c_str()) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "aud", options_.audience.c_str()) == 0;
    ok = ok && jwt_add_grant_int(jwt.get(), "iat", claims.issued_at) == 0;
    ok = ok && jwt_add_grant_int(jwt.get(), "nbf", claims.not_before) == 0;
    ok = ok && jwt_add_grant_int(jwt.get(), "exp", claims.expires_at) == 0;
    ok = ok && jwt_add_grant_int(jwt.get(), "gen", claims.generation) == 0;
    ok = ok && jwt_add_grant(jwt.get(), "fam", claims.family.c_str()) == 0;
    if (!ok) {
        return core::make_error(core::Errc::Internal, "cannot build token");
    }
    char* encoded = jwt_encode_str(jwt.get());
    if (!encoded) {
        return core::make_error(core::Errc::Internal, "cannot sign token");
    }
    std::string token(encoded);
    std::free(encoded);
    return token;
}

core::Result<AccessClaims> JwtCodec::verify(std::string_view token, std::int64_t now) const {
    if (!well_formed(token)) {
        return rejected("malformed token");
    }
    auto& shard = cache_->shards[std::hash<std::string_view>{}(token) % Cache::kShards];
    std::optional<AccessClaims> claims;
    {
        std::lock_guard lock(shard.mutex);
        if (auto it = shard.entries.find(std::string(token)); it != shard.entries.end()) {
            claims = it->second;
        }
    }
    if (!claims) {
        auto verified = verify_signed(token);
        if (!verified) {
            return verified.error();
        }
        claims = std::move(*verified);
        if (cache_->per_shard > 0) {
            std::lock_guard lock(shard.mutex);
            if (shard.entries.size() >= cache_->per_shard) {
                shard.entries.clear();  // simple and bounded; hot tokens come back at once
            }
            shard.entries.emplace(std::string(token), *claims);
        }
    }
    const auto leeway = options_.leeway.count();
    if (now >= claims->expires_at + leeway) {
        return rejected("token expired");
    }
    if (now + leeway < claims->not_before) {
        return rejected("token not yet valid");
    }
    return std::move(*claims);
}

core::Result<AccessClaims> JwtCodec::verify_signed(std::string_view token) const {
    const std::string text(token);
    jwt_t* raw = nullptr;
    // Always pass the key: libjwt 1.10 accepts "alg":"none" when called without one.
    const auto& key = options_.secret;
    if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                   static_cast<int>(key.size())) != 0 ||
        raw == nullptr) {
        return rejected("invalid token signature");
    }
    Jwt jwt(raw);
    // Pin the algorithm: a token signed with HS384/HS512 and the same key, or
    // "none", decodes too.
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) {
        return rejected("unexpected token algorithm");
    }
    auto grant = [&](const char* name) -> std::string {
        const char* v = jwt_get_grant(jwt.get(), name);
        return v ? std::string(v) : std::string();
    };
    auto grant_int = [&](const char* name, std::int64_t& out) -> bool {
        errno = 0;
        const long v = jwt_get_grant_int(jwt.get(), name);
        if (errno != 0) {
            return false;
        }
        out = v;
        return true;
    };
    if (grant("iss") != options_.issuer) {
        return rejected("wrong token issuer");
    }
    if (grant("aud") != options_.audience) {
        return rejected("wrong token audience");
    }
    AccessClaims c;
    if (!grant_int("exp", c.expires_at) || !grant_int("nbf", c.not_before) || !grant_int("iat", c.issued_at)) {
        return rejected("token lacks exp, nbf or iat");
    }
    grant_int("gen", c.generation);
    c.subject = grant("sub");
    c.username = grant("name");
    c.jti = grant("jti");
    c.family = grant("fam");
    auto role = model::parse_role(grant("role"));
    if (c.subject.empty() || c.jti.empty() || !role) {
        return rejected("token lacks sub, jti or role");
    }
    c.role = *role;
    return c;
}

}  // namespace sai::auth
