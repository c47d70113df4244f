#include "backends.hpp"

#include "model/event.hpp"
#include "testkit/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <optional>

namespace sai::storage {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;

model::Event event(std::string_view json) {
    return model::event_from_json(boost::json::parse(json).as_object(), kNow).value();
}

class EventStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SAI_OPEN_BACKEND();
        std::vector<model::Event> batch;
        for (int i = 0; i < 10; ++i) {
            batch.push_back(event(R"({"id": "e)" + std::to_string(i) + R"(", "@timestamp": )" +
                                  std::to_string(kNow - 10'000 + i * 1000) +
                                  R"(, "host.name": ")" + (i % 2 ? "web-1" : "db-1") + R"(", "user.name": "u)" +
                                  std::to_string(i % 3) + R"(", "source.ip": "10.0.)" + std::to_string(i) +
                                  R"(.1", "destination.ip": "192.168.1.)" + std::to_string(i) +
                                  R"(", "event.category": ")" + (i < 5 ? "authentication" : "network") +
                                  R"(", "event.outcome": ")" + (i % 4 == 0 ? "failure" : "success") +
                                  R"(", "event.severity": )" + std::to_string(i % 5) +
                                  R"(, "message": "Failed password for user)" + std::to_string(i) +
                                  R"( from host", "ml": {"anomaly_score": )" + std::to_string(i / 10.0) + "}}"));
        }
        auto r = store_->events().insert_batch(batch);
        ASSERT_TRUE(r) << r.error().detail;
        ASSERT_EQ(r->inserted, 10u);
    }

    std::vector<std::string> ids(const EventQuery& q) {
        auto rows = store_->events().query(q);
        EXPECT_TRUE(rows) << rows.error().detail;
        std::vector<std::string> out;
        for (const auto& e : rows.value()) {
            out.push_back(e.id);
        }
        return out;
    }

    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(EventStoreTest, InsertIsIdempotentById) {
    auto again = store_->events().insert_batch(std::vector<model::Event>{event(R"({"id": "e3", "message": "x"})"),
                                                                         event(R"({"id": "new", "message": "y"})")});
    ASSERT_TRUE(again);
    EXPECT_EQ(again->inserted, 1u);
    EXPECT_EQ(again->duplicates, 1u);
    EXPECT_EQ(store_->events().count().value(), 11);
    EXPECT_EQ(store_->events().get("e3")->message, "Failed password for user3 from host");
}

TEST_P(EventStoreTest, NewestFirstWithKeysetCursor) {
    EXPECT_EQ(ids({.limit = 3}), (std::vector<std::string>{"e9", "e8", "e7"}));
    auto page = store_->events().query({.limit = 3}).value();
    EventQuery next{.before = std::pair{page.back().timestamp, page.back().id}, .limit = 3};
    EXPECT_EQ(ids(next), (std::vector<std::string>{"e6", "e5", "e4"}));
}

TEST_P(EventStoreTest, EveryFilter) {
    EXPECT_EQ(ids({.host = "web-1"}).size(), 5u);
    EXPECT_EQ(ids({.user = "u0"}), (std::vector<std::string>{"e9", "e6", "e3", "e0"}));
    EXPECT_EQ(ids({.category = "network"}).size(), 5u);
    EXPECT_EQ(ids({.outcome = "failure"}), (std::vector<std::string>{"e8", "e4", "e0"}));
    EXPECT_EQ(ids({.severity_min = 4}), (std::vector<std::string>{"e9", "e4"}));
    EXPECT_EQ(ids({.anomaly_min = 0.75}), (std::vector<std::string>{"e9", "e8"}));
    EXPECT_EQ(ids({.from_ms = kNow - 3000, .to_ms = kNow - 1000}), (std::vector<std::string>{"e8", "e7"}));
    EXPECT_EQ(ids({.source_range = model::cidr_range("10.0.3.0/24")}), (std::vector<std::string>{"e3"}));
    EXPECT_EQ(ids({.source_range = model::cidr_range("10.0.0.0/16")}).size(), 10u);
    EXPECT_EQ(ids({.destination_range = model::cidr_range("192.168.1.7")}), (std::vector<std::string>{"e7"}));
    EXPECT_TRUE(ids({.host = "nowhere"}).empty());
}

TEST_P(EventStoreTest, FullTextSearchMatchesAllWords) {
    EXPECT_EQ(ids({.text = "user7"}), (std::vector<std::string>{"e7"}));
    EXPECT_EQ(ids({.text = "failed password"}).size(), 10u);
    EXPECT_TRUE(ids({.text = "password banana"}).empty());
    // FTS5 syntax in user input is just text, never an error.
    EXPECT_TRUE(ids({.text = "\"unbalanced OR NEAR( * -"}).empty());
    EXPECT_EQ(ids({.host = "web-1", .text = "user7"}), (std::vector<std::string>{"e7"}));
}

TEST_P(EventStoreTest, CountsAndRetention) {
    auto counts = store_->events().count_by_category().value();
    EXPECT_EQ(counts["authentication"], 5);
    EXPECT_EQ(counts["network"], 5);
    EXPECT_EQ(store_->events().delete_before(kNow - 7000, 2).value(), 2u);  // batches
    EXPECT_EQ(store_->events().delete_before(kNow - 7000, 100).value(), 1u);
    EXPECT_EQ(store_->events().count().value(), 7);
    EXPECT_EQ(store_->events().count_by_category().value()["authentication"], 2);
    EXPECT_TRUE(ids({.text = "user1"}).empty()) << "deleted events leave the full-text index";
    EXPECT_EQ(store_->events().get("e0").error().code, core::Errc::NotFound);
}

