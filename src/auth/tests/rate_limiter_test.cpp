#include "auth/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace sai::auth {
namespace {

using namespace std::chrono_literals;
const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;

TEST(RateLimiterTest, HundredPerMinuteThenRefusedWithRetryAfter) {
    auto limiter = make_memory_rate_limiter();
    for (int i = 0; i < 100; ++i) {
        auto d = limiter->take("user:alice", 100, t0);
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.remaining, 99 - i);
        EXPECT_EQ(d.limit, 100);
    }
    auto refused = limiter->take("user:alice", 100, t0);
    EXPECT_FALSE(refused.allowed);
    EXPECT_EQ(refused.remaining, 0);
    EXPECT_GE(refused.retry_after_seconds, 1);
    EXPECT_LE(refused.retry_after_seconds, 1);
    EXPECT_EQ(refused.reset_seconds, 60);
    // Other callers are not affected.
    EXPECT_TRUE(limiter->take("user:bob", 100, t0).allowed);
}

TEST(RateLimiterTest, RefillsContinuously) {
    auto limiter = make_memory_rate_limiter();
    for (int i = 0; i < 60; ++i) {
        limiter->take("k", 60, t0);
    }
    EXPECT_FALSE(limiter->take("k", 60, t0).allowed);
    EXPECT_TRUE(limiter->take("k", 60, t0 + 1s).allowed);
    EXPECT_FALSE(limiter->take("k", 60, t0 + 1s).allowed);
    auto later = limiter->take("k", 60, t0 + 61s);
    EXPECT_TRUE(later.allowed);
    EXPECT_EQ(later.remaining, 59);
}

TEST(RateLimiterTest, ZeroMeansUnlimited) {
    auto limiter = make_memory_rate_limiter();
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(limiter->take("k", 0, t0).allowed);
    }
}

TEST(RateLimiterTest, MemoryIsBoundedByEviction) {
    auto limiter = make_memory_rate_limiter(160);
    for (int i = 0; i < 10000; ++i) {
        limiter->take("ip:" + std::to_string(i), 100, t0 + std::chrono::milliseconds(i));
    }
    // A recent, exhausted bucket survives the eviction of idle, refilled ones.
    for (int i = 0; i < 5; ++i) {
        limiter->take("hot", 5, t0 + 20s);
    }
    for (int i = 0; i < 1000; ++i) {
        limiter->take("later:" + std::to_string(i), 100, t0 + 21s);
    }
    EXPECT_FALSE(limiter->take("hot", 5, t0 + 21s).allowed);
}

TEST(LoginGuardTest, FiveFailuresLockTheUsernameForFifteenMinutes) {
    LoginGuard guard({});
    for (int i = 0; i < 4; ++i) {
        guard.record_failure("alice", "10.0.0.1", t0);
        EXPECT_EQ(guard.locked_for("alice", "10.0.0.1", t0), 0);
    }
    guard.record_failure("Alice", "10.0.0.2", t0);  // usernames fold case
    EXPECT_EQ(guard.locked_for("alice", "10.0.0.9", t0), 900);
    EXPECT_EQ(guard.locked_for("bob", "10.0.0.9", t0), 0);
    EXPECT_GT(guard.locked_for("alice", "10.0.0.9", t0 + 899s), 0);
    EXPECT_EQ(guard.locked_for("alice", "10.0.0.9", t0 + 900s), 0);
}

TEST(LoginGuardTest, TwentyFailuresFromOneAddressLockIt) {
    LoginGuard guard({});
    for (int i = 0; i < 20; ++i) {
        guard.record_failure("user" + std::to_string(i), "192.0.2.7", t0);
    }
    EXPECT_GT(guard.locked_for("someone-else", "192.0.2.7", t0), 0);
    EXPECT_EQ(guard.locked_for("someone-else", "192.0.2.8", t0), 0);
}

TEST(LoginGuardTest, FailuresOutsideTheWindowDoNotCount) {
    LoginGuard guard({});
    for (int i = 0; i < 4; ++i) {
        guard.record_failure("carol", "ip", t0);
    }
    guard.record_failure("carol", "ip", t0 + 16min);
    EXPECT_EQ(guard.locked_for("carol", "ip", t0 + 16min), 0);
}

}  // namespace
}  // namespace sai::auth
