#include "core/crypto.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sai::core {
namespace {

TEST(CryptoTest, Sha256KnownAnswer) {
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HmacSha256KnownAnswer) {
    // RFC 4231 test case 2: 5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843.
    EXPECT_EQ(base64url_encode(hmac_sha256("Jefe", "what do ya want for nothing?")),
              "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM");
}

TEST(CryptoTest, Base64UrlRoundTripAndStrictness) {
    for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\0\xff\xfe", 3)}) {
        auto enc = base64url_encode(s);
        EXPECT_EQ(enc.find('='), std::string::npos);
        EXPECT_EQ(base64url_decode(enc), s);
    }
    EXPECT_FALSE(base64url_decode("a"));
    EXPECT_FALSE(base64url_decode("ab+/"));
    EXPECT_FALSE(base64url_decode("Zm9=v"));
    EXPECT_FALSE(base64url_decode("Zh"));  // non-zero leftover bits
}

TEST(CryptoTest, ConstantTimeEqual) {
    EXPECT_TRUE(constant_time_equal("secret", "secret"));
    EXPECT_FALSE(constant_time_equal("secret", "secreT"));
    EXPECT_FALSE(constant_time_equal("secret", "secrets"));
}

TEST(CryptoTest, RandomBytesDiffer) {
    EXPECT_EQ(random_bytes(32).size(), 32u);
    EXPECT_NE(random_bytes(32), random_bytes(32));
}

TEST(SecretBoxTest, SealOpenRoundTripWithFreshNonces) {
    auto box = SecretBox::from_config("", "the server secret key of at least 32 bytes").value();
    const auto a = box.seal("webhook-secret", "webhook.secret");
    const auto b = box.seal("webhook-secret", "webhook.secret");
    EXPECT_NE(a, b);
    EXPECT_EQ(box.open(a, "webhook.secret").value(), "webhook-secret");
    EXPECT_EQ(a.find("webhook-secret"), std::string::npos);
}

TEST(SecretBoxTest, TamperingWrongContextAndWrongKeyAreRejected) {
    auto box = SecretBox::from_key(std::string(32, 'k')).value();
    auto other = SecretBox::from_key(std::string(32, 'x')).value();
    auto sealed = box.seal("password", "ctx");
    EXPECT_FALSE(box.open(sealed, "other-ctx"));
    EXPECT_FALSE(other.open(sealed, "ctx"));
    std::string flipped = sealed;
    flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(box.open(flipped, "ctx"));
    EXPECT_FALSE(box.open("garbage", "ctx"));
    EXPECT_FALSE(box.open("v1:", "ctx"));
}

TEST(SecretBoxTest, ConfiguredKeyMustBe32Bytes) {
    EXPECT_FALSE(SecretBox::from_config("short", "s"));
    EXPECT_TRUE(SecretBox::from_config(std::string(64, 'a'), "s"));
    EXPECT_TRUE(SecretBox::from_config(base64url_encode(std::string(32, 'z')), "s"));
}

}  // namespace
}  // namespace sai::core
