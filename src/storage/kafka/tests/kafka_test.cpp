// Against librdkafka's mock cluster (3 brokers, real protocol over loopback).

#include "core/ids.hpp"
#include "model/event.hpp"
#include "storage/kafka/consumer.hpp"
#include "storage/kafka/mock_cluster.hpp"
#include "storage/kafka/producer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace sai::storage::kafka {
namespace {

using namespace std::chrono_literals;

constexpr auto kDeadline = 60s;  // generous: a loaded 2-core machine

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds limit = kDeadline) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(20ms);
    }
    return done();
}

struct Fixture {
    std::unique_ptr<MockCluster> cluster;
    KafkaOptions options;

    Fixture() {
        auto c = MockCluster::create(3);
        EXPECT_TRUE(c) << c.error().detail;
        cluster = std::move(*c);
        EXPECT_TRUE(cluster->create_topic("events", 4, 3));
        options.bootstrap_servers = cluster->bootstrap_servers();
        options.raw_topic = "events";
        options.group_id = "test-group";
        options.message_timeout = 30s;
        options.reconnect_backoff_max = 500ms;
        options.session_timeout = 6s;
        options.drain_timeout = 2s;
        options.consumer_max_batch = 100;
    }
};

std::vector<model::Event> make_events(std::size_t n, std::string_view prefix = "host") {
    std::vector<model::Event> out;
    for (std::size_t i = 0; i < n; ++i) {
        model::Event e;
        e.id = core::new_uuid_v7();
        e.host_name = std::string(prefix) + "-" + std::to_string(i % 7);
        e.message = "event " + std::to_string(i);
        e.timestamp = 1'700'000'000'000 + static_cast<std::int64_t>(i);
        e.ingested = e.timestamp;
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<Record> to_records(const std::vector<model::Event>& events) {
    std::vector<Record> out;
    for (const auto& e : events) {
        out.push_back({e.host_name, model::event_to_json_text(e)});
    }
    return out;
}

std::set<std::string> ids_of(const std::vector<model::Event>& events) {
    std::set<std::string> out;
    for (const auto& e : events) {
        out.insert(e.id);
    }
    return out;
}

/// A consumer handler that "stores" every batch at once (like the pipeline would).
struct Collector {
    std::mutex mutex;
    std::set<std::string> ids;
    std::vector<std::string> messages;
    std::size_t received = 0;

    EventConsumer::Handler handler() {
        return [this](std::vector<model::Event> events, EventConsumer::Committed committed) {
            {
                std::lock_guard lock(mutex);
                for (auto& e : events) {
                    ids.insert(e.id);
                    messages.push_back(e.message);
                    ++received;
                }
            }
            committed(core::Result<void>{});
            return core::Result<void>{};
        };
    }
    std::size_t unique() {
        std::lock_guard lock(mutex);
        return ids.size();
    }
    std::set<std::string> snapshot() {
        std::lock_guard lock(mutex);
        return ids;
    }
};

TEST(KafkaTest, DecodeKeepsIdsAndDerivesStableOnes) {
    auto with_id = decode_event(R"({"id":"abc-1","message":"hi","host":{"name":"h"}})", 1'700'000'000'000, 0, 5);
    ASSERT_TRUE(with_id);
    EXPECT_EQ(with_id->id, "abc-1");
    EXPECT_EQ(with_id->host_name, "h");
    auto a = decode_event(R"({"message":"no id"})", 1'700'000'000'000, 3, 42);
    auto b = decode_event(R"({"message":"no id"})", 1'700'000'000'000, 3, 42);
    auto c = decode_event(R"({"message":"no id"})", 1'700'000'000'000, 3, 43);
    ASSERT_TRUE(a && b && c);
    EXPECT_TRUE(core::is_uuid(a->id)) << a->id;
    EXPECT_EQ(a->id, b->id);
    EXPECT_NE(a->id, c->id);
    EXPECT_FALSE(decode_event("not json", 1, 0, 0));
    EXPECT_FALSE(decode_event("[1,2]", 1, 0, 0));
    EXPECT_FALSE(decode_event(R"({"@timestamp":"yesterday"})", 1, 0, 0));
}

TEST(KafkaTest, ProduceConsumeCommitRoundTrip) {
    Fixture f;
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer) << producer.error().detail;
    ASSERT_TRUE((*producer)->health());
    const auto events = make_events(1000);
    auto sent = (*producer)->produce_and_wait("events", to_records(events));
    ASSERT_TRUE(sent) << sent.error().detail;
    EXPECT_EQ((*producer)->stats().produced, 1000u);

    Collector first;
    {
        auto consumer = EventConsumer::start(f.options, first.handler());
        ASSERT_TRUE(consumer) << consumer.error().detail;
        ASSERT_TRUE(wait_until([&] { return first.unique() == 1000; })) << first.unique();
        ASSERT_TRUE(wait_until([&] { return (*consumer)->stats().committed == 1000; }));
        EXPECT_EQ((*consumer)->stats().consumed, 1000u);
        (*consumer)->stop();
    }
    EXPECT_EQ(first.snapshot(), ids_of(events));

    // Everything was committed: a new member of the group only sees what comes next.
    Collector second;
    auto consumer = EventConsumer::start(f.options, second.handler());
    ASSERT_TRUE(consumer);
    const auto marker = make_events(1, "marker");
    ASSERT_TRUE((*producer)->produce_and_wait("events", to_records(marker)));
    ASSERT_TRUE(wait_until([&] { return second.unique() >= 1; }));
    EXPECT_EQ(second.snapshot(), ids_of(marker));
}

TEST(KafkaTest, BrokerDownDuringProductionLosesNothing) {
    Fixture f;
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer);
    std::vector<model::Event> all;
    std::atomic<int> ok{0};
    std::atomic<int> failed{0};
    constexpr int kBatches = 20;
    for (int i = 0; i < kBatches; ++i) {
        if (i == 5) {
            ASSERT_TRUE(f.cluster->set_broker_down(1));
        }
        if (i == 15) {
            ASSERT_TRUE(f.cluster->set_broker_up(1));
        }
        auto batch = make_events(200);
        all.insert(all.end(), batch.begin(), batch.end());
        (*producer)->produce("events", to_records(batch), [&](core::Result<void> r) { (r ? ok : failed)++; });
        std::this_thread::sleep_for(100ms);  // spread production over the outage
    }
    ASSERT_TRUE(wait_until([&] { return ok + failed == kBatches; }));
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ((*producer)->stats().delivery_failures, 0u);

    Collector collector;
    auto consumer = EventConsumer::start(f.options, collector.handler());
    ASSERT_TRUE(consumer);
    ASSERT_TRUE(wait_until([&] { return collector.unique() == all.size(); })) << collector.unique();
    EXPECT_EQ(collector.snapshot(), ids_of(all));
}

