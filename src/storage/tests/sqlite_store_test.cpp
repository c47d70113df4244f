#include "storage/sqlite/sqlite_store.hpp"

#include "model/event.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace sai::storage {
namespace {

SqliteOptions options_for(const testkit::TempDir& dir) {
    SqliteOptions o;
    o.data_dir = dir.path() / "data";
    o.read_connections = 2;
    return o;
}

// Reads one integer with a separate connection, as an operator with the sqlite3 shell would.
long long query_int(const std::filesystem::path& file, const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    long long value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

TEST(SqliteStoreTest, FreshDatabaseGetsEveryMigration) {
    testkit::TempDir dir;
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store) << store.error().detail;
    auto applied = (*store)->applied_migrations();
    ASSERT_TRUE(applied);
    ASSERT_EQ(applied->size(), sqlite_migrations().size());
    EXPECT_EQ(applied->front().version, 1);
    EXPECT_FALSE(applied->front().applied_at.empty());
    EXPECT_TRUE((*store)->check_health());
    EXPECT_EQ(query_int((*store)->database_file(), "SELECT count(*) FROM settings WHERE key = 'instance_id'"), 1);
}

TEST(SqliteStoreTest, ReopeningAppliesNothingTwice) {
    testkit::TempDir dir;
    {
        auto store = SqliteStore::open(options_for(dir));
        ASSERT_TRUE(store);
    }
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store);
    auto again = (*store)->migrate();
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->empty());
    EXPECT_EQ(query_int((*store)->database_file(), "SELECT count(*) FROM schema_migrations"),
              static_cast<long long>(sqlite_migrations().size()));
}

TEST(SqliteStoreTest, NewMigrationIsAppliedOnNextOpen) {
    testkit::TempDir dir;
    std::vector<Migration> v1(sqlite_migrations().begin(), sqlite_migrations().end());
    ASSERT_TRUE(SqliteStore::open(options_for(dir), v1));
    auto v2 = v1;
    v2.push_back({v1.back().version + 1, "widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY);"});
    auto store = SqliteStore::open(options_for(dir), v2);
    ASSERT_TRUE(store) << store.error().detail;
    EXPECT_EQ(query_int((*store)->database_file(), "SELECT max(version) FROM schema_migrations"),
              v2.back().version);
    EXPECT_EQ(query_int((*store)->database_file(), "SELECT count(*) FROM widgets"), 0);
}

TEST(SqliteStoreTest, EventsStoredBeforeTheFullTextRebuildAreStillFoundAndDeleted) {
    testkit::TempDir dir;
    const std::vector<Migration> all(sqlite_migrations().begin(), sqlite_migrations().end());
    const auto before = std::find_if(all.begin(), all.end(), [](const Migration& m) { return m.version == 10; });
    ASSERT_NE(before, all.end());
    std::vector<model::Event> events(3);
    for (std::size_t i = 0; i < events.size(); ++i) {
        events[i].id = "old-" + std::to_string(i);
        events[i].timestamp = events[i].ingested = 1'790'000'000'000 + static_cast<std::int64_t>(i);
        events[i].message = i == 1 ? "Accepted publickey for alice" : "Failed password for root";
    }
    {
        auto old = SqliteStore::open(options_for(dir), std::vector<Migration>(all.begin(), before));
        ASSERT_TRUE(old) << old.error().detail;
        ASSERT_TRUE((*old)->events().insert_batch(events));
    }
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store) << store.error().detail;
    EventQuery q;
    q.text = "password root";
    auto found = (*store)->events().query(q);
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 2u);
    EXPECT_EQ(found->front().id, "old-2");
    ASSERT_TRUE((*store)->events().delete_before(1'790'000'000'001, 10));
    EXPECT_EQ(query_int((*store)->database_file(), "SELECT count(*) FROM events_fts WHERE events_fts MATCH 'password'"),
              1)
        << "a deleted event leaves the full-text index";
    q.text = "alice";
    EXPECT_EQ((*store)->events().query(q)->size(), 1u);
    EXPECT_EQ(query_int((*store)->database_file(), "SELECT count(*) FROM sqlite_master WHERE name = 'events_fts_docsize'"),
              0);
}

TEST(SqliteStoreTest, FailingMigrationIsRolledBackAndReported) {
    testkit::TempDir dir;
    std::vector<Migration> migrations(sqlite_migrations().begin(), sqlite_migrations().end());
    const int bad_version = migrations.back().version + 1;
    migrations.push_back({bad_version, "broken", "CREATE TABLE half (id INTEGER); SELECT * FROM no_such_table;"});
    auto store = SqliteStore::open(options_for(dir), migrations);
    ASSERT_FALSE(store);
    EXPECT_NE(store.error().detail.find("migration " + std::to_string(bad_version)), std::string::npos)
        << store.error().detail;
    const auto file = options_for(dir).data_dir / "securityai.db";
    EXPECT_EQ(query_int(file, "SELECT count(*) FROM sqlite_master WHERE name = 'half'"), 0);
    EXPECT_EQ(query_int(file, "SELECT max(version) FROM schema_migrations"), bad_version - 1);
}

