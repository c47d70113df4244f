// Redis scale-out costs against a real redis-server on loopback (started here):
// one shared rate-limiter take() (the Lua script), the memory limiter for
// comparison, and the pub/sub relay latency from one node's bus to another's.

#include "model/event.hpp"
#include "storage/redis/redis_bus.hpp"
#include "storage/redis/redis_client.hpp"
#include "storage/redis/redis_rate_limiter.hpp"
#include "testkit/redis_server.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using namespace sai;
using Steady = std::chrono::steady_clock;

testkit::RedisServer& server() {
    static testkit::RedisServer s;
    return s;
}

storage::redis::RedisOptions options() { return *storage::redis::parse_redis_url(server().url()); }

void BM_RedisLimiterTake(benchmark::State& state) {
    static storage::redis::RedisClient* client = nullptr;
    static std::unique_ptr<auth::RateLimiter> limiter;
    if (state.thread_index() == 0) {
        client = new storage::redis::RedisClient(options());
        limiter = storage::redis::make_redis_rate_limiter(*client, auth::make_memory_rate_limiter());
    }
    const std::string key = "user:bench" + std::to_string(state.thread_index()) + "|api";
    for (auto _ : state) {
        benchmark::DoNotOptimize(limiter->take(key, 1'000'000, Steady::now()));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RedisLimiterTake)->ThreadRange(1, 8)->UseRealTime();

void BM_MemoryLimiterTake(benchmark::State& state) {
    auto limiter = auth::make_memory_rate_limiter();
    for (auto _ : state) {
        benchmark::DoNotOptimize(limiter->take("user:bench|api", 1'000'000, Steady::now()));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MemoryLimiterTake);

/// One message from node a's bus to node b's handler, one at a time (latency).
void BM_PubSubRelay(benchmark::State& state) {
    storage::redis::RedisClient ca(options()), cb(options());
    storage::redis::RedisBus a(ca, "bench-a"), b(cb, "bench-b");
    std::mutex mutex;
    std::condition_variable cv;
    std::uint64_t received = 0;
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    b.subscribe("bench", [&](std::string_view) {
        std::lock_guard lock(mutex);
        ++received;
        cv.notify_one();
    });
    a.start();
    b.start();
    while (!b.subscribed()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::uint64_t sent = 0;
    for (auto _ : state) {
        a.publish("bench", payload);
        ++sent;
        std::unique_lock lock(mutex);
        if (!cv.wait_for(lock, std::chrono::seconds(5), [&] { return received >= sent; })) {
            state.SkipWithError("message lost");
            break;
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * state.range(0));
    a.stop();  // before the handler's state goes
    b.stop();
}
BENCHMARK(BM_PubSubRelay)->Arg(200)->Arg(64 * 1024)->UseRealTime();

/// What the pipeline thread pays per committed batch to publish it (the serialising
/// the relay adds; PUBLISH itself runs on the bus's thread): 2,000 typical events.
void BM_SerializeBatchForRelay(benchmark::State& state) {
    std::vector<model::Event> batch;
    for (int i = 0; i < 2000; ++i) {
        auto v = boost::json::parse(R"({"event_type":"login","source_ip":"10.0.)" + std::to_string(i % 256) +
                                    R"(.7","user":"alice","host":"host-)" + std::to_string(i % 40) +
                                    R"(","severity":"high","event.category":"authentication","event.outcome":"failure",)"
                                    R"("message":"Failed password for root from 10.0.0.1 port )" + std::to_string(1024 + i) +
                                    R"( ssh2"})");
        batch.push_back(*model::event_from_json(v.as_object(), 1'700'000'000'000));
    }
    for (auto _ : state) {
        for (std::size_t from = 0; from < batch.size(); from += 500) {
            boost::json::array events;
            for (std::size_t i = from; i < from + 500; ++i) events.push_back(model::event_to_json(batch[i]));
            benchmark::DoNotOptimize(boost::json::serialize(boost::json::object{{"events", std::move(events)}}));
        }
    }
    state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch.size()));
}
BENCHMARK(BM_SerializeBatchForRelay);

}  // namespace

BENCHMARK_MAIN();
