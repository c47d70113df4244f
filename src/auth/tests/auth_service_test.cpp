#include "auth/auth_service.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::auth {
namespace {

class AuthServiceTest : public testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        store_ = storage::SqliteStore::open(o).value();
        audit_ = AuditLog::open(store_->audit()).value();
        AuthOptions options;
        options.jwt.secret = std::string(40, 's');
        service_ = AuthService::open(*store_, *audit_, options).value();
        ASSERT_TRUE(service_->ensure_admin("admin-password-1"));
        admin_ = login("admin", "admin-password-1");
    }

    model::Principal principal_of(const TokenPair& pair) {
        auto p = service_->authenticate("Bearer " + pair.access_token, "");
        EXPECT_TRUE(p && *p) << (p ? "no principal" : p.error().detail);
        return p && *p ? **p : model::Principal{};
    }

    TokenPair login(const std::string& user, const std::string& password) {
        auto pair = service_->login(user, password, client_);
        EXPECT_TRUE(pair) << pair.error().detail;
        return pair ? *pair : TokenPair{};
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
    std::unique_ptr<AuditLog> audit_;
    std::unique_ptr<AuthService> service_;
    ClientInfo client_{"127.0.0.1", "req-1"};
    TokenPair admin_;
};

TEST_F(AuthServiceTest, LoginGivesTokensThatAuthenticate) {
    auto p = principal_of(admin_);
    EXPECT_EQ(p.name, "admin");
    EXPECT_EQ(p.role, model::Role::Admin);
    EXPECT_EQ(admin_.expires_in, 1800);
    EXPECT_TRUE(admin_.refresh_token.starts_with("rt_"));
    EXPECT_TRUE(store_->users().find_by_username("admin")->last_login);
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownUserLookTheSame) {
    auto wrong = service_->login("admin", "not-the-password", client_);
    auto unknown = service_->login("nobody", "not-the-password", client_);
    ASSERT_FALSE(wrong);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(wrong.error().code, core::Errc::Unauthenticated);
    EXPECT_EQ(wrong.error().detail, unknown.error().detail);
}

TEST_F(AuthServiceTest, NoCredentialsIsNotAnError) {
    auto p = service_->authenticate("", "");
    ASSERT_TRUE(p);
    EXPECT_FALSE(*p);
    EXPECT_FALSE(service_->authenticate("Basic YWRtaW46YWRtaW4=", ""));
    EXPECT_FALSE(service_->authenticate("Bearer not.a.token", ""));
}

TEST_F(AuthServiceTest, RefreshRotatesAndReuseRevokesTheFamily) {
    ClientInfo c{"127.0.0.1", "r"};
    auto second = service_->refresh(admin_.refresh_token, c);
    ASSERT_TRUE(second) << second.error().detail;
    EXPECT_NE(second->refresh_token, admin_.refresh_token);
    // The old token again: theft. It fails, and so does the new one from then on.
    EXPECT_FALSE(service_->refresh(admin_.refresh_token, c));
    auto after_theft = service_->refresh(second->refresh_token, c);
    ASSERT_FALSE(after_theft);
    EXPECT_EQ(after_theft.error().code, core::Errc::Unauthenticated);
    EXPECT_FALSE(service_->refresh("rt_unknown", c));
}

TEST_F(AuthServiceTest, LogoutRevokesAccessTokenAndRefreshFamily) {
    auto p = principal_of(admin_);
    ASSERT_TRUE(service_->logout(p, client_));
    auto again = service_->authenticate("Bearer " + admin_.access_token, "");
    ASSERT_FALSE(again);
    EXPECT_NE(again.error().detail.find("revoked"), std::string::npos);
    EXPECT_FALSE(service_->refresh(admin_.refresh_token, client_));
}

