#include "auth/password.hpp"

#include <crypt.h>
#include <gtest/gtest.h>

namespace sai::auth {
namespace {

TEST(PasswordTest, Argon2idRoundTrip) {
    auto hash = hash_password("correct horse battery staple");
    ASSERT_TRUE(hash);
    EXPECT_TRUE(hash->starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << *hash;
    EXPECT_TRUE(verify_password("correct horse battery staple", *hash));
    EXPECT_FALSE(verify_password("correct horse battery stapler", *hash));
    EXPECT_FALSE(needs_rehash(*hash));
}

TEST(PasswordTest, SamePasswordGetsDifferentSalts) {
    EXPECT_NE(hash_password("a password of some length").value(), hash_password("a password of some length").value());
}

TEST(PasswordTest, ImportedBcryptHashesVerify) {
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    ASSERT_NE(crypt_gensalt_rn("$2b$", 4, nullptr, 0, setting, sizeof setting), nullptr);
    crypt_data data{};
    const std::string hash = crypt_r("imported-password-1", setting, &data);
    ASSERT_TRUE(hash.starts_with("$2b$04$")) << hash;
    EXPECT_TRUE(verify_password("imported-password-1", hash));
    EXPECT_FALSE(verify_password("imported-password-2", hash));
    EXPECT_TRUE(needs_rehash(hash));
}

TEST(PasswordTest, UnknownOrBrokenHashesNeverMatch) {
    EXPECT_FALSE(verify_password("anything", ""));
    EXPECT_FALSE(verify_password("anything", "plaintext"));
    EXPECT_FALSE(verify_password("anything", "$2b$04$short"));
    EXPECT_FALSE(verify_password("anything", "$argon2id$garbage"));
    EXPECT_FALSE(verify_password(std::string("nul\0byte", 8), "$2b$04$abcdefghijklmnopqrstuu"));
}

TEST(PasswordTest, Policy) {
    EXPECT_TRUE(check_password_policy("alice", "twelve chars"));
    EXPECT_FALSE(check_password_policy("alice", "short"));
    EXPECT_FALSE(check_password_policy("administrator", "ADMINISTRATOR"));
    EXPECT_FALSE(check_password_policy("alice", std::string(1025, 'a')));
    EXPECT_FALSE(check_password_policy("alice", std::string("twelve\0chars", 12)));
    // Twelve characters, more bytes: counted as characters.
    EXPECT_TRUE(check_password_policy("alice", "ééééééééééé1"));
    EXPECT_FALSE(check_password_policy("alice", "éééééééééé1"));
}

TEST(PasswordTest, GeneratedPasswordsPassPolicyAndDiffer) {
    const auto a = generate_password();
    EXPECT_EQ(a.size(), 20u);
    EXPECT_TRUE(check_password_policy("admin", a));
    EXPECT_NE(a, generate_password());
}

}  // namespace
}  // namespace sai::auth
