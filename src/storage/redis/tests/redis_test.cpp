// Contract tests of the Redis backend against a real redis-server (testkit).

#include "storage/redis/redis_bus.hpp"
#include "storage/redis/redis_cache.hpp"
#include "storage/redis/redis_client.hpp"
#include "storage/redis/redis_rate_limiter.hpp"
#include "storage/redis/redis_revocations.hpp"
#include "core/time.hpp"
#include "testkit/redis_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

namespace sai::storage::redis {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

RedisOptions options_for(const testkit::RedisServer& server) {
    auto o = parse_redis_url(server.url());
    EXPECT_TRUE(o);
    o->command_timeout = 200ms;
    o->connect_timeout = 200ms;
    o->cooldown = 300ms;
    return *o;
}

/// Polls `cond` until it holds or `timeout` passes (generous: a loaded CI machine).
template <class F>
bool eventually(F cond, std::chrono::milliseconds timeout = 15s) {
    const auto deadline = Steady::now() + timeout;
    while (Steady::now() < deadline) {
        if (cond()) return true;
        std::this_thread::sleep_for(20ms);
    }
    return cond();
}

class RedisTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!testkit::RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
        server = std::make_unique<testkit::RedisServer>();
    }
    std::unique_ptr<testkit::RedisServer> server;
};

TEST(RedisUrlTest, ParsesHostPortDatabaseAndCredentials) {
    auto o = parse_redis_url("redis://user:secret@cache.local:6380/2");
    ASSERT_TRUE(o);
    EXPECT_EQ(o->host, "cache.local");
    EXPECT_EQ(o->port, 6380);
    EXPECT_EQ(o->username, "user");
    EXPECT_EQ(o->password, "secret");
    EXPECT_EQ(o->database, 2);
    auto plain = parse_redis_url("redis://10.0.0.1");
    ASSERT_TRUE(plain);
    EXPECT_EQ(plain->port, 6379);
    EXPECT_EQ(plain->database, 0);
    EXPECT_FALSE(parse_redis_url("rediss://x:1"));
    EXPECT_FALSE(parse_redis_url("redis://x:99999"));
    EXPECT_FALSE(parse_redis_url("redis://x/db"));
    EXPECT_FALSE(parse_redis_url("http://x"));
}

TEST_F(RedisTest, LimiterAllowsTheCapacityThenRefusesWithRetryAfter) {
    RedisClient client(options_for(*server));
    auto limiter = make_redis_rate_limiter(client, auth::make_memory_rate_limiter());
    const auto now = Steady::now();
    for (int i = 0; i < 10; ++i) {
        auto d = limiter->take("user:a|api", 10, now);
        ASSERT_TRUE(d.allowed) << i;
        EXPECT_EQ(d.limit, 10);
        EXPECT_EQ(d.remaining, 9 - i);
    }
    auto refused = limiter->take("user:a|api", 10, now);
    EXPECT_FALSE(refused.allowed);
    EXPECT_GE(refused.retry_after_seconds, 1);
    EXPECT_LE(refused.retry_after_seconds, 6);
    EXPECT_GE(refused.reset_seconds, 50);
    // Another key has its own bucket; the bucket lives in Redis with an expiry.
    EXPECT_TRUE(limiter->take("user:b|api", 10, now).allowed);
    auto ttl = client.command({"PTTL", "sai:rl:user:a|api"});
    ASSERT_TRUE(ttl);
    EXPECT_GT(ttl->integer, 0);
}

TEST_F(RedisTest, TwoNodesTakingConcurrentlyShareOneBucket) {
    // Two clients and two limiters: two nodes. Four threads hammer the same key.
    RedisClient a(options_for(*server));
    RedisClient b(options_for(*server));
    auto la = make_redis_rate_limiter(a, auth::make_memory_rate_limiter());
    auto lb = make_redis_rate_limiter(b, auth::make_memory_rate_limiter());
    constexpr int kPerMinute = 60;  // refills one per second
    std::atomic<int> allowed{0};
    const auto start = Steady::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            auto& limiter = t % 2 ? *la : *lb;
            for (int i = 0; i < 50; ++i) {
                allowed += limiter.take("user:shared|api", kPerMinute, Steady::now()).allowed ? 1 : 0;
            }
        });
    }
    for (auto& t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    // Separate buckets would allow 120; a shared one the capacity plus what refilled meanwhile.
    EXPECT_GE(allowed.load(), kPerMinute);
    EXPECT_LE(allowed.load(), kPerMinute + 1 + static_cast<int>(elapsed));
}

