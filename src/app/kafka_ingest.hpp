#pragma once
// Kafka wiring of the server: sources publish raw events to the raw topic
// (KafkaIngest, acknowledged by the brokers), pipeline workers consume the
// topic as one consumer group (offsets committed after the store commit), and
// alert changes are published to the alerts topic. Built only when
// kafka.bootstrap_servers is set.

#include "alerts/alert_manager.hpp"
#include "core/config.hpp"
#include "pipeline/pipeline.hpp"
#include "storage/kafka/consumer.hpp"
#include "storage/kafka/producer.hpp"

#include <memory>
#include <string>
#include <vector>

namespace sai::app {

storage::kafka::KafkaOptions kafka_options(const core::KafkaConfig& config);

/// Events (normalized JSON with their id) to the raw topic, keyed by host.name.
/// The acknowledgement comes after the brokers acknowledged every event.
class KafkaIngest final : public pipeline::EventSink {
public:
    KafkaIngest(storage::kafka::KafkaProducer& producer, std::string topic)
        : producer_(producer), topic_(std::move(topic)) {}
    core::Result<void> submit(std::vector<model::Event> events, pipeline::Ack ack, std::string origin = {}) override;
    core::Result<storage::InsertResult> submit_and_wait(std::vector<model::Event> events,
                                                        std::string origin = {}) override;

private:
    storage::kafka::KafkaProducer& producer_;
    std::string topic_;
};

/// The consumer's handler: batches into the pipeline; the pipeline's commit
/// acknowledgement lets the consumer commit the offsets. A full queue refuses.
storage::kafka::EventConsumer::Handler pipeline_handler(pipeline::Pipeline& pipeline);

/// Publishes alert changes to `topic` as alert JSON keyed by alert id (fire and
/// forget: delivery failures are counted by the producer and logged).
alerts::AlertManager::Listener alert_publisher(storage::kafka::KafkaProducer& producer, std::string topic);

/// Prometheus series of the producer and (optional) consumer.
void add_kafka_metrics(storage::kafka::KafkaProducer& producer, storage::kafka::EventConsumer* consumer);

}  // namespace sai::app
