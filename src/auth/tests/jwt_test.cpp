#include "auth/jwt.hpp"

#include "core/crypto.hpp"

#include <gtest/gtest.h>
#include <jwt.h>

namespace sai::auth {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test";
constexpr std::int64_t kNow = 1'800'000'000;

JwtCodec codec() { return JwtCodec({.secret = kSecret}); }

std::string issue(std::int64_t now = kNow) {
    AccessClaims c{.subject = "user-1", .username = "alice", .role = model::Role::Analyst};
    return codec().issue(c, now).value();
}

// Builds a token by hand, the way an attacker would.
std::string forge(const std::string& header, const std::string& payload, const std::string& key, bool sign = true) {
    const std::string input = core::base64url_encode(header) + "." + core::base64url_encode(payload);
    return input + "." + (sign ? core::base64url_encode(core::hmac_sha256(key, input)) : std::string("x"));
}

std::string payload(std::int64_t exp = kNow + 600, std::int64_t nbf = kNow, std::string iss = "securityai",
                    std::string aud = "securityai-api") {
    return R"({"sub":"user-1","name":"alice","role":"admin","jti":"j1","iss":")" + iss + R"(","aud":")" + aud +
           R"(","iat":)" + std::to_string(kNow) + R"(,"nbf":)" + std::to_string(nbf) + R"(,"exp":)" +
           std::to_string(exp) + R"(,"gen":0})";
}

TEST(JwtTest, IssuedTokenVerifies) {
    AccessClaims c{.subject = "user-1", .username = "alice", .role = model::Role::Analyst, .family = "fam-1"};
    auto token = codec().issue(c, kNow).value();
    auto got = codec().verify(token, kNow + 10);
    ASSERT_TRUE(got) << got.error().detail;
    EXPECT_EQ(got->subject, "user-1");
    EXPECT_EQ(got->role, model::Role::Analyst);
    EXPECT_EQ(got->jti, c.jti);
    EXPECT_EQ(got->expires_at, kNow + 1800);
    EXPECT_EQ(got->family, "fam-1");
}

TEST(JwtTest, HandForgedValidTokenVerifies) {
    // The forging helper itself is right: a properly signed HS256 token passes.
    EXPECT_TRUE(codec().verify(forge(R"({"alg":"HS256","typ":"JWT"})", payload(), kSecret), kNow));
}

TEST(JwtTest, AlgNoneIsRejected) {
    const std::string none = core::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                             core::base64url_encode(payload()) + ".";
    EXPECT_FALSE(codec().verify(none, kNow));
    EXPECT_FALSE(codec().verify(forge(R"({"alg":"none","typ":"JWT"})", payload(), kSecret), kNow));
}

TEST(JwtTest, OtherAlgorithmWithSameKeyIsRejected) {
    jwt_t* j = nullptr;
    ASSERT_EQ(jwt_new(&j), 0);
    jwt_set_alg(j, JWT_ALG_HS512, reinterpret_cast<const unsigned char*>(kSecret.data()), static_cast<int>(kSecret.size()));
    jwt_add_grants_json(j, payload().c_str());
    char* s = jwt_encode_str(j);
    const std::string token(s);
    std::free(s);
    jwt_free(j);
    auto got = codec().verify(token, kNow);
    ASSERT_FALSE(got);
    EXPECT_EQ(got.error().code, core::Errc::Unauthenticated);
}

TEST(JwtTest, BadSignatureIsRejected) {
    EXPECT_FALSE(codec().verify(forge(R"({"alg":"HS256","typ":"JWT"})", payload(), "another-secret-key"), kNow));
    std::string token = issue();
    token.back() = token.back() == 'A' ? 'B' : 'A';
    EXPECT_FALSE(codec().verify(token, kNow));
}

TEST(JwtTest, WrongIssuerOrAudienceIsRejected) {
    const std::string h = R"({"alg":"HS256","typ":"JWT"})";
    EXPECT_FALSE(codec().verify(forge(h, payload(kNow + 600, kNow, "evil"), kSecret), kNow));
    EXPECT_FALSE(codec().verify(forge(h, payload(kNow + 600, kNow, "securityai", "other-api"), kSecret), kNow));
}

TEST(JwtTest, ExpiryAndNotBeforeWithThirtySecondsSkew) {
    const std::string token = issue();
    EXPECT_TRUE(codec().verify(token, kNow + 1800 + 29));
    auto expired = codec().verify(token, kNow + 1800 + 31);
    ASSERT_FALSE(expired);
    EXPECT_NE(expired.error().detail.find("expired"), std::string::npos);
    EXPECT_TRUE(codec().verify(token, kNow - 29));
    auto early = codec().verify(token, kNow - 31);
    ASSERT_FALSE(early);
    EXPECT_NE(early.error().detail.find("not yet valid"), std::string::npos);
}

TEST(JwtTest, MissingClaimsAreRejected) {
    const std::string h = R"({"alg":"HS256","typ":"JWT"})";
    EXPECT_FALSE(codec().verify(forge(h, R"({"sub":"u","role":"admin","jti":"j","iss":"securityai","aud":"securityai-api"})", kSecret), kNow));
    EXPECT_FALSE(codec().verify(
        forge(h, R"({"role":"admin","jti":"j","iss":"securityai","aud":"securityai-api","iat":1,"nbf":1,"exp":9999999999})", kSecret),
        kNow));
    EXPECT_FALSE(codec().verify(
        forge(h, R"({"sub":"u","role":"root","jti":"j","iss":"securityai","aud":"securityai-api","iat":1,"nbf":1,"exp":9999999999})", kSecret),
        kNow));
}

TEST(JwtTest, MalformedTokensAreRejectedBeforeParsing) {
    const std::string token = issue();
    for (const std::string& bad : {std::string(""), std::string("abc"), std::string("a.b"), token + ".extra",
                                   "." + token, std::string("a..b"), std::string("a.b.c d"), std::string("a.b.c=="),
                                   std::string("a+b.c/d.e"), std::string(5000, 'a'), std::string("\0.\0.\0", 5)}) {
        auto got = codec().verify(bad, kNow);
        ASSERT_FALSE(got) << bad;
        EXPECT_EQ(got.error().code, core::Errc::Unauthenticated);
    }
    EXPECT_FALSE(codec().verify("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", kNow));  // payload not JSON
}

}  // namespace
}  // namespace sai::auth
