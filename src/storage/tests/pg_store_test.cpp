// PostgreSQL-only behaviour: concurrent migration by two nodes, day partitions
// and their retention, idempotency across nodes, and a database that goes away
// and comes back.
#include "backends.hpp"

#include "core/time.hpp"
#include "model/event.hpp"

#include <boost/json.hpp>
#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace sai::storage {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kMidnight = 20'775LL * kDay;  // 2026-11-18T00:00:00Z

model::Event event(const std::string& id, std::int64_t ts, const std::string& message = "hello world") {
    boost::json::object o{{"id", id}, {"@timestamp", ts}, {"message", message}, {"event.category", "network"}};
    return model::event_from_json(o, ts).value();
}

class PgStoreTest : public ::testing::Test {
protected:
    void SetUp() override {
        server_ = testkit::PostgresServer::shared();
        if (!server_) GTEST_SKIP() << testkit::PostgresServer::unavailable_reason();
        options_.url = server_->create_database();
        ASSERT_FALSE(options_.url.empty());
        options_.pool_size = 4;
        options_.connect_timeout = std::chrono::seconds(2);
        options_.breaker_cooldown = std::chrono::milliseconds(200);
    }

    /// Rows of a query run directly with libpq (to look at the catalog).
    std::vector<std::string> column(const std::string& sql) {
        PGconn* c = PQconnectdb(options_.url.c_str());
        std::vector<std::string> out;
        PGresult* r = PQexec(c, sql.c_str());
        for (int i = 0; i < PQntuples(r); ++i) out.emplace_back(PQgetvalue(r, i, 0));
        PQclear(r);
        PQfinish(c);
        return out;
    }

    testkit::PostgresServer* server_ = nullptr;
    PgOptions options_;
};

TEST_F(PgStoreTest, TwoNodesMigratingAtOnceApplyEachMigrationOnce) {
    std::vector<core::Result<std::unique_ptr<PgStore>>> opened;
    for (int i = 0; i < 4; ++i) opened.emplace_back(core::make_error(core::Errc::Internal, ""));
    std::vector<std::thread> nodes;
    for (std::size_t i = 0; i < opened.size(); ++i) {
        nodes.emplace_back([&, i] { opened[i] = PgStore::open(options_); });
    }
    for (auto& t : nodes) t.join();
    std::size_t applied_now = 0;
    for (auto& o : opened) {
        ASSERT_TRUE(o) << o.error().detail;
    }
    auto applied = opened[0].value()->applied_migrations().value();
    EXPECT_EQ(applied.size(), postgres_migrations().size());
    EXPECT_EQ(column("SELECT count(*) FROM schema_migrations")[0], std::to_string(postgres_migrations().size()));
    for (auto& o : opened) applied_now += o.value()->migrate().value().size();
    EXPECT_EQ(applied_now, 0u);
    EXPECT_TRUE(opened[1].value()->check_health());
}