TEST_F(AuthServiceTest, RevocationsAreAnnouncedAndAcceptedFromOtherNodes) {
    // Another node's service over the same store: it learns the revocation only
    // through note_revoked() (what the Redis relay calls), not by reloading.
    AuthOptions options;
    options.jwt.secret = std::string(40, 's');
    auto other = AuthService::open(*store_, *audit_, options).value();
    std::vector<std::pair<std::string, std::int64_t>> announced;
    service_->set_revocation_listener(
        [&](const std::string& jti, std::int64_t exp) { announced.emplace_back(jti, exp); });
    auto p = principal_of(admin_);
    ASSERT_TRUE(other->authenticate("Bearer " + admin_.access_token, ""));
    ASSERT_TRUE(service_->logout(p, client_));
    ASSERT_EQ(announced.size(), 1u);
    EXPECT_EQ(announced[0].first, p.token_id);
    EXPECT_EQ(announced[0].second, p.token_expires);
    EXPECT_TRUE(other->authenticate("Bearer " + admin_.access_token, ""));  // not yet told
    other->note_revoked(announced[0].first, announced[0].second);
    auto refused = other->authenticate("Bearer " + admin_.access_token, "");
    ASSERT_FALSE(refused);
    EXPECT_NE(refused.error().detail.find("revoked"), std::string::npos);
}

TEST_F(AuthServiceTest, ChangesToUsersAndKeysAreAnnounced) {
    int changes = 0;
    service_->set_change_listener([&] { ++changes; });
    const auto admin = principal_of(admin_);
    auto key = service_->create_api_key("ci", model::Role::Viewer, std::nullopt, admin, client_);
    ASSERT_TRUE(key);
    EXPECT_EQ(changes, 1);
    ASSERT_TRUE(service_->revoke_api_key(key->key.id, admin, client_));
    EXPECT_EQ(changes, 2);
    auto user = service_->create_user("analyst1", "analyst-password-1", model::Role::Analyst, admin, client_);
    ASSERT_TRUE(user);
    UserPatch patch;
    patch.disabled = true;
    ASSERT_TRUE(service_->update_user(user->id, patch, admin, client_));
    EXPECT_EQ(changes, 3);
    ASSERT_TRUE(service_->delete_user(user->id, admin, client_));
    EXPECT_EQ(changes, 4);
    EXPECT_FALSE(service_->revoke_api_key("no-such-key", admin, client_));
    EXPECT_EQ(changes, 4);  // failures change nothing
}

TEST_F(AuthServiceTest, RevocationSurvivesRestart) {
    ASSERT_TRUE(service_->logout(principal_of(admin_), client_));
    AuthOptions options;
    options.jwt.secret = std::string(40, 's');
    auto reopened = AuthService::open(*store_, *audit_, options).value();
    EXPECT_FALSE(reopened->authenticate("Bearer " + admin_.access_token, ""));
}

TEST_F(AuthServiceTest, RoleChangeAndDisableInvalidateTokens) {
    auto admin = principal_of(admin_);
    auto bob = service_->create_user("bob", "bob-password-12", model::Role::Analyst, admin, client_).value();
    auto bob_tokens = login("bob", "bob-password-12");
    EXPECT_EQ(principal_of(bob_tokens).role, model::Role::Analyst);
    ASSERT_TRUE(service_->update_user(bob.id, {.role = model::Role::Viewer}, admin, client_));
    EXPECT_FALSE(service_->authenticate("Bearer " + bob_tokens.access_token, ""));
    auto fresh = login("bob", "bob-password-12");
    EXPECT_EQ(principal_of(fresh).role, model::Role::Viewer);
    ASSERT_TRUE(service_->update_user(bob.id, {.disabled = true}, admin, client_));
    EXPECT_FALSE(service_->authenticate("Bearer " + fresh.access_token, ""));
    EXPECT_FALSE(service_->login("bob", "bob-password-12", client_));
}

