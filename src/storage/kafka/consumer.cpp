#include "storage/kafka/consumer.hpp"

#include "core/log.hpp"
#include "rdkafka_util.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace sai::storage::kafka {
namespace bj = boost::json;

namespace {

constexpr std::size_t kMaxMessageBytes = 1 << 20;

// UUIDv7 layout: 48-bit Unix ms, version 7, 12 bits from the partition, variant
// 10, 62 bits from the offset: unique per (topic partition, offset) and stable.
std::string derived_id(std::int64_t timestamp_ms, std::int32_t partition, std::int64_t offset) {
    const auto ts = static_cast<std::uint64_t>(timestamp_ms) & 0xFFFF'FFFF'FFFFULL;
    const auto a = static_cast<std::uint64_t>(partition) & 0xFFF;
    const auto b = static_cast<std::uint64_t>(offset) & 0x3FFF'FFFF'FFFF'FFFFULL;
    const std::uint64_t hi = (ts << 16) | (0x7ULL << 12) | a;
    const std::uint64_t lo = (0x2ULL << 62) | b;
    char text[37];
    std::snprintf(text, sizeof text, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                  static_cast<unsigned long long>((hi >> 16) & 0xFFFF), static_cast<unsigned long long>(hi & 0xFFFF),
                  static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFF'FFFF'FFFFULL));
    return text;
}

// Completion of one batch, shared with the handler's callback (which may run
// after the consumer moved on or stopped).
struct Signal {
    std::mutex mutex;
    std::condition_variable changed;
};

struct Completion {
    enum class State { Waiting, Stored, Failed };
    std::shared_ptr<Signal> signal;
    State state = State::Waiting;  // guarded by signal->mutex
};

struct Batch {
    std::vector<model::Event> events;
    std::size_t messages = 0;
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> next_offsets;  // partition -> last offset + 1
    std::shared_ptr<Completion> completion;  // null until the handler accepted it
};

}  // namespace

core::Result<model::Event> decode_event(std::string_view value, std::int64_t timestamp_ms, std::int32_t partition,
                                        std::int64_t offset) {
    if (value.size() > kMaxMessageBytes) {
        return core::make_error(core::Errc::PayloadTooLarge, "message larger than 1 MiB");
    }
    boost::system::error_code ec;
    bj::value parsed = bj::parse(value, ec);
    if (ec) {
        return core::make_error(core::Errc::InvalidArgument, "not JSON: " + ec.message());
    }
    if (!parsed.is_object()) {
        return core::make_error(core::Errc::InvalidArgument, "an event must be a JSON object");
    }
    // event_from_json gives an event without id a fresh (random) one: decide before.
    const bool has_id = parsed.get_object().contains("id");
    auto e = model::event_from_json(parsed.get_object(), timestamp_ms);
    if (!e) {
        return e.error();
    }
    if (!has_id || e->id.empty()) {
        e->id = derived_id(timestamp_ms, partition, offset);
    }
    return e;
}

struct EventConsumer::Impl {
    KafkaOptions options;
    Handler handler;
    rd_kafka_t* rk = nullptr;
    std::thread thread;
    std::atomic<bool> stopping{false};
    bool stopped = false;  // stop() ran (caller thread)

    // Completions are signalled through it (any thread, even after the consumer is gone).
    std::shared_ptr<Signal> signal = std::make_shared<Signal>();

    // Consumer thread only.
    std::deque<Batch> batches;  // in partition order; accepted ones first, at most one not yet accepted
    bool paused = false;
    std::uint64_t generation = 0;  // bumped when partitions are revoked
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::steady_clock::time_point lag_at{};
    // Next offset expected per partition: the committed one at assignment, then the
    // last message + 1. The raw topic has no compaction nor transactions, so a message
    // further on means the brokers no longer had those in between (deleted by
    // retention while the group lagged: librdkafka resets to the log start and only
    // logs it).
    std::map<std::pair<std::string, std::int32_t>, std::int64_t> expected;

    std::atomic<std::uint64_t> consumed{0};
    std::atomic<std::uint64_t> committed{0};
    std::atomic<std::uint64_t> rejected{0};
    std::atomic<std::uint64_t> pauses{0};
    std::atomic<std::uint64_t> redelivered{0};
    std::atomic<std::uint64_t> lost{0};
    std::atomic<std::int64_t> lag{-1};
    std::atomic<std::size_t> assigned{0};
    std::atomic<bool> is_paused{false};

