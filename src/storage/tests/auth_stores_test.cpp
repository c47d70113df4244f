// Contract tests of the authentication stores, run against every backend.
#include "backends.hpp"

#include "core/ids.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::storage {
namespace {

class AuthStoresTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SAI_OPEN_BACKEND();
    }

    model::User user(const std::string& name, model::Role role = model::Role::Analyst) {
        model::User u;
        u.id = core::new_uuid_v7();
        u.username = name;
        u.role = role;
        u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
        u.created_at = u.updated_at = "2026-11-29T09:00:00.000Z";
        return u;
    }

    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(AuthStoresTest, UserRoundTripAndCaseInsensitiveUniqueName) {
    auto alice = user("alice");
    ASSERT_TRUE(store_->users().create(alice));
    auto got = store_->users().find_by_username("ALICE");
    ASSERT_TRUE(got) << got.error().detail;
    EXPECT_EQ(got->id, alice.id);
    EXPECT_EQ(got->role, model::Role::Analyst);
    EXPECT_FALSE(got->last_login);

    auto dup = store_->users().create(user("Alice"));
    ASSERT_FALSE(dup);
    EXPECT_EQ(dup.error().code, core::Errc::Conflict);
}

TEST_P(AuthStoresTest, SqlMetacharactersAndNulBytesAreJustData) {
    const std::string nasty = std::string("x'; DROP TABLE users; --\0tail", 29);
    if (GetParam() == "postgres") {
        // PostgreSQL text cannot hold NUL: refused outright, never cut short.
        auto refused = store_->users().create(user(nasty));
        ASSERT_FALSE(refused);
        EXPECT_EQ(refused.error().code, core::Errc::InvalidArgument);
        const std::string sql_only = "x'; DROP TABLE users; --";
        ASSERT_TRUE(store_->users().create(user(sql_only)));
        EXPECT_EQ(store_->users().find_by_username(sql_only)->username, sql_only);
        EXPECT_EQ(store_->users().count().value(), 1u);
        return;
    }
    auto u = user(nasty);
    ASSERT_TRUE(store_->users().create(u));
    auto got = store_->users().find_by_username(nasty);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->username, nasty);
    EXPECT_EQ(store_->users().count().value(), 1u);
}

TEST_P(AuthStoresTest, UpdateListAndRemove) {
    auto a = user("a");
    auto b = user("b");
    ASSERT_TRUE(store_->users().create(a));
    ASSERT_TRUE(store_->users().create(b));
    a.role = model::Role::Admin;
    a.disabled = true;
    a.last_login = "2026-11-29T10:00:00.000Z";
    ASSERT_TRUE(store_->users().update(a));
    auto got = store_->users().get(a.id).value();
    EXPECT_EQ(got.role, model::Role::Admin);
    EXPECT_TRUE(got.disabled);
    EXPECT_EQ(got.last_login, "2026-11-29T10:00:00.000Z");

    auto first = store_->users().list(1, "").value();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].id, a.id);
    auto second = store_->users().list(10, first[0].id).value();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].id, b.id);

    ASSERT_TRUE(store_->users().remove(a.id));
    EXPECT_EQ(store_->users().get(a.id).error().code, core::Errc::NotFound);
    EXPECT_EQ(store_->users().remove(a.id).error().code, core::Errc::NotFound);
    auto ghost = user("ghost");
    EXPECT_EQ(store_->users().update(ghost).error().code, core::Errc::NotFound);
}