TEST(SqliteStoreTest, DatabaseNewerThanBinaryIsRefused) {
    testkit::TempDir dir;
    std::vector<Migration> newer(sqlite_migrations().begin(), sqlite_migrations().end());
    newer.push_back({newer.back().version + 1, "future", "CREATE TABLE future (id INTEGER);"});
    ASSERT_TRUE(SqliteStore::open(options_for(dir), newer));
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, core::Errc::Conflict);
    EXPECT_NE(store.error().detail.find("newer"), std::string::npos);
}

TEST(SqliteStoreTest, PendingMigrationsRefusedWhenNotAllowed) {
    testkit::TempDir dir;
    auto options = options_for(dir);
    options.apply_migrations = false;
    auto store = SqliteStore::open(options);
    ASSERT_FALSE(store);
    EXPECT_NE(store.error().detail.find("securityai migrate"), std::string::npos);
}

TEST(SqliteStoreTest, UsesWriteAheadLogging) {
    testkit::TempDir dir;
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((*store)->database_file().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

TEST(SqliteStoreTest, HealthFailsWhenDatabaseFileIsRemoved) {
    testkit::TempDir dir;
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->check_health());
    std::filesystem::remove((*store)->database_file());
    auto health = (*store)->check_health();
    ASSERT_FALSE(health);
    EXPECT_EQ(health.error().code, core::Errc::Unavailable);
    EXPECT_NE(health.error().detail.find("missing"), std::string::npos);
}

TEST(SqliteStoreTest, ClosedStoreAnswersUnavailable) {
    testkit::TempDir dir;
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store);
    (*store)->close();
    auto health = (*store)->check_health();
    ASSERT_FALSE(health);
    EXPECT_EQ(health.error().code, core::Errc::Unavailable);
    EXPECT_FALSE((*store)->migrate());
}

TEST(SqliteStoreTest, UnwritableDataDirIsAClearError) {
    testkit::TempDir dir;
    const auto file_in_the_way = dir.path() / "data";
    std::ofstream(file_in_the_way) << "not a directory";
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, core::Errc::Unavailable);
    EXPECT_NE(store.error().detail.find("data"), std::string::npos);
}

TEST(SqliteStoreTest, BlockHoldingMostEventsWalksTheTimeIndexExactly) {
    // Over 50,000 events in one address block: the store walks the time index
    // instead of the block's own index (the plan the contract tests' 6,000 events
    // never reach). Its pages must be the exact newest matches all the same.
    testkit::TempDir dir;
    auto store = SqliteStore::open(options_for(dir));
    ASSERT_TRUE(store) << store.error().detail;
    constexpr int kEvents = 55000;
    constexpr std::int64_t kStart = 1'795'000'000'000;
    std::vector<model::Event> batch;
    for (int i = 0; i < kEvents; ++i) {
        model::Event e;
        e.id = "b" + std::to_string(100000 + i);
        e.timestamp = kStart + i / 2 * 10;  // pairs share a time
        e.ingested = e.timestamp;
        e.host_name = i % 1000 == 7 ? "quiet" : "busy";
        e.source_ip = "10." + std::to_string(i % 256) + "." + std::to_string(i / 256 % 256) + ".1";
        e.message = "event";
        batch.push_back(std::move(e));
        if (batch.size() == 5000) {
            ASSERT_TRUE((*store)->events().insert_batch(batch));
            batch.clear();
        }
    }
    auto ids = [&](const EventQuery& q) {
        std::vector<std::string> out;
        for (const auto& e : (*store)->events().query(q).value()) out.push_back(e.id);
        return out;
    };
    const auto block = model::cidr_range("10.0.0.0/8");
    EXPECT_EQ(ids({.source_range = block, .limit = 3}), (std::vector<std::string>{"b154999", "b154998", "b154997"}));
    EXPECT_EQ(ids({.host = "quiet", .source_range = block, .limit = 3}),
              (std::vector<std::string>{"b154007", "b153007", "b152007"}));
    EXPECT_EQ(ids({.source_range = block, .before = std::pair{kStart + 27498 * 10, std::string("b154997")}, .limit = 2}),
              (std::vector<std::string>{"b154996", "b154995"}));
}

}  // namespace
}  // namespace sai::storage
