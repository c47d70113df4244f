#include "storage/kafka/producer.hpp"

#include "core/log.hpp"
#include "rdkafka_util.hpp"

#include <atomic>
#include <future>
#include <optional>
#include <mutex>
#include <thread>

namespace sai::storage::kafka {
namespace {

// One produce() call: completes when its last record is reported, or at once
// (with the first error) when a record fails; later reports are only counted.
struct Request {
    KafkaProducer::Delivered done;
    std::atomic<std::size_t> remaining{0};
    std::mutex mutex;
    bool finished = false;
    std::optional<core::Error> error;

    void fail(core::Error e) {
        std::lock_guard lock(mutex);
        if (!error) {
            error = std::move(e);
        }
    }
    // Called once per record (delivered or never enqueued); the last one reports.
    void release(std::size_t n) {
        if (remaining.fetch_sub(n) != n) {
            return;
        }
        std::optional<core::Error> e;
        {
            std::lock_guard lock(mutex);
            finished = true;
            e = error;
        }
        try {
            if (e) {
                done(*e);
            } else {
                done(core::Result<void>{});
            }
        } catch (const std::exception& ex) {
            // A throwing callback must not unwind into librdkafka.
            core::log::error("kafka delivery callback threw", {{"component", "kafka"}, {"error", ex.what()}});
        }
    }
};

}  // namespace

struct KafkaProducer::Impl {
    KafkaOptions options;
    rd_kafka_t* rk = nullptr;
    std::atomic<bool> stopping{false};
    std::thread poller;
    std::atomic<std::uint64_t> produced{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::uint64_t> queue_full{0};

    static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* msg, void*) noexcept {
        auto* self = static_cast<Impl*>(rd_kafka_opaque(rk));
        auto* request = static_cast<std::shared_ptr<Request>*>(msg->_private);
        if (msg->err) {
            self->failures.fetch_add(1, std::memory_order_relaxed);
        } else {
            self->produced.fetch_add(1, std::memory_order_relaxed);
        }
        if (!request) {
            return;  // fire-and-forget records carry no request
        }
        try {
            if (msg->err) {
                const auto code = msg->err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? core::Errc::InvalidArgument
                                                                                     : core::Errc::Unavailable;
                (*request)->fail(core::make_error(code, "kafka delivery failed: " + detail::error_text(msg->err)));
            }
            (*request)->release(1);
        } catch (const std::exception& e) {
            core::log::error("kafka delivery report failed", {{"component", "kafka"}, {"error", e.what()}});
        }
        delete request;
    }

    ~Impl() {
        stopping = true;
        if (poller.joinable()) {
            poller.join();
        }
        if (rk) {
            rd_kafka_flush(rk, static_cast<int>(options.message_timeout.count()));
            rd_kafka_destroy(rk);
        }
    }
};

KafkaProducer::KafkaProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaProducer::~KafkaProducer() = default;

core::Result<std::unique_ptr<KafkaProducer>> KafkaProducer::open(const KafkaOptions& options) {
    auto conf = detail::base_conf(options, "producer");
    if (!conf) {
        return conf.error();
    }
    auto impl = std::make_unique<Impl>();
    impl->options = options;
    for (const auto& [name, value] : {
             std::pair<std::string, std::string>{"enable.idempotence", "true"},
             {"acks", "all"},
             {"message.timeout.ms", std::to_string(options.message_timeout.count())},
             {"queue.buffering.max.messages", std::to_string(std::max<std::size_t>(1, options.max_in_flight))},
             {"linger.ms", std::to_string(options.linger.count())},
             {"partitioner", "murmur2_random"},
         }) {
        if (auto r = detail::set(conf->get(), name, value); !r) {
            return r.error();
        }
    }
    if (auto r = detail::apply_properties(conf->get(), options); !r) {
        return r.error();
    }
    rd_kafka_conf_set_dr_msg_cb(conf->get(), &Impl::on_delivery);
    rd_kafka_conf_set_opaque(conf->get(), impl.get());
    char err[512];
    impl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
    if (!impl->rk) {
        return core::make_error(core::Errc::InvalidArgument, std::string("kafka producer: ") + err);
    }
    (void)conf->release();  // owned by rk now
    Impl* raw = impl.get();
    impl->poller = std::thread([raw] {
        while (!raw->stopping.load()) {
            rd_kafka_poll(raw->rk, 50);
        }
    });
    return std::unique_ptr<KafkaProducer>(new KafkaProducer(std::move(impl)));
}

void KafkaProducer::produce(std::string_view topic, std::vector<Record> records, Delivered done) {
    auto request = std::make_shared<Request>();
    request->done = std::move(done);
    const std::size_t n = records.size();
    if (n == 0) {
        request->done(core::Result<void>{});
        return;
    }
    request->remaining = n;
    const std::string topic_name(topic);
    for (std::size_t i = 0; i < n; ++i) {
        auto& r = records[i];
        auto* opaque = new std::shared_ptr<Request>(request);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            impl_->rk, RD_KAFKA_V_TOPIC(topic_name.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(r.key.empty() ? nullptr : r.key.data(), r.key.size()),
            RD_KAFKA_V_VALUE(r.value.data(), r.value.size()), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        if (err) {
            delete opaque;
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                impl_->queue_full.fetch_add(n - i, std::memory_order_relaxed);
            } else {
                impl_->failures.fetch_add(n - i, std::memory_order_relaxed);
            }
            const auto code =
                err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ? core::Errc::InvalidArgument : core::Errc::Unavailable;
            request->fail(core::make_error(code, "kafka produce refused: " + detail::error_text(err)));
            request->release(n - i);  // the records never enqueued
            return;
        }
    }
}

core::Result<void> KafkaProducer::produce_and_wait(std::string_view topic, std::vector<Record> records) {
    auto promise = std::make_shared<std::promise<core::Result<void>>>();
    auto future = promise->get_future();
    produce(topic, std::move(records), [promise](core::Result<void> r) { promise->set_value(std::move(r)); });
    // librdkafka reports every message within message.timeout.ms; the margin covers its scheduling.
    if (future.wait_for(impl_->options.message_timeout + std::chrono::seconds(5)) != std::future_status::ready) {
        return core::make_error(core::Errc::Unavailable, "kafka delivery timed out");
    }
    return future.get();
}

bool KafkaProducer::flush(std::chrono::milliseconds timeout) {
    return rd_kafka_flush(impl_->rk, static_cast<int>(timeout.count())) == RD_KAFKA_RESP_ERR_NO_ERROR;
}

core::Result<void> KafkaProducer::health(std::chrono::milliseconds timeout) const {
    const rd_kafka_metadata_t* md = nullptr;
    const auto err = rd_kafka_metadata(impl_->rk, 0, nullptr, &md, static_cast<int>(timeout.count()));
    if (err) {
        return core::make_error(core::Errc::Unavailable, "no Kafka broker reachable: " + detail::error_text(err));
    }
    const int brokers = md->broker_cnt;
    rd_kafka_metadata_destroy(md);
    if (brokers == 0) {
        return core::make_error(core::Errc::Unavailable, "Kafka cluster reports no brokers");
    }
    return {};
}

ProducerStats KafkaProducer::stats() const {
    ProducerStats s;
    s.produced = impl_->produced.load();
    s.delivery_failures = impl_->failures.load();
    s.queue_full = impl_->queue_full.load();
    s.in_flight = static_cast<std::size_t>(std::max(0, rd_kafka_outq_len(impl_->rk)));
    return s;
}

const KafkaOptions& KafkaProducer::options() const { return impl_->options; }

}  // namespace sai::storage::kafka