TEST_P(AuthStoresTest, RefreshTokenIsUsedOnceAndFamiliesRevoke) {
    auto u = user("carol");
    ASSERT_TRUE(store_->users().create(u));
    RefreshTokenRecord r{"hash-1", "family-1", u.id, 100, 200, false, false};
    ASSERT_TRUE(store_->tokens().insert_refresh(r));
    auto first = store_->tokens().use_refresh("hash-1");
    ASSERT_TRUE(first);
    EXPECT_FALSE(first->used);
    auto second = store_->tokens().use_refresh("hash-1");
    ASSERT_TRUE(second);
    EXPECT_TRUE(second->used);
    ASSERT_TRUE(store_->tokens().revoke_family("family-1"));
    EXPECT_TRUE(store_->tokens().use_refresh("hash-1")->revoked);
    EXPECT_EQ(store_->tokens().use_refresh("unknown").error().code, core::Errc::NotFound);
    EXPECT_EQ(store_->tokens().purge_expired(300).value(), 1u);
}

TEST_P(AuthStoresTest, RevokedAccessTokensUntilExpiry) {
    ASSERT_TRUE(store_->tokens().revoke_access("jti-1", 1000));
    ASSERT_TRUE(store_->tokens().revoke_access("jti-1", 1000));  // idempotent
    ASSERT_TRUE(store_->tokens().revoke_access("jti-2", 50));
    auto live = store_->tokens().revoked_access(100).value();
    ASSERT_EQ(live.size(), 1u);
    EXPECT_EQ(live[0].first, "jti-1");
}

TEST_P(AuthStoresTest, ApiKeysListRevokeTouch) {
    model::ApiKey k;
    k.id = core::new_uuid_v7();
    k.name = "shipper";
    k.role = model::Role::Analyst;
    k.prefix = "sk_abcd";
    k.key_hash = "deadbeef";
    k.created_by = "user:admin";
    k.created_at = "2026-11-29T09:00:00.000Z";
    ASSERT_TRUE(store_->api_keys().insert(k));
    ASSERT_TRUE(store_->api_keys().touch(k.id, "2026-11-29T09:05:00.000Z"));
    ASSERT_TRUE(store_->api_keys().revoke(k.id));
    auto all = store_->api_keys().list().value();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_TRUE(all[0].revoked);
    EXPECT_EQ(all[0].last_used_at, "2026-11-29T09:05:00.000Z");
    EXPECT_EQ(store_->api_keys().revoke("nope").error().code, core::Errc::NotFound);
}

TEST_P(AuthStoresTest, AuditAppendQueryAndScan) {
    std::string previous = "genesis";
    for (int i = 1; i <= 5; ++i) {
        AuditRecord r;
        r.ts = "2026-11-29T09:00:0" + std::to_string(i) + ".000Z";
        r.actor = i % 2 ? "user:alice" : "user:bob";
        r.action = "auth.login";
        r.outcome = i == 5 ? "failure" : "success";
        auto stored = store_->audit().append(r, "genesis", [](const AuditRecord& x) {
            return "h" + std::to_string(x.seq) + "<" + x.prev_hash;
        });
        ASSERT_TRUE(stored) << stored.error().detail;
        EXPECT_EQ(stored->seq, i);
        EXPECT_EQ(stored->prev_hash, previous);
        previous = stored->hash;
    }
    EXPECT_EQ(store_->audit().last().value()->seq, 5);

    auto alice = store_->audit().query({.actor = "user:alice"}).value();
    ASSERT_EQ(alice.size(), 3u);
    EXPECT_EQ(alice[0].seq, 5);  // newest first
    auto page = store_->audit().query({.before_seq = 3, .limit = 10}).value();
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].seq, 2);
    auto failures = store_->audit().query({.outcome = "failure"}).value();
    ASSERT_EQ(failures.size(), 1u);
    auto window = store_->audit().query({.from = "2026-11-29T09:00:02.000Z", .to = "2026-11-29T09:00:04.000Z"}).value();
    EXPECT_EQ(window.size(), 2u);

    std::vector<std::int64_t> seen;
    ASSERT_TRUE(store_->audit().scan([&](const AuditRecord& r) {
        seen.push_back(r.seq);
        return true;
    }));
    EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthStoresTest, testing_backends::kBackends, testing_backends::backend_name);

}  // namespace
}  // namespace sai::storage