TEST(KafkaTest, ProduceFailsWhenNoBrokerAnswersAndHealthSaysSo) {
    Fixture f;
    f.options.message_timeout = 2s;
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer);
    ASSERT_TRUE((*producer)->produce_and_wait("events", to_records(make_events(10))));
    for (int b = 1; b <= 3; ++b) {
        ASSERT_TRUE(f.cluster->set_broker_down(b));
    }
    auto r = (*producer)->produce_and_wait("events", to_records(make_events(10)));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Errc::Unavailable);
    EXPECT_GE((*producer)->stats().delivery_failures, 1u);
    EXPECT_FALSE((*producer)->health(500ms));
    for (int b = 1; b <= 3; ++b) {
        ASSERT_TRUE(f.cluster->set_broker_up(b));
    }
    EXPECT_TRUE(wait_until([&] { return static_cast<bool>((*producer)->health(500ms)); }));
    EXPECT_TRUE((*producer)->produce_and_wait("events", to_records(make_events(10))));
}

TEST(KafkaTest, ConsumerRestartWithoutCommitGetsUncommittedEventsAgain) {
    Fixture f;
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer);
    const auto events = make_events(1000);
    ASSERT_TRUE((*producer)->produce_and_wait("events", to_records(events)));

    // The first member stores its first batches, then "crashes": later batches are
    // never reported stored, so their offsets must not be committed.
    std::mutex mutex;
    std::set<std::string> stored;
    std::set<std::string> held;
    std::vector<EventConsumer::Committed> never_called;
    {
        auto consumer = EventConsumer::start(f.options, [&](std::vector<model::Event> batch, auto committed) {
            std::lock_guard lock(mutex);
            const bool store = stored.size() < 300;
            for (auto& e : batch) {
                (store ? stored : held).insert(e.id);
            }
            if (store) {
                committed(core::Result<void>{});
            } else {
                never_called.push_back(std::move(committed));
            }
            return core::Result<void>{};
        });
        ASSERT_TRUE(consumer);
        ASSERT_TRUE(wait_until([&] {
            std::lock_guard lock(mutex);
            return !held.empty();
        }));
        (*consumer)->stop();
    }
    ASSERT_GE(stored.size(), 300u);

    Collector second;
    auto consumer = EventConsumer::start(f.options, second.handler());
    ASSERT_TRUE(consumer);
    ASSERT_TRUE(wait_until([&] { return stored.size() + second.unique() >= events.size(); }));
    const auto again = second.snapshot();
    for (const auto& id : held) {
        EXPECT_TRUE(again.count(id)) << "uncommitted event not redelivered: " << id;
    }
    std::set<std::string> all = stored;
    all.insert(again.begin(), again.end());
    EXPECT_EQ(all, ids_of(events));
    // Stored batches were committed before the first member left.
    for (const auto& id : stored) {
        EXPECT_FALSE(again.count(id)) << "committed event consumed again: " << id;
    }
}