TEST_F(AuthServiceTest, LastAdminCannotBeDemotedDisabledOrDeleted) {
    auto admin = principal_of(admin_);
    auto me = store_->users().find_by_username("admin").value();
    EXPECT_EQ(service_->update_user(me.id, {.role = model::Role::Viewer}, admin, client_).error().code,
              core::Errc::Conflict);
    EXPECT_EQ(service_->update_user(me.id, {.disabled = true}, admin, client_).error().code, core::Errc::Conflict);
    EXPECT_EQ(service_->delete_user(me.id, admin, client_).error().code, core::Errc::Conflict);
}

TEST_F(AuthServiceTest, UserValidation) {
    auto admin = principal_of(admin_);
    EXPECT_EQ(service_->create_user("x y", "long-enough-pw", model::Role::Viewer, admin, client_).error().code,
              core::Errc::InvalidArgument);
    EXPECT_EQ(service_->create_user(std::string(65, 'a'), "long-enough-pw", model::Role::Viewer, admin, client_)
                  .error()
                  .code,
              core::Errc::InvalidArgument);
    EXPECT_EQ(service_->create_user("carol", "short", model::Role::Viewer, admin, client_).error().code,
              core::Errc::InvalidArgument);
    EXPECT_EQ(service_->create_user("ADMIN", "long-enough-pw", model::Role::Viewer, admin, client_).error().code,
              core::Errc::Conflict);
}

TEST_F(AuthServiceTest, ApiKeysAuthenticateUntilRevoked) {
    auto admin = principal_of(admin_);
    auto key = service_->create_api_key("shipper", model::Role::Analyst, std::nullopt, admin, client_).value();
    EXPECT_TRUE(key.secret.starts_with("sk_"));
    EXPECT_EQ(key.key.key_hash.find(key.secret), std::string::npos);
    auto via_header = service_->authenticate("", key.secret).value();
    ASSERT_TRUE(via_header);
    EXPECT_EQ(via_header->kind, model::Principal::Kind::ApiKey);
    EXPECT_EQ(via_header->role, model::Role::Analyst);
    EXPECT_TRUE(service_->authenticate("Bearer " + key.secret, "").value().has_value());
    EXPECT_FALSE(service_->authenticate("", "sk_wrong"));
    ASSERT_TRUE(service_->revoke_api_key(key.key.id, admin, client_));
    EXPECT_FALSE(service_->authenticate("", key.secret));
    auto listed = service_->list_api_keys().value();
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_TRUE(listed[0].revoked);
    EXPECT_TRUE(listed[0].last_used_at);
}

TEST_F(AuthServiceTest, ExpiredApiKeyIsRefusedAndPastExpiryRejected) {
    auto admin = principal_of(admin_);
    EXPECT_FALSE(service_->create_api_key("k", model::Role::Viewer, "2000-01-01T00:00:00Z", admin, client_));
    EXPECT_FALSE(service_->create_api_key("k", model::Role::Viewer, "tomorrow", admin, client_));
}

TEST_F(AuthServiceTest, BruteForceLocksOut) {
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(service_->login("admin", "wrong-password!", client_).error().code, core::Errc::Unauthenticated);
    }
    auto locked = service_->login("admin", "admin-password-1", client_);
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, core::Errc::RateLimited);
}

TEST_F(AuthServiceTest, AuthEventsAreAudited) {
    (void)service_->login("admin", "wrong-password!", client_);
    audit_->flush();
    auto entries = store_->audit().query({.action = "auth.login"}).value();
    ASSERT_GE(entries.size(), 2u);
    EXPECT_EQ(entries[0].outcome, "failure");
    EXPECT_EQ(entries[1].outcome, "success");
    EXPECT_EQ(entries[1].actor, "user:admin");
    for (const auto& e : entries) {
        EXPECT_EQ(e.detail.find("wrong-password!"), std::string::npos) << "no secret in the audit log";
    }
}

TEST_F(AuthServiceTest, BootstrapOnlyOnce) {
    auto again = service_->ensure_admin("");
    ASSERT_TRUE(again);
    EXPECT_FALSE(*again);
}

}  // namespace
}  // namespace sai::auth