    Completion::State state_of(const Batch& b) {
        if (!b.completion) {
            return Completion::State::Waiting;
        }
        std::lock_guard lock(signal->mutex);
        return b.completion->state;
    }

    // Offers a batch to the handler; false when refused (it stays queued).
    bool offer(Batch& b) {
        auto completion = std::make_shared<Completion>();
        completion->signal = signal;
        auto r = handler(b.events, [completion](core::Result<void> result) {
            std::lock_guard lock(completion->signal->mutex);
            completion->state = result ? Completion::State::Stored : Completion::State::Failed;
            completion->signal->changed.notify_all();
        });
        if (!r) {
            return false;
        }
        b.completion = std::move(completion);
        return true;
    }

    // Backpressure by not taking messages: librdkafka's prefetch queue is bounded
    // (queued.max.messages.kbytes) and stops fetching when full. rd_kafka_pause_partitions
    // is not used: with 2.0.2, frequent pause/resume left partitions stalled (measured
    // under load: consumption stopped for good with the pipeline idle).
    void set_paused(bool pause) {
        if (pause == paused) {
            return;
        }
        if (pause) {
            pauses.fetch_add(1, std::memory_order_relaxed);
        }
        paused = pause;
        is_paused = pause;
    }

    // Pops stored batches from the front and commits their offsets (in order:
    // never past a batch that is not stored). Failed batches are offered again.
    void settle(bool sync) {
        std::map<std::pair<std::string, std::int32_t>, std::int64_t> offsets;
        std::size_t messages = 0;
        while (!batches.empty()) {
            auto& front = batches.front();
            const auto state = state_of(front);
            if (state != Completion::State::Stored) {
                break;
            }
            for (const auto& [tp, next] : front.next_offsets) {
                offsets[tp] = next;
            }
            messages += front.messages;
            batches.pop_front();
        }
        for (auto& b : batches) {
            if (b.completion && state_of(b) == Completion::State::Failed) {
                // The store refused it: keep the order and offer the same events again.
                b.completion.reset();
                redelivered.fetch_add(1, std::memory_order_relaxed);
            }
        }
        if (offsets.empty()) {
            return;
        }
        detail::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
        for (const auto& [tp, next] : offsets) {
            rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = next;
        }
        const auto err = rd_kafka_commit(rk, list.get(), sync ? 0 : 1);
        if (err) {
            // A later commit covers these offsets; at worst they are consumed again.
            core::log::warn("kafka offset commit failed", {{"component", "kafka"}, {"error", detail::error_text(err)}});
        }
        committed.fetch_add(messages, std::memory_order_relaxed);
    }

    // Offers batches not yet accepted, in order; pauses while the handler refuses.
    void offer_waiting() {
        const auto now = std::chrono::steady_clock::now();
        if (now < retry_at) {
            return;
        }
        for (auto& b : batches) {
            if (b.completion) {
                continue;
            }
            if (!offer(b)) {
                set_paused(true);
                retry_at = now + std::chrono::milliseconds(50);
                return;
            }
        }
    }

    // Waits (bounded) until every accepted batch is stored or failed, then commits
    // the stored prefix synchronously and forgets the rest (consumed again later).
    void drain_and_commit() {
        const auto deadline = std::chrono::steady_clock::now() + options.drain_timeout;
        {
            std::unique_lock lock(signal->mutex);
            signal->changed.wait_until(lock, deadline, [this] {
                for (const auto& b : batches) {
                    if (b.completion && b.completion->state == Completion::State::Waiting) {
                        return false;
                    }
                }
                return true;
            });
        }
        settle(true);
        if (!batches.empty()) {
            core::log::warn("kafka: uncommitted batches left to the next partition owner",
                            {{"component", "kafka"}, {"batches", batches.size()}});
        }
        batches.clear();
        ++generation;
        paused = false;
        is_paused = false;
        retry_at = {};
    }