TEST_F(RedisTest, LimiterFallsBackQuicklyWhenRedisDiesAndRecoversAfterRestart) {
    RedisClient client(options_for(*server));
    auto limiter = make_redis_rate_limiter(client, auth::make_memory_rate_limiter());
    ASSERT_TRUE(limiter->take("ip:1|api", 100, Steady::now()).allowed);
    server->stop();
    // Every call answers from the local limiter, and none waits long for the dead Redis.
    std::chrono::nanoseconds worst{0};
    for (int i = 0; i < 20; ++i) {
        const auto t0 = Steady::now();
        auto d = limiter->take("ip:1|api", 100, t0);
        worst = std::max(worst, Steady::now() - t0);
        EXPECT_TRUE(d.allowed);
        EXPECT_EQ(d.limit, 100);
    }
    EXPECT_LT(worst, 1s);
    EXPECT_FALSE(client.available());
    EXPECT_FALSE(client.ping());
    server->start();
    // After the cooldown calls go to Redis again: a fresh Redis has no script
    // (EVALSHA says NOSCRIPT, EVAL reloads it) and no bucket, until the take creates one.
    ASSERT_TRUE(eventually([&] {
        limiter->take("ip:2|api", 100, Steady::now());
        auto exists = client.command({"EXISTS", "sai:rl:ip:2|api"});
        return exists && exists->integer == 1;
    }));
    EXPECT_TRUE(client.available());
    EXPECT_TRUE(client.ping());
}

/// Stops the buses when a test ends (also on a failed ASSERT), before the objects
/// their handlers point into (declared after the buses) are destroyed.
struct StopOnExit {
    RedisBus& a;
    RedisBus& b;
    ~StopOnExit() {
        a.stop();
        b.stop();
    }
};

struct Inbox {
    std::mutex mutex;
    std::vector<std::string> messages;
    void add(std::string_view m) {
        std::lock_guard lock(mutex);
        messages.emplace_back(m);
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return messages.size();
    }
    std::vector<std::string> all() {
        std::lock_guard lock(mutex);
        return messages;
    }
};

TEST_F(RedisTest, BusRelaysToOtherNodesAndSkipsItsOwnMessages) {
    RedisClient ca(options_for(*server));
    RedisClient cb(options_for(*server));
    RedisBus a(ca, "node-a");
    RedisBus b(cb, "node-b");
    Inbox in_a, in_b;
    a.subscribe("live", [&](std::string_view m) { in_a.add(m); });
    b.subscribe("live", [&](std::string_view m) { in_b.add(m); });
    StopOnExit stop{a, b};
    a.start();
    b.start();
    ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }));
    EXPECT_TRUE(a.health());
    ASSERT_TRUE(a.publish("live", "one"));
    ASSERT_TRUE(a.publish("live", std::string("two\nlines\0binary", 16)));
    ASSERT_TRUE(b.publish("live", "from b"));
    ASSERT_TRUE(eventually([&] { return in_b.size() == 2 && in_a.size() == 1; }));
    EXPECT_EQ(in_b.all(), (std::vector<std::string>{"one", std::string("two\nlines\0binary", 16)}));
    EXPECT_EQ(in_a.all(), std::vector<std::string>{"from b"});
    std::this_thread::sleep_for(200ms);  // nothing else (no echo, no duplicate) arrives
    EXPECT_EQ(in_a.size(), 1u);
    EXPECT_EQ(in_b.size(), 2u);
}

TEST_F(RedisTest, BusReportsRedisDownAndResubscribesAfterRestart) {
    RedisClient ca(options_for(*server));
    RedisClient cb(options_for(*server));
    RedisBus a(ca, "node-a");
    RedisBus b(cb, "node-b");
    Inbox in_b;
    std::atomic<int> connects{0};
    b.subscribe("live", [&](std::string_view m) { in_b.add(m); });
    b.on_connected([&] { ++connects; });
    StopOnExit stop{a, b};
    a.start();
    b.start();
    ASSERT_TRUE(eventually([&] { return b.subscribed(); }));
    EXPECT_EQ(connects.load(), 1);

    server->stop();
    ASSERT_TRUE(eventually([&] { return !b.subscribed(); }));
    auto h = b.health();
    ASSERT_FALSE(h);
    EXPECT_EQ(h.error().code, core::Errc::Unavailable);
    for (int i = 0; i < 5; ++i) a.publish("live", "lost");  // dropped, never blocks

    server->start();
    ASSERT_TRUE(eventually([&] { return b.subscribed(); }));
    EXPECT_EQ(connects.load(), 2);
    ASSERT_TRUE(eventually([&] {
        a.publish("live", "after restart");
        return in_b.size() > 0;
    }));
    for (const auto& m : in_b.all()) EXPECT_EQ(m, "after restart");
    EXPECT_TRUE(eventually([&] { return static_cast<bool>(b.health()); }));
}

