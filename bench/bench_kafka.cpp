// Kafka produce and consume rates against librdkafka's mock cluster (3 brokers,
// loopback, in this process): producer with acks=all and idempotence, batches
// of 1,000 events acknowledged per batch (as one HTTP request is); consumer
// group reading the raw topic with offsets committed after each batch.

#include "core/ids.hpp"
#include "model/event.hpp"
#include "storage/kafka/consumer.hpp"
#include "storage/kafka/mock_cluster.hpp"
#include "storage/kafka/producer.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <thread>

namespace {
using namespace sai::storage::kafka;

std::vector<Record> records(std::size_t n) {
    std::vector<Record> out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        sai::model::Event e;
        e.id = sai::core::new_uuid_v7();
        e.timestamp = 1'700'000'000'000 + static_cast<std::int64_t>(i);
        e.ingested = e.timestamp;
        e.host_name = "host-" + std::to_string(i % 40);
        e.user_name = "alice";
        e.source_ip = "10.0." + std::to_string(i % 250) + ".7";
        e.message = "Failed password for alice from 10.0.0." + std::to_string(i % 250) + " port 2222 ssh2";
        out.push_back({e.host_name, sai::model::event_to_json_text(e)});
    }
    return out;
}

struct Cluster {
    std::unique_ptr<MockCluster> cluster;
    KafkaOptions options;
    Cluster() {
        cluster = std::move(MockCluster::create(3).value());
        (void)cluster->create_topic("bench", 4, 3);
        options.bootstrap_servers = cluster->bootstrap_servers();
        options.raw_topic = "bench";
        options.group_id = "bench";
        options.message_timeout = std::chrono::seconds(30);
    }
};

void BM_ProduceBatchAcked(benchmark::State& state) {
    Cluster c;
    auto producer = std::move(KafkaProducer::open(c.options).value());
    const auto batch = records(static_cast<std::size_t>(state.range(0)));
    // Connections, metadata and the producer id first: not part of the rate.
    (void)producer->produce_and_wait("bench", records(100));
    for (auto _ : state) {
        if (!producer->produce_and_wait("bench", batch)) {
            state.SkipWithError("produce failed");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ProduceBatchAcked)->Arg(1)->Arg(100)->Arg(1000)->Arg(10000)->MinTime(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// Timed from the first batch handed to the handler (after the group join) to the
// commit of the last offset.
void BM_ConsumeAndCommit(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    for (auto _ : state) {
        Cluster c;
        {
            auto producer = std::move(KafkaProducer::open(c.options).value());
            const auto batch = records(1000);
            for (std::size_t i = 0; i < n / 1000; ++i) {
                if (!producer->produce_and_wait("bench", batch)) {
                    state.SkipWithError("produce failed");
                    return;
                }
            }
        }
        std::atomic<std::int64_t> first_ns{0};
        auto consumer = std::move(
            EventConsumer::start(c.options, [&first_ns](std::vector<sai::model::Event>, EventConsumer::Committed done) {
                std::int64_t zero = 0;
                first_ns.compare_exchange_strong(
                    zero, std::chrono::steady_clock::now().time_since_epoch().count());
                done(sai::core::Result<void>{});
                return sai::core::Result<void>{};
            }).value());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
        while (consumer->stats().committed < n) {
            if (std::chrono::steady_clock::now() > deadline) {
                state.SkipWithError("not everything was consumed within 120 s");
                return;
            }
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        const auto end = std::chrono::steady_clock::now().time_since_epoch().count();
        state.SetIterationTime(static_cast<double>(end - first_ns.load()) / 1e9);
        consumer->stop();
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ConsumeAndCommit)->Arg(20'000)->Iterations(2)->Unit(benchmark::kMillisecond)->UseManualTime();

}  // namespace

BENCHMARK_MAIN();
