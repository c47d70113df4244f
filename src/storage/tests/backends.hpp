#pragma once
// The storage contract suites run against every backend: each fixture is
// value-parameterised by the backend's name and opens a fresh store through
// open_backend() (SQLite: a new data directory; PostgreSQL: a new database on
// the test process's own server, see testkit/postgres_server.hpp).

#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/postgres_server.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace sai::storage::testing_backends {

inline const auto kBackends = ::testing::Values(std::string("sqlite"), std::string("postgres"));

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

/// A fresh store of `backend`; nullptr with `why` set when it cannot be had.
inline std::unique_ptr<Store> open_backend(const std::string& backend, const testkit::TempDir& dir, std::string& why) {
    if (backend == "sqlite") {
        SqliteOptions o;
        o.data_dir = dir.path() / "data";
        o.synchronous = "normal";
        auto s = SqliteStore::open(o);
        if (!s) {
            why = s.error().detail;
            return nullptr;
        }
        return std::move(*s);
    }
    auto* server = testkit::PostgresServer::shared();
    if (!server) {
        why = "skipped: " + testkit::PostgresServer::unavailable_reason();
        return nullptr;
    }
    PgOptions o;
    o.url = server->create_database();
    if (o.url.empty()) {
        why = "createdb failed";
        return nullptr;
    }
    o.pool_size = 4;
    auto s = PgStore::open(o);
    if (!s) {
        why = s.error().detail;
        return nullptr;
    }
    return std::move(*s);
}

}  // namespace sai::storage::testing_backends

/// Opens store_ for GetParam(); skips when PostgreSQL is not installed.
#define SAI_OPEN_BACKEND()                                                                        \
    do {                                                                                          \
        std::string why_;                                                                         \
        store_ = ::sai::storage::testing_backends::open_backend(GetParam(), dir_, why_);          \
        if (!store_ && why_.starts_with("skipped")) GTEST_SKIP() << why_;                         \
        ASSERT_TRUE(store_) << why_;                                                              \
    } while (0)