// Enough events that the backends' query plans for address blocks and full
// text with filters take their other branches (more events of the block than a
// first guess, text rare among thousands of filtered events); every answer
// must still be the exact newest matches, checked against a plain scan.
class EventStorePlansTest : public ::testing::TestWithParam<std::string> {
protected:
    struct Row {
        std::int64_t ts;
        std::string id, host;
        int net;
        bool needle, common;
    };

    void SetUp() override {
        SAI_OPEN_BACKEND();
        constexpr int kRows = 6000;
        std::vector<model::Event> batch;
        for (int i = 0; i < kRows; ++i) {
            char id[16];
            std::snprintf(id, sizeof id, "p%05d", i);
            // Pairs of events share a time. Stored in time order, as events mostly
            // arrive: full-text results are the newest among the newest stored.
            Row row{kNow - 1'000'000 + i / 2 * 100, id, i % 500 == 0 ? "quiet" : "busy", i % 200,
                    i == 10 || i == 20 || i == 30, i % 3 == 0};
            batch.push_back(event(R"({"id": ")" + row.id + R"(", "@timestamp": )" + std::to_string(row.ts) +
                                  R"(, "host.name": ")" + row.host + R"(", "source.ip": "10.)" +
                                  std::to_string(row.net) + "." + std::to_string(i % 250) + R"(.1", "destination.ip": "172.)" +
                                  std::to_string(16 + i % 16) + R"(.0.9", "message": "event )" + row.id +
                                  (row.needle ? " needle" : "") + (row.common ? " common" : "") + R"("})"));
            rows_.push_back(std::move(row));
            if (batch.size() == 1000) {
                ASSERT_TRUE(store_->events().insert_batch(batch));
                batch.clear();
            }
        }
    }

    /// The newest `limit` stored rows passing `keep`, by (time, id), after `before`.
    template <class F>
    std::vector<std::string> expected(F keep, std::size_t limit, std::optional<std::pair<std::int64_t, std::string>> before = {}) {
        std::vector<const Row*> hits;
        for (const auto& r : rows_) {
            if (keep(r) && (!before || r.ts < before->first || (r.ts == before->first && r.id < before->second))) {
                hits.push_back(&r);
            }
        }
        std::sort(hits.begin(), hits.end(), [](const Row* a, const Row* b) {
            return a->ts != b->ts ? a->ts > b->ts : a->id > b->id;
        });
        std::vector<std::string> out;
        for (std::size_t i = 0; i < std::min(limit, hits.size()); ++i) out.push_back(hits[i]->id);
        return out;
    }

    std::vector<std::string> ids(const EventQuery& q) {
        auto found = store_->events().query(q);
        EXPECT_TRUE(found) << found.error().detail;
        std::vector<std::string> out;
        for (const auto& e : found.value()) out.push_back(e.id);
        return out;
    }

    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
    std::vector<Row> rows_;
};

TEST_P(EventStorePlansTest, BroadBlockWithARareFilterIsExact) {
    const auto block = model::cidr_range("10.0.0.0/8");
    EXPECT_EQ(ids({.host = "quiet", .source_range = block, .limit = 5}),
              expected([](const Row& r) { return r.host == "quiet"; }, 5));
    EXPECT_EQ(ids({.host = "quiet", .source_range = block, .limit = 50}),
              expected([](const Row& r) { return r.host == "quiet"; }, 50));
}

TEST_P(EventStorePlansTest, BroadBlockPagesAreExact) {
    EventQuery q{.destination_range = model::cidr_range("172.16.0.0/12"), .limit = 7};
    for (int page = 0; page < 3; ++page) {
        const auto want = expected([](const Row&) { return true; }, 7, q.before);
        const auto got = store_->events().query(q).value();
        ASSERT_EQ(got.size(), 7u);
        std::vector<std::string> got_ids;
        for (const auto& e : got) got_ids.push_back(e.id);
        EXPECT_EQ(got_ids, want) << "page " << page;
        q.before = std::pair{got.back().timestamp, got.back().id};
    }
}

TEST_P(EventStorePlansTest, TextWithFiltersIsExact) {
    // Common among the filtered events: found among the newest candidates.
    EXPECT_EQ(ids({.host = "busy", .text = "common", .limit = 5}),
              expected([](const Row& r) { return r.host == "busy" && r.common; }, 5));
    EXPECT_EQ(ids({.source_range = model::cidr_range("10.0.0.0/8"), .text = "common", .limit = 5}),
              expected([](const Row& r) { return r.common; }, 5));
    // Rare among thousands of filtered events: every match, newest first.
    EXPECT_EQ(ids({.host = "busy", .text = "needle", .limit = 5}),
              expected([](const Row& r) { return r.host == "busy" && r.needle; }, 5));
    EXPECT_EQ(ids({.text = "needle common", .limit = 5}),
              expected([](const Row& r) { return r.needle && r.common; }, 5));
}

INSTANTIATE_TEST_SUITE_P(Backends, EventStorePlansTest, testing_backends::kBackends, testing_backends::backend_name);

INSTANTIATE_TEST_SUITE_P(Backends, EventStoreTest, testing_backends::kBackends, testing_backends::backend_name);

}  // namespace
}  // namespace sai::storage