TEST_F(RedisTest, RevocationsReachOtherNodesAtOnceAndLateJoinersCatchUp) {
    RedisClient ca(options_for(*server));
    RedisClient cb(options_for(*server));
    RedisBus a(ca, "node-a");
    RedisBus b(cb, "node-b");
    std::mutex mutex;
    std::map<std::string, std::int64_t> seen_a, seen_b;
    RedisRevocations ra(ca, a, [&](std::string jti, std::int64_t exp) {
        std::lock_guard lock(mutex);
        seen_a[jti] = exp;
    });
    RedisRevocations rb(cb, b, [&](std::string jti, std::int64_t exp) {
        std::lock_guard lock(mutex);
        seen_b[jti] = exp;
    });
    StopOnExit stop{a, b};
    const std::int64_t now = core::now_unix_ms() / 1000;
    // Revoked before node b runs: b reads it when its subscriber connects.
    ASSERT_TRUE(ra.revoke("early-jti", now + 600));
    ASSERT_TRUE(ra.revoke("expired-jti", now - 5));
    a.start();
    b.start();
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return seen_b.contains("early-jti");
    }));
    ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }));
    ASSERT_TRUE(ra.revoke("live-jti", now + 900));
    ASSERT_TRUE(eventually([&] {
        std::lock_guard lock(mutex);
        return seen_b.contains("live-jti");
    }));
    {
        std::lock_guard lock(mutex);
        EXPECT_EQ(seen_b["live-jti"], now + 900);
        EXPECT_FALSE(seen_b.contains("expired-jti"));
        EXPECT_FALSE(seen_a.contains("live-jti"));  // its own message is not echoed
    }
    auto loaded = rb.load(now);
    ASSERT_TRUE(loaded);
    EXPECT_EQ(*loaded, 2u);  // early + live; the expired one was purged
    EXPECT_FALSE(ra.revoke("bad jti", now + 5));
}

TEST_F(RedisTest, CacheIsSharedAndInvalidatedOnEveryNode) {
    RedisClient ca(options_for(*server));
    RedisClient cb(options_for(*server));
    RedisBus a(ca, "node-a");
    RedisBus b(cb, "node-b");
    RedisCache cache_a(ca, a, 30s);
    RedisCache cache_b(cb, b, 30s);
    StopOnExit stop{a, b};
    a.start();
    b.start();
    ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }));
    EXPECT_FALSE(cache_b.get("alerts", "q1"));
    cache_a.put("alerts", "q1", R"({"total":1})");
    EXPECT_EQ(cache_b.get("alerts", "q1").value_or(""), R"({"total":1})");  // shared
    EXPECT_FALSE(cache_b.get("events", "q1"));                               // topics are separate
    cache_b.put("events", "q1", "e");

    cache_a.invalidate("alerts");
    EXPECT_FALSE(cache_a.get("alerts", "q1"));  // at once on the node that changed the data
    ASSERT_TRUE(eventually([&] { return !cache_b.get("alerts", "q1"); }));  // and on the others
    EXPECT_EQ(cache_b.get("events", "q1").value_or(""), "e");  // other topics untouched
    cache_b.put("alerts", "q1", R"({"total":2})");
    EXPECT_EQ(cache_a.get("alerts", "q1").value_or(""), R"({"total":2})");
    auto ttl = ca.command({"TTL", "sai:cache:alerts:1:q1"});
    ASSERT_TRUE(ttl);
    EXPECT_GT(ttl->integer, 0);
    EXPECT_LE(ttl->integer, 30);

    // Redis down: misses, puts do nothing, nothing throws or waits long.
    server->stop();
    ASSERT_TRUE(eventually([&] { return !b.subscribed(); }));
    const auto t0 = Steady::now();
    EXPECT_FALSE(cache_b.get("alerts", "q1"));
    cache_b.put("alerts", "q1", "x");
    cache_b.invalidate("alerts");
    EXPECT_LT(Steady::now() - t0, 2s);
    // Back (empty, as after a crash): entries from before are gone, caching works again.
    server->start();
    ASSERT_TRUE(eventually([&] { return a.subscribed() && b.subscribed(); }));
    ASSERT_TRUE(eventually([&] {
        cache_a.put("alerts", "q2", "fresh");
        return cache_b.get("alerts", "q2").value_or("") == "fresh";
    }));
}

}  // namespace
}  // namespace sai::storage::redis