TEST(KafkaTest, FullPipelinePausesAndFailedStoreIsRetriedWithoutLoss) {
    Fixture f;
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer);
    const auto events = make_events(600);
    ASSERT_TRUE((*producer)->produce_and_wait("events", to_records(events)));

    std::mutex mutex;
    std::set<std::string> stored;
    int calls = 0;
    auto consumer = EventConsumer::start(f.options, [&](std::vector<model::Event> batch, auto committed) {
        std::lock_guard lock(mutex);
        ++calls;
        if (calls <= 20) {
            return core::Result<void>(core::make_error(core::Errc::Unavailable, "queue full"));
        }
        if (calls == 21) {
            committed(core::make_error(core::Errc::Unavailable, "store down"));
            return core::Result<void>{};
        }
        for (auto& e : batch) {
            stored.insert(e.id);
        }
        committed(core::Result<void>{});
        return core::Result<void>{};
    });
    ASSERT_TRUE(consumer);
    ASSERT_TRUE(wait_until([&] {
        std::lock_guard lock(mutex);
        return stored.size() == events.size();
    }));
    EXPECT_EQ(stored, ids_of(events));
    const auto s = (*consumer)->stats();
    EXPECT_GE(s.paused, 1u);
    EXPECT_GE(s.redelivered_batches, 1u);
    EXPECT_TRUE(wait_until([&] { return (*consumer)->stats().committed == events.size(); }));
}

TEST(KafkaTest, InvalidMessagesAreSkippedAndCommitted) {
    Fixture f;
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer);
    std::vector<Record> records{{"h", "not json"}, {"h", R"({"message":"valid one"})"}};
    ASSERT_TRUE((*producer)->produce_and_wait("events", records));
    Collector collector;
    auto consumer = EventConsumer::start(f.options, collector.handler());
    ASSERT_TRUE(consumer);
    ASSERT_TRUE(wait_until([&] { return collector.unique() == 1; }));
    EXPECT_TRUE(wait_until([&] { return (*consumer)->stats().committed == 2; }));
    EXPECT_EQ((*consumer)->stats().rejected, 1u);
}

// The end-to-end benchmark's "stall": the mock cluster keeps 5 MiB per partition
// (librdkafka's rdkafka_mock.c) and deletes older messages, like retention.bytes on a
// real broker. A group behind the log start is reset to it by librdkafka
// (auto.offset.reset=earliest) with only a log line: the consumer must count what it
// never received.
TEST(KafkaTest, MessagesDeletedBeforeConsumptionAreCountedAsLost) {
    Fixture f;
    ASSERT_TRUE(f.cluster->create_topic("small", 1, 3));
    f.options.raw_topic = "small";
    auto producer = KafkaProducer::open(f.options);
    ASSERT_TRUE(producer);
    const auto first = make_events(100);
    ASSERT_TRUE((*producer)->produce_and_wait("small", to_records(first)));
    {
        Collector collector;
        auto consumer = EventConsumer::start(f.options, collector.handler());
        ASSERT_TRUE(consumer);
        ASSERT_TRUE(wait_until([&] { return (*consumer)->stats().committed == first.size(); }));
        EXPECT_EQ((*consumer)->stats().lost, 0u);
        (*consumer)->stop();
    }
    // 8 MiB more while no member runs: the committed offset (100) falls off the log.
    auto big = make_events(200, "big");
    for (auto& e : big) {
        e.message.append(40 * 1024, 'x');  // below model::kMaxMessageBytes
    }
    for (std::size_t i = 0; i < big.size(); i += 20) {
        std::vector<model::Event> part(big.begin() + static_cast<std::ptrdiff_t>(i),
                                       big.begin() + static_cast<std::ptrdiff_t>(i + 20));
        ASSERT_TRUE((*producer)->produce_and_wait("small", to_records(part)));
    }
    Collector collector;
    auto consumer = EventConsumer::start(f.options, collector.handler());
    ASSERT_TRUE(consumer);
    // Everything still on the broker arrives; what is not is counted, exactly.
    ASSERT_TRUE(wait_until([&] {
        const auto s = (*consumer)->stats();
        return s.lost > 0 && s.lost + collector.unique() == big.size();
    })) << "lost " << (*consumer)->stats().lost << ", received " << collector.unique() << ", rejected "
         << (*consumer)->stats().rejected;
    const auto s = (*consumer)->stats();
    EXPECT_LT(s.lost, big.size());
    EXPECT_EQ(s.consumed, collector.unique());
}

}  // namespace
}  // namespace sai::storage::kafka
