#include "pipeline/pipeline.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace sai::pipeline {
namespace {

model::Event event(std::string id) {
    model::Event e;
    e.id = std::move(id);
    e.timestamp = e.ingested = 1'795'000'000'000;
    e.message = "m " + e.id;
    e.category = "network";
    return e;
}

std::vector<model::Event> events(int from, int n) {
    std::vector<model::Event> out;
    for (int i = from; i < from + n; ++i) {
        out.push_back(event("e" + std::to_string(i)));
    }
    return out;
}

class Tagger final : public Stage {
public:
    std::string_view name() const override { return "tagger"; }
    void process(std::vector<model::Event>& batch) override {
        for (auto& e : batch) {
            e.labels["tagged"] = "yes";
        }
    }
};

class Broken final : public Stage {
public:
    std::string_view name() const override { return "broken"; }
    void process(std::vector<model::Event>&) override { throw std::runtime_error("stage bug"); }
};

class PipelineTest : public testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        store_ = storage::SqliteStore::open(o).value();
    }
    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
};

TEST_F(PipelineTest, AcknowledgedEventsAreCommittedAndStagesRan) {
    LiveHub hub;
    std::atomic<std::size_t> published{0};
    hub.subscribe([&](const Batch& b) { published += b->size(); });
    Pipeline p(store_->events(), {}, &hub);
    p.add_stage(std::make_unique<Tagger>());
    p.start();
    auto r = p.submit_and_wait(events(0, 100));
    ASSERT_TRUE(r) << r.error().detail;
    EXPECT_EQ(r->inserted, 100u);
    // Acknowledged means committed: readable right away.
    EXPECT_EQ(store_->events().count().value(), 100);
    EXPECT_EQ(store_->events().get("e42")->labels.at("tagged"), "yes");
    EXPECT_EQ(published, 100u);
    auto dup = p.submit_and_wait(events(0, 10));
    EXPECT_EQ(dup->duplicates, 10u);
    p.stop();
    auto s = p.stats();
    EXPECT_EQ(s.committed, 100u);
    EXPECT_EQ(s.duplicates, 10u);
    EXPECT_GT(s.rate.per_second_1m, 0.0);
    EXPECT_EQ(s.per_minute.size(), 60u);
    EXPECT_EQ(s.per_minute.back().second, 100u);
}

TEST_F(PipelineTest, ManyProducersAreGroupCommitted) {
    Pipeline p(store_->events(), {.queue_capacity = 100'000, .max_batch = 1000});
    p.start();
    std::vector<std::thread> producers;
    std::atomic<int> acked{0};
    for (int t = 0; t < 8; ++t) {
        producers.emplace_back([&, t] {
            for (int i = 0; i < 50; ++i) {
                if (p.submit_and_wait(events(t * 1000 + i * 10, 10))) {
                    ++acked;
                }
            }
        });
    }
    for (auto& t : producers) {
        t.join();
    }
    p.stop();
    EXPECT_EQ(acked, 400);
    EXPECT_EQ(store_->events().count().value(), 4000);
    EXPECT_LT(p.stats().batches, 400u) << "submissions share transactions";
}

TEST_F(PipelineTest, FullQueueRefusesAndCountsDrops) {
    Pipeline p(store_->events(), {.queue_capacity = 10, .max_batch = 10});
    // Not started: the queue only fills.
    EXPECT_FALSE(p.submit(events(0, 5), {}));  // refused: not running
    p.start();
    p.stop();
    Pipeline q(store_->events(), {.queue_capacity = 10, .max_batch = 10});
    q.start();
    std::atomic<int> refused{0};
    for (int i = 0; i < 200; ++i) {
        if (!q.submit(events(i * 8, 8), {})) {
            ++refused;
        }
    }
    q.stop();
    EXPECT_GT(refused, 0);
    EXPECT_EQ(q.stats().dropped, static_cast<std::uint64_t>(refused) * 8);
}

TEST_F(PipelineTest, BrokenStageDoesNotLoseEvents) {
    Pipeline p(store_->events(), {});
    p.add_stage(std::make_unique<Broken>());
    p.start();
    ASSERT_TRUE(p.submit_and_wait(events(0, 3)));
    p.stop();
    EXPECT_EQ(store_->events().count().value(), 3);
    EXPECT_EQ(p.stats().stage_errors, 1u);
}

TEST_F(PipelineTest, StopDrainsTheQueue) {
    Pipeline p(store_->events(), {});
    p.start();
    std::atomic<int> acks{0};
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(p.submit(events(i * 10, 10), [&](auto r) { acks += r ? 1 : 0; }));
    }
    p.stop();
    EXPECT_EQ(acks, 50);
    EXPECT_EQ(store_->events().count().value(), 500);
}

}  // namespace
}  // namespace sai::pipeline

namespace sai::pipeline {
namespace {

/// Records what batch_origin() says for every event it sees, before and after the commit.
class OriginProbe final : public Stage {
public:
    std::vector<std::string> seen, after;
    std::string_view name() const override { return "origin-probe"; }
    void process(std::vector<model::Event>& batch) override {
        for (std::size_t i = 0; i < batch.size(); ++i) seen.emplace_back(batch_origin(i));
    }
    void committed(const std::vector<model::Event>& batch) override {
        for (std::size_t i = 0; i < batch.size(); ++i) after.emplace_back(batch_origin(i));
    }
};

TEST(PipelineOriginTest, StagesSeeWhereEachEventCameFrom) {
    testkit::TempDir dir;
    storage::SqliteOptions o;
    o.data_dir = dir.path();
    o.synchronous = "normal";
    auto store = storage::SqliteStore::open(o).value();
    Pipeline p(store->events(), {});
    auto probe = std::make_unique<OriginProbe>();
    auto* seen = probe.get();
    p.add_stage(std::move(probe));
    p.start();
    std::vector<model::Event> a(2), b(1);
    a[0].id = "a0";
    a[1].id = "a1";
    b[0].id = "b0";
    ASSERT_TRUE(p.submit_and_wait(std::move(a), "request-1"));
    ASSERT_TRUE(p.submit_and_wait(std::move(b)));
    p.stop();
    EXPECT_EQ(seen->seen, (std::vector<std::string>{"request-1", "request-1", ""}));
    EXPECT_EQ(seen->after, seen->seen);
    EXPECT_EQ(batch_origin(0), "");  // outside a batch
}

}  // namespace
}  // namespace sai::pipeline
