#include "auth/audit_log.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace sai::auth {
namespace {

class AuditLogTest : public testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        store_ = storage::SqliteStore::open(o).value();
    }

    void write(int n) {
        auto log = AuditLog::open(store_->audit()).value();
        for (int i = 0; i < n; ++i) {
            log->record({.actor = "user:alice", .role = "admin", .client_ip = "127.0.0.1", .request_id = "r",
                         .action = "user.create", .target = "user:u" + std::to_string(i)});
        }
        log->flush();
    }

    void sql(const std::string& statement) {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(store_->database_file().c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
        sqlite3_close(db);
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
};

TEST_F(AuditLogTest, ChainVerifiesAcrossRestarts) {
    write(5);
    write(3);  // a new AuditLog continues the chain
    auto v = verify_audit_chain(store_->audit()).value();
    EXPECT_TRUE(v.ok) << v.reason;
    EXPECT_EQ(v.entries, 8);
    auto first = store_->audit().query({.before_seq = 2}).value();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0].prev_hash, kAuditGenesis);
}

TEST_F(AuditLogTest, EditedEntryIsDetected) {
    write(5);
    sql("UPDATE audit_log SET actor = 'user:mallory' WHERE seq = 3");
    auto v = verify_audit_chain(store_->audit()).value();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_broken_seq, 3);
    EXPECT_NE(v.reason.find("modified"), std::string::npos);
}

TEST_F(AuditLogTest, DeletedEntryIsDetected) {
    write(5);
    sql("DELETE FROM audit_log WHERE seq = 2");
    auto v = verify_audit_chain(store_->audit()).value();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_broken_seq, 2);
}

TEST_F(AuditLogTest, RecomputedHashWithoutRelinkingIsDetected) {
    write(4);
    // An attacker who edits an entry and recomputes its hash still breaks the next link.
    auto entries = store_->audit().query({}).value();
    storage::AuditRecord r = entries[2];  // seq 2 (newest first: 4, 3, 2, 1)
    ASSERT_EQ(r.seq, 2);
    r.detail = "nothing to see";
    r.hash = audit_hash(r);
    sql("UPDATE audit_log SET detail = 'nothing to see', hash = '" + r.hash + "' WHERE seq = 2");
    auto v = verify_audit_chain(store_->audit()).value();
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.first_broken_seq, 3);
}

TEST_F(AuditLogTest, EmptyLogVerifies) {
    auto v = verify_audit_chain(store_->audit()).value();
    EXPECT_TRUE(v.ok);
    EXPECT_EQ(v.entries, 0);
}

}  // namespace
}  // namespace sai::auth
