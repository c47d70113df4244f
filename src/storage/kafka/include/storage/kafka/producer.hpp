#pragma once
// A Kafka producer with per-request delivery: produce() hands a group of
// records to librdkafka and calls back once the broker has acknowledged every
// one of them (acks=all, idempotent producer), or as soon as one failed or
// timed out (message.timeout.ms). The in-flight queue is bounded
// (max_in_flight): a full queue fails the request instead of blocking.

#include "core/error.hpp"
#include "storage/kafka/options.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::storage::kafka {

struct Record {
    std::string key;  // empty: no key (any partition)
    std::string value;
};

struct ProducerStats {
    std::uint64_t produced = 0;           // messages the broker acknowledged
    std::uint64_t delivery_failures = 0;  // messages that failed or timed out
    std::uint64_t queue_full = 0;         // messages refused because max_in_flight was reached
    std::size_t in_flight = 0;            // messages waiting for their acknowledgement
};

/// Owned by the composition root (or a test). Thread-safe. Delivery callbacks
/// run on the producer's own poll thread, or inline when nothing was enqueued.
class KafkaProducer {
public:
    using Delivered = std::function<void(core::Result<void>)>;

    static core::Result<std::unique_ptr<KafkaProducer>> open(const KafkaOptions& options);
    ~KafkaProducer();  // waits up to message_timeout for in-flight messages
    KafkaProducer(const KafkaProducer&) = delete;
    KafkaProducer& operator=(const KafkaProducer&) = delete;

    /// `done` runs exactly once: ok when every record was acknowledged, else
    /// Unavailable (queue full, broker error, timeout) or InvalidArgument (a
    /// record larger than the broker accepts). On error some records may still
    /// have been written: consumers must be idempotent (records carry ids).
    void produce(std::string_view topic, std::vector<Record> records, Delivered done);
    /// Blocks until produce() reports.
    core::Result<void> produce_and_wait(std::string_view topic, std::vector<Record> records);
    /// Waits until nothing is in flight or `timeout` passed; true when empty.
    bool flush(std::chrono::milliseconds timeout);

    /// Asks the cluster for its metadata (at most `timeout`): Unavailable when no broker answers.
    core::Result<void> health(std::chrono::milliseconds timeout = std::chrono::milliseconds(1500)) const;
    ProducerStats stats() const;
    const KafkaOptions& options() const;

    struct Impl;

private:
    explicit KafkaProducer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::storage::kafka