    static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                             void* opaque) noexcept {
        auto* self = static_cast<Impl*>(opaque);
        try {
            if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                rd_kafka_assign(rk, parts);
                self->expect_committed(parts);
                self->assigned = static_cast<std::size_t>(parts->cnt);
                self->paused = false;
                self->is_paused = false;
                core::log::info("kafka partitions assigned", {{"component", "kafka"}, {"partitions", parts->cnt}});
            } else {
                // Revoked (or an error): commit what is stored before another member takes over.
                self->drain_and_commit();
                rd_kafka_assign(rk, nullptr);
                self->assigned = 0;
                core::log::info("kafka partitions revoked", {{"component", "kafka"}, {"partitions", parts->cnt}});
            }
        } catch (const std::exception& e) {
            core::log::error("kafka rebalance failed", {{"component", "kafka"}, {"error", e.what()}});
        }
    }

    // Where each newly assigned partition resumes (its committed offset), so that a
    // reset past it is seen even before the first message.
    void expect_committed(const rd_kafka_topic_partition_list_t* parts) {
        expected.clear();
        detail::PartitionListPtr committed_offsets(rd_kafka_topic_partition_list_copy(parts));
        if (rd_kafka_committed(rk, committed_offsets.get(), 10'000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            return;  // unknown: checked from the first message on
        }
        for (int i = 0; i < committed_offsets->cnt; ++i) {
            const auto& p = committed_offsets->elems[i];
            if (p.offset >= 0) {
                expected[{p.topic, p.partition}] = p.offset;
            }
        }
    }

    void check_offset(const rd_kafka_message_t* m) {
        const std::pair<std::string, std::int32_t> key{rd_kafka_topic_name(m->rkt), m->partition};
        const auto it = expected.find(key);
        if (it != expected.end() && m->offset > it->second) {
            const auto missing = m->offset - it->second;
            lost.fetch_add(static_cast<std::uint64_t>(missing), std::memory_order_relaxed);
            core::log::error("kafka messages deleted by the brokers before they were consumed: lost",
                             {{"component", "kafka"}, {"topic", key.first}, {"partition", key.second},
                              {"from_offset", it->second}, {"to_offset", m->offset}, {"messages", missing}});
        }
        expected[key] = m->offset + 1;
    }

    void update_lag() {
        rd_kafka_topic_partition_list_t* parts = nullptr;
        if (rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR || !parts) {
            return;
        }
        detail::PartitionListPtr owned(parts);
        if (parts->cnt == 0) {
            lag = 0;
            return;
        }
        rd_kafka_position(rk, parts);
        std::int64_t total = 0;
        for (int i = 0; i < parts->cnt; ++i) {
            std::int64_t low = 0;
            std::int64_t high = 0;
            if (rd_kafka_get_watermark_offsets(rk, parts->elems[i].topic, parts->elems[i].partition, &low, &high) ||
                high < 0) {
                return;  // not known yet
            }
            const auto position = parts->elems[i].offset >= 0 ? parts->elems[i].offset : low;
            total += std::max<std::int64_t>(0, high - position);
        }
        lag = total;
    }

    void add_message(Batch& b, const rd_kafka_message_t* m) {
        check_offset(m);
        consumed.fetch_add(1, std::memory_order_relaxed);
        ++b.messages;
        b.next_offsets[{rd_kafka_topic_name(m->rkt), m->partition}] = m->offset + 1;
        rd_kafka_timestamp_type_t type;
        std::int64_t ts = rd_kafka_message_timestamp(m, &type);
        if (ts <= 0) {
            ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
        }
        auto e = decode_event(std::string_view(static_cast<const char*>(m->payload), m->payload ? m->len : 0), ts,
                              m->partition, m->offset);
        if (!e) {
            // A message that can never become an event must not block its partition.
            rejected.fetch_add(1, std::memory_order_relaxed);
            core::log::warn("kafka message is not a valid event: skipped",
                            {{"component", "kafka"}, {"partition", m->partition}, {"offset", m->offset},
                             {"reason", e.error().detail}});
            return;
        }
        b.events.push_back(std::move(*e));
    }

    void run() {
        while (!stopping.load()) {
            settle(false);
            offer_waiting();
            const bool waiting =
                std::any_of(batches.begin(), batches.end(), [](const Batch& b) { return !b.completion; });
            const bool full = batches.size() >= options.consumer_max_pending_batches;
            if (!waiting && !full && paused) {
                set_paused(false);
            } else if (full && !paused) {
                set_paused(true);
            }
            const auto now = std::chrono::steady_clock::now();
            if (now >= lag_at) {
                update_lag();
                lag_at = now + std::chrono::seconds(2);
            }
            // While paused nothing arrives, but polling keeps group membership and
            // serves rebalances. A batch ends when the topic has nothing more at once.
            Batch batch;
            auto polled_in = generation;
            int timeout_ms = batches.empty() ? 100 : 10;
            while (!waiting && !full && batch.messages < options.consumer_max_batch) {
                rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, timeout_ms);
                if (generation != polled_in) {
                    // Revoked during this poll: what was taken before belongs to the old
                    // assignment (its next owner reads it again). A message returned now
                    // comes from a new assignment and starts a new batch: dropping it
                    // too would move past it for good.
                    batch = Batch{};
                    polled_in = generation;
                }
                if (!m) {
                    break;
                }
                timeout_ms = 0;
                if (m->err) {
                    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        core::log::warn("kafka consumer error",
                                        {{"component", "kafka"}, {"error", detail::error_text(m->err)}});
                    }
                    rd_kafka_message_destroy(m);
                    break;
                }
                add_message(batch, m);
                rd_kafka_message_destroy(m);
            }
            if (waiting || full) {
                // Rebalances are served once the pipeline takes batches again: it always
                // drains, so this stays far below max.poll.interval.ms.
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                continue;
            }
            if (batch.messages == 0 || generation != polled_in) {
                // Empty, or taken from partitions revoked meanwhile: their owner reads them again.
                continue;
            }
            if (batch.events.empty()) {
                // Only rejected messages: nothing to store, the offsets can go.
                auto done = std::make_shared<Completion>();
                done->state = Completion::State::Stored;
                batch.completion = std::move(done);
            } else if (!offer(batch)) {
                set_paused(true);
                retry_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
            }
            batches.push_back(std::move(batch));
        }
    }
};

