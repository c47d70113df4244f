#include "kafka_ingest.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

namespace sai::app {
namespace kafka = storage::kafka;

kafka::KafkaOptions kafka_options(const core::KafkaConfig& config) {
    kafka::KafkaOptions o;
    o.bootstrap_servers = config.bootstrap_servers;
    o.raw_topic = config.raw_topic;
    o.alerts_topic = config.alerts_topic;
    o.group_id = config.group_id;
    o.message_timeout = std::chrono::milliseconds(config.message_timeout_ms);
    o.max_in_flight = config.max_in_flight;
    o.session_timeout = std::chrono::milliseconds(config.session_timeout_ms);
    o.consumer_max_batch = config.consumer_max_batch;
    return o;
}

namespace {
std::vector<kafka::Record> to_records(const std::vector<model::Event>& events) {
    std::vector<kafka::Record> records;
    records.reserve(events.size());
    for (const auto& e : events) {
        records.push_back({e.host_name, model::event_to_json_text(e)});
    }
    return records;
}
}  // namespace

core::Result<void> KafkaIngest::submit(std::vector<model::Event> events, pipeline::Ack ack, std::string) {
    const auto n = events.size();
    producer_.produce(topic_, to_records(events), [ack = std::move(ack), n](core::Result<void> r) {
        if (!ack) {
            return;
        }
        if (r) {
            ack(storage::InsertResult{n, 0});
        } else {
            ack(r.error());
        }
    });
    return {};
}

core::Result<storage::InsertResult> KafkaIngest::submit_and_wait(std::vector<model::Event> events, std::string) {
    const auto n = events.size();
    if (auto r = producer_.produce_and_wait(topic_, to_records(events)); !r) {
        return r.error();
    }
    return storage::InsertResult{n, 0};
}

kafka::EventConsumer::Handler pipeline_handler(pipeline::Pipeline& pipeline) {
    return [&pipeline](std::vector<model::Event> events, kafka::EventConsumer::Committed committed) {
        return pipeline.submit(std::move(events),
                               [committed = std::move(committed)](core::Result<storage::InsertResult> r) {
                                   if (r) {
                                       committed(core::Result<void>{});
                                   } else {
                                       committed(r.error());
                                   }
                               },
                               "kafka");
    };
}

alerts::AlertManager::Listener alert_publisher(kafka::KafkaProducer& producer, std::string topic) {
    return [&producer, topic = std::move(topic)](const std::vector<alerts::AlertUpdate>& updates) {
        std::vector<kafka::Record> records;
        records.reserve(updates.size());
        for (const auto& u : updates) {
            auto json = model::alert_to_json(u.alert);
            json["change"] = u.created ? "created" : "updated";
            records.push_back({u.alert.id, model::to_json_text(json)});
        }
        producer.produce(topic, std::move(records), [n = updates.size()](core::Result<void> r) {
            if (!r) {
                core::log::warn("publishing alerts to Kafka failed",
                                {{"component", "kafka"}, {"alerts", n}, {"error", r.error().detail}});
            }
        });
    };
}

void add_kafka_metrics(kafka::KafkaProducer& producer, kafka::EventConsumer* consumer) {
    core::metrics::default_registry().add_collector([&producer, consumer](core::metrics::Writer& w) {
        const auto p = producer.stats();
        w.family("securityai_kafka_produced_total", "Messages the Kafka brokers acknowledged.", "counter");
        w.sample("securityai_kafka_produced_total", {}, static_cast<double>(p.produced));
        w.family("securityai_kafka_delivery_failures_total",
                 "Messages that failed or timed out (their requests were refused), by reason.", "counter");
        w.sample("securityai_kafka_delivery_failures_total", {{"reason", "delivery"}},
                 static_cast<double>(p.delivery_failures));
        w.sample("securityai_kafka_delivery_failures_total", {{"reason", "queue_full"}},
                 static_cast<double>(p.queue_full));
        w.family("securityai_kafka_in_flight", "Produced messages waiting for their acknowledgement.", "gauge");
        w.sample("securityai_kafka_in_flight", {}, static_cast<double>(p.in_flight));
        if (!consumer) {
            return;
        }
        const auto c = consumer->stats();
        w.family("securityai_kafka_consumed_total", "Messages read from the raw-events topic.", "counter");
        w.sample("securityai_kafka_consumed_total", {}, static_cast<double>(c.consumed));
        w.family("securityai_kafka_committed_total", "Messages whose offsets were committed after their store commit.",
                 "counter");
        w.sample("securityai_kafka_committed_total", {}, static_cast<double>(c.committed));
        w.family("securityai_kafka_rejected_total", "Consumed messages that are not a valid event (skipped).",
                 "counter");
        w.sample("securityai_kafka_rejected_total", {}, static_cast<double>(c.rejected));
        w.family("securityai_kafka_lost_total",
                 "Messages the brokers deleted (retention) before they were consumed: acknowledged events lost.",
                 "counter");
        w.sample("securityai_kafka_lost_total", {}, static_cast<double>(c.lost));
        w.family("securityai_kafka_consumer_pauses_total", "Times the consumer stopped taking messages for backpressure.", "counter");
        w.sample("securityai_kafka_consumer_pauses_total", {}, static_cast<double>(c.paused));
        w.family("securityai_kafka_assigned_partitions", "Raw-topic partitions assigned to this node.", "gauge");
        w.sample("securityai_kafka_assigned_partitions", {}, static_cast<double>(c.assigned_partitions));
        if (c.lag >= 0) {
            w.family("securityai_kafka_consumer_lag", "Messages behind the end of the assigned partitions.", "gauge");
            w.sample("securityai_kafka_consumer_lag", {}, static_cast<double>(c.lag));
        }
    });
}

}  // namespace sai::app
