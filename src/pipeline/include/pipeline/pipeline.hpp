#pragma once
// The ingestion pipeline: sources push events into one bounded queue; one batch
// worker takes what has accumulated (up to max_batch events), runs every stage
// on the batch, commits it to the event store in one transaction (group
// commit), then publishes the batch to the live hub and acknowledges the producers.
//
// Durability: an acknowledgement (Ack) is only ever called after the commit.
// Backpressure: submit() refuses (Unavailable) when the queue is full; callers
// answer 503/Retry-After (HTTP), count a drop (UDP) or wait (TCP, files).

#include "core/error.hpp"
#include "model/event.hpp"
#include "storage/event_store.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sai::pipeline {

/// One processing step run on every batch before it is committed (parsing,
/// enrichment, scoring, detection...). Runs on the pipeline thread only.
class Stage {
public:
    virtual ~Stage() = default;
    virtual std::string_view name() const = 0;
    /// May modify events in place. Exceptions are caught, counted and logged; the
    /// batch is still committed (a broken enrichment must not lose events).
    virtual void process(std::vector<model::Event>& batch) = 0;
    /// After the batch is committed (with the events as stored), before producers
    /// are acknowledged: where stages hand on what refers to stored events
    /// (detections to the alert manager). Exceptions are caught and counted.
    virtual void committed(const std::vector<model::Event>& batch) { (void)batch; }
};

using Batch = std::shared_ptr<const std::vector<model::Event>>;

/// The origin (see Pipeline::submit) of the event at `index` of the batch being
/// processed; empty when unknown. Only meaningful on the pipeline thread, inside
/// Stage::process() and Stage::committed().
std::string_view batch_origin(std::size_t index);

/// Fan-out of committed batches to live subscribers (WebSocket sessions).
/// Subscribers must return quickly: they run on the pipeline thread.
class LiveHub {
public:
    using Subscriber = std::function<void(const Batch&)>;
    LiveHub();
    ~LiveHub();
    std::uint64_t subscribe(Subscriber subscriber);
    void unsubscribe(std::uint64_t id);
    void publish(const Batch& batch);
    std::size_t subscribers() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct PipelineOptions {
    std::size_t queue_capacity = 200'000;  // events waiting, at most
    // Events per transaction (a larger submission is one batch). Only what has
    // accumulated is taken, so a larger cap costs no latency when the load is low;
    // under load each commit's fixed work (fsync, a full-text segment, the pages
    // every batch rewrites) is shared by more events.
    std::size_t max_batch = 8000;
};

struct RateWindow {
    double per_second_1m = 0;
    double per_second_5m = 0;
    double per_second_15m = 0;
};

struct PipelineStats {
    std::size_t queue_depth = 0;
    std::size_t queue_capacity = 0;
    std::uint64_t committed = 0;    // new events stored since start
    std::uint64_t duplicates = 0;   // events whose id was already stored
    std::uint64_t rejected = 0;     // invalid input reported by sources (see count_rejected)
    std::uint64_t dropped = 0;      // refused because the queue was full
    std::uint64_t batches = 0;
    std::uint64_t stage_errors = 0;
    std::uint64_t commit_errors = 0;
    RateWindow rate;
    std::vector<std::pair<std::int64_t, std::uint64_t>> per_minute;  // (minute start, Unix ms; events) last hour
};

using Ack = std::function<void(core::Result<storage::InsertResult>)>;

/// Where sources (HTTP, syslog) hand their events: the pipeline itself, or with
/// Kafka a producer whose acknowledgement means "durable in the raw topic".
class EventSink {
public:
    virtual ~EventSink() = default;
    /// Non-blocking; `ack` runs once the events are durable (or failed), on any thread.
    virtual core::Result<void> submit(std::vector<model::Event> events, Ack ack, std::string origin = {}) = 0;
    /// Blocks until the events are durable (or refused). For blocking handlers.
    virtual core::Result<storage::InsertResult> submit_and_wait(std::vector<model::Event> events,
                                                                std::string origin = {}) = 0;
};

class Pipeline final : public EventSink {
public:
    Pipeline(storage::EventStore& store, PipelineOptions options, LiveHub* hub = nullptr);
    ~Pipeline();  // stops (drains) if running

    /// Before start().
    void add_stage(std::unique_ptr<Stage> stage);
    void start();
    /// Stops accepting, commits everything queued, joins the worker.
    void stop();

    /// Non-blocking. Unavailable when the queue cannot take `events` (counted as dropped).
    /// `ack` runs on the pipeline thread after the commit (or its failure).
    /// `origin` says where the events came from (the request id of an HTTP ingest call,
    /// "syslog"...): pipeline logs name it, and stages can read it (batch_origin()).
    core::Result<void> submit(std::vector<model::Event> events, Ack ack, std::string origin = {}) override;
    /// Blocks until the events are committed (or refused). For blocking handlers.
    core::Result<storage::InsertResult> submit_and_wait(std::vector<model::Event> events,
                                                        std::string origin = {}) override;

    void count_rejected(std::uint64_t n);
    PipelineStats stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::pipeline