EventConsumer::EventConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventConsumer::~EventConsumer() { stop(); }

core::Result<std::unique_ptr<EventConsumer>> EventConsumer::start(const KafkaOptions& options, Handler handler) {
    auto conf = detail::base_conf(options, "consumer");
    if (!conf) {
        return conf.error();
    }
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    impl->options.consumer_max_batch = std::max<std::size_t>(1, options.consumer_max_batch);
    impl->options.consumer_max_pending_batches = std::max<std::size_t>(1, options.consumer_max_pending_batches);
    impl->handler = std::move(handler);
    for (const auto& [name, value] : {
             std::pair<std::string, std::string>{"group.id", options.group_id},
             {"enable.auto.commit", "false"},
             {"enable.auto.offset.store", "false"},
             {"auto.offset.reset", "earliest"},
             {"session.timeout.ms", std::to_string(options.session_timeout.count())},
             {"heartbeat.interval.ms", std::to_string(std::max<std::int64_t>(100, options.session_timeout.count() / 4))},
             {"partition.assignment.strategy", "range,roundrobin"},
             // A fetch waits at most this long for data: bounds ingest latency on quiet topics.
             {"fetch.wait.max.ms", "100"},
         }) {
        if (auto r = detail::set(conf->get(), name, value); !r) {
            return r.error();
        }
    }
    if (auto r = detail::apply_properties(conf->get(), options); !r) {
        return r.error();
    }
    rd_kafka_conf_set_rebalance_cb(conf->get(), &Impl::on_rebalance);
    rd_kafka_conf_set_opaque(conf->get(), impl.get());
    char err[512];
    impl->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err);
    if (!impl->rk) {
        return core::make_error(core::Errc::InvalidArgument, std::string("kafka consumer: ") + err);
    }
    (void)conf->release();
    rd_kafka_poll_set_consumer(impl->rk);
    detail::PartitionListPtr topics(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(topics.get(), options.raw_topic.c_str(), RD_KAFKA_PARTITION_UA);
    if (const auto e = rd_kafka_subscribe(impl->rk, topics.get())) {
        rd_kafka_destroy(impl->rk);
        impl->rk = nullptr;
        return core::make_error(core::Errc::Unavailable, "kafka subscribe: " + detail::error_text(e));
    }
    Impl* raw = impl.get();
    impl->thread = std::thread([raw] { raw->run(); });
    return std::unique_ptr<EventConsumer>(new EventConsumer(std::move(impl)));
}

void EventConsumer::stop() {
    if (!impl_ || impl_->stopped) {
        return;
    }
    impl_->stopped = true;
    impl_->stopping = true;
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    }
    if (impl_->rk) {
        impl_->drain_and_commit();
        rd_kafka_consumer_close(impl_->rk);  // leaves the group (the revoke callback finds nothing left)
        rd_kafka_destroy(impl_->rk);
        impl_->rk = nullptr;
    }
}

ConsumerStats EventConsumer::stats() const {
    ConsumerStats s;
    s.consumed = impl_->consumed.load();
    s.committed = impl_->committed.load();
    s.rejected = impl_->rejected.load();
    s.paused = impl_->pauses.load();
    s.redelivered_batches = impl_->redelivered.load();
    s.lost = impl_->lost.load();
    s.lag = impl_->lag.load();
    s.assigned_partitions = impl_->assigned.load();
    s.is_paused = impl_->is_paused.load();
    return s;
}

}  // namespace sai::storage::kafka