TEST_F(PgStoreTest, EventsLandInDayPartitionsAndRetentionDropsWholeDays) {
    auto store = PgStore::open(options_).value();
    std::vector<model::Event> batch;
    for (int day = 0; day < 3; ++day) {
        for (int i = 0; i < 4; ++i) {
            batch.push_back(event("d" + std::to_string(day) + "-" + std::to_string(i), kMidnight + day * kDay + i * 3'600'000));
        }
    }
    ASSERT_EQ(store->events().insert_batch(batch).value().inserted, 12u);
    EXPECT_EQ(column("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                     "WHERE i.inhparent = 'events'::regclass ORDER BY 1"),
              (std::vector<std::string>{"events_20261118", "events_20261119", "events_20261120"}));

    // Cut-off in the middle of day 1: day 0 is dropped whole, day 1 loses two rows.
    EXPECT_EQ(store->events().delete_before(kMidnight + kDay + 2 * 3'600'000, 1000).value(), 6u);
    EXPECT_EQ(column("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                     "WHERE i.inhparent = 'events'::regclass ORDER BY 1"),
              (std::vector<std::string>{"events_20261119", "events_20261120"}));
    EXPECT_EQ(store->events().count().value(), 6);
    EXPECT_EQ(column("SELECT count(*) FROM event_ids")[0], "6");
    EXPECT_EQ(store->events().get("d0-1").error().code, core::Errc::NotFound);
    EXPECT_EQ(store->events().get("d1-1").error().code, core::Errc::NotFound);
    EXPECT_TRUE(store->events().get("d1-2"));

    // A dropped day can be written again: its partition comes back.
    auto again = store->events().insert_batch(std::vector{event("d0-1", kMidnight + 5)}).value();
    EXPECT_EQ(again.inserted, 1u);
    EXPECT_TRUE(store->events().get("d0-1"));
}

TEST_F(PgStoreTest, AnotherNodesRetentionDoesNotBreakThisNodesInserts) {
    auto a = PgStore::open(options_).value();
    auto b = PgStore::open(options_).value();
    ASSERT_TRUE(a->events().insert_batch(std::vector{event("x1", kMidnight + 1)}));  // a caches the partition
    ASSERT_TRUE(b->events().delete_before(kMidnight + kDay, 1000));                  // b drops it
    auto r = a->events().insert_batch(std::vector{event("x2", kMidnight + 2)});
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->inserted, 1u);
    EXPECT_TRUE(b->events().get("x2"));
}

TEST_F(PgStoreTest, TwoNodesInsertingTheSameIdsStoreEachOnce) {
    auto a = PgStore::open(options_).value();
    auto b = PgStore::open(options_).value();
    std::vector<model::Event> batch;
    for (int i = 0; i < 500; ++i) batch.push_back(event("same-" + std::to_string(i), kMidnight + i * 1000, "shared batch"));
    InsertResult ra, rb;
    std::thread ta([&] { ra = a->events().insert_batch(batch).value(); });
    std::thread tb([&] { rb = b->events().insert_batch(batch).value(); });
    ta.join();
    tb.join();
    EXPECT_EQ(ra.inserted + rb.inserted, 500u);
    EXPECT_EQ(ra.duplicates + rb.duplicates, 500u);
    EXPECT_EQ(a->events().count().value(), 500);
    EXPECT_EQ(column("SELECT count(*) FROM events")[0], "500");
    EXPECT_EQ(a->events().query({.text = "shared batch", .limit = 1000}).value().size(), 500u);
}

TEST_F(PgStoreTest, FullTextSearchUsesTheGinIndex) {
    auto store = PgStore::open(options_).value();
    ASSERT_TRUE(store->events().insert_batch(std::vector{event("f1", kMidnight + 1, "Accepted publickey for deploy")}));
    const auto plan = column("SET enable_seqscan = off; EXPLAIN SELECT doc FROM events WHERE search @@ "
                             "plainto_tsquery('simple', 'publickey deploy')");
    std::string all;
    for (const auto& line : plan) all += line + "\n";
    EXPECT_NE(all.find("_search_idx"), std::string::npos) << all;  // the partitions' copy of events_search
    EXPECT_EQ(store->events().query({.text = "deploy publickey"}).value().size(), 1u);
}

TEST_F(PgStoreTest, RecordedTextPostgresCannotHoldIsReplacedNotRefused) {
    auto store = PgStore::open(options_).value();
    const std::string nasty = std::string("a\0b\xff", 4);
    const std::string replaced = "a\xEF\xBF\xBD" "b\xEF\xBF\xBD";
    // Audit: sealed as stored, so the chain still verifies.
    AuditRecord rec;
    rec.actor = "user:" + nasty;
    rec.detail = nasty;
    std::string sealed_actor;
    auto stored = store->audit().append(rec, "genesis", [&](const AuditRecord& r) {
        sealed_actor = r.actor;
        return "h:" + r.actor;
    });
    ASSERT_TRUE(stored) << stored.error().detail;
    EXPECT_EQ(sealed_actor, "user:" + replaced);
    EXPECT_EQ(store->audit().last().value()->hash, "h:user:" + replaced);
    EXPECT_EQ(store->audit().last().value()->detail, replaced);

    // Alerts and events carry text from the outside world.
    model::Alert a;
    a.id = "a1";
    a.title = nasty;
    a.entities.hosts = {nasty};
    a.tags = {nasty};
    ASSERT_TRUE(store->alerts().save(std::vector{a}, {}));
    auto got = store->alerts().get("a1").value();
    EXPECT_EQ(got.title, replaced);
    EXPECT_EQ(got.entities.hosts, std::vector<std::string>{replaced});
    EXPECT_EQ(store->alerts().query({.host = replaced}).value().size(), 1u);

    boost::json::object o{{"id", "nul"}, {"@timestamp", kMidnight + 1}, {"message", nasty}, {"host.name", nasty}};
    auto e = model::event_from_json(o, kMidnight + 1).value();
    ASSERT_TRUE(store->events().insert_batch(std::vector{e}));
    // The JSON document keeps the NUL (as \u0000); bad UTF-8 is replaced there as with SQLite.
    EXPECT_EQ(store->events().get("nul").value().message, std::string("a\0b\xEF\xBF\xBD", 6));
    EXPECT_EQ(store->events().query({.host = replaced}).value().size(), 1u);

    // User input elsewhere is refused, never cut short at the NUL.
    EXPECT_EQ(store->events().query({.host = nasty}).error().code, core::Errc::InvalidArgument);
}

TEST_F(PgStoreTest, ThePoolIsBoundedAndWaitingForItTimesOut) {
    options_.pool_size = 1;
    options_.acquire_timeout = std::chrono::milliseconds(200);
    auto store = PgStore::open(options_).value();
    // The seal callback runs inside the append's transaction: the only connection is busy.
    std::atomic<bool> inside{false};
    std::thread holder([&] {
        (void)store->audit().append({}, "genesis", [&](const AuditRecord&) {
            inside = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            return std::string("h");
        });
    });
    while (!inside) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto began = std::chrono::steady_clock::now();
    auto r = store->users().count();
    const auto waited = std::chrono::steady_clock::now() - began;
    holder.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Errc::Unavailable) << r.error().detail;
    EXPECT_GE(waited, std::chrono::milliseconds(150));
    EXPECT_LT(waited, std::chrono::milliseconds(1400));
    EXPECT_TRUE(store->users().count()) << "the connection is back in the pool";
}

