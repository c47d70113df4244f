#pragma once
// A consumer-group member reading raw events (JSON, one per message) and
// handing them in batches to a handler (the pipeline). Offsets are committed
// only after the handler reported that the batch is stored, in partition
// order: at-least-once delivery, duplicates are removed by the store's
// idempotency on event ids. Messages without an "id" get one derived from
// their partition and offset, so re-consumption keeps them idempotent too.
//
// Backpressure: when the handler refuses a batch (queue full), or too many
// batches wait for their commit, the consumer stops taking messages (the
// prefetch queue is bounded, so librdkafka stops fetching) and offers the batch
// again later; nothing is dropped. Before partitions are revoked
// (rebalance, stop) it waits for in-flight batches (drain_timeout) and
// commits what is stored; the rest is consumed again by the next owner.

#include "core/error.hpp"
#include "model/event.hpp"
#include "storage/kafka/options.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sai::storage::kafka {

struct ConsumerStats {
    std::uint64_t consumed = 0;   // messages read from the topic
    std::uint64_t committed = 0;  // messages whose offsets were committed after their store commit
    std::uint64_t rejected = 0;   // messages that are not a valid event (skipped, offset committed)
    std::uint64_t paused = 0;     // times the consumer stopped taking messages (backpressure)
    std::uint64_t redelivered_batches = 0;  // batches offered again after a failed store commit
    // Messages never received: the brokers deleted them (retention) before this group
    // consumed them, seen as a jump forward in a partition's offsets (an offset reset).
    std::uint64_t lost = 0;
    std::int64_t lag = -1;        // messages behind the end of the assigned partitions (-1: unknown)
    std::size_t assigned_partitions = 0;
    bool is_paused = false;
};

/// Decodes one message value: a JSON object mapped with model::event_from_json,
/// `timestamp_ms` as its ingest time. Without an id, the id is a UUIDv7 made of
/// the timestamp, partition and offset (stable across re-consumption).
core::Result<model::Event> decode_event(std::string_view value, std::int64_t timestamp_ms, std::int32_t partition,
                                        std::int64_t offset);

/// Owned by the composition root (or a test); one polling thread. stats() from any thread.
class EventConsumer {
public:
    using Committed = std::function<void(core::Result<void>)>;
    /// Runs on the consumer thread. Returns Unavailable to refuse the batch for now
    /// (it is offered again); otherwise calls `committed` exactly once, from any
    /// thread, after the store commit of the batch (or its failure: offered again).
    using Handler = std::function<core::Result<void>(std::vector<model::Event> events, Committed committed)>;

    static core::Result<std::unique_ptr<EventConsumer>> start(const KafkaOptions& options, Handler handler);
    ~EventConsumer();  // stop()
    EventConsumer(const EventConsumer&) = delete;
    EventConsumer& operator=(const EventConsumer&) = delete;

    /// Stops polling, waits up to drain_timeout for in-flight batches, commits the
    /// offsets of stored ones and leaves the group. Idempotent.
    void stop();
    ConsumerStats stats() const;

    struct Impl;

private:
    explicit EventConsumer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::storage::kafka