TEST_F(PgStoreTest, StatementTimeoutBoundsEveryStatement) {
    options_.statement_timeout = std::chrono::milliseconds(200);
    auto a = PgStore::open(options_).value();
    auto b = PgStore::open(options_).value();
    std::atomic<bool> inside{false};
    std::thread holder([&] {
        (void)a->audit().append({}, "genesis", [&](const AuditRecord&) {
            inside = true;  // holds the audit advisory lock for a while
            std::this_thread::sleep_for(std::chrono::milliseconds(1500));
            return std::string("h");
        });
    });
    while (!inside) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto r = b->audit().append({}, "genesis", [](const AuditRecord&) { return std::string("h"); });
    holder.join();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Errc::Timeout) << r.error().detail;
    EXPECT_TRUE(b->audit().append({}, "genesis", [](const AuditRecord&) { return std::string("h"); }));
    EXPECT_EQ(b->audit().last().value()->seq, 2);
}

// Last: stops and restarts the process's shared server.
TEST_F(PgStoreTest, ZDatabaseDownAnswersUnavailableFastAndRecovers) {
    auto store = PgStore::open(options_).value();
    ASSERT_TRUE(store->events().insert_batch(std::vector{event("before", kMidnight + 1)}));
    ASSERT_TRUE(server_->stop());

    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        auto r = store->events().insert_batch(std::vector{event("during-" + std::to_string(i), kMidnight + 2)});
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, core::Errc::Unavailable) << r.error().detail;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
    auto health = store->check_health();
    ASSERT_FALSE(health);
    EXPECT_EQ(health.error().code, core::Errc::Unavailable);

    ASSERT_TRUE(server_->start());
    // Recovers on its own: the breaker lets a trial through, the pool reconnects.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    core::Result<InsertResult> r = core::make_error(core::Errc::Unavailable, "not tried");
    while (std::chrono::steady_clock::now() < deadline) {
        r = store->events().insert_batch(std::vector{event("after", kMidnight + 3)});
        if (r) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_TRUE(store->check_health());
    EXPECT_TRUE(store->events().get("before"));
    EXPECT_EQ(store->events().get("during-0").error().code, core::Errc::NotFound);
}

}  // namespace
}  // namespace sai::storage
