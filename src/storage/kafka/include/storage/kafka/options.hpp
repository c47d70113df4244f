#pragma once
// Settings shared by the Kafka producer and consumer (config keys kafka.*).

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace sai::storage::kafka {

struct KafkaOptions {
    std::string bootstrap_servers;  // "host:port,host:port"
    std::string raw_topic = "securityai.events.raw";
    std::string alerts_topic = "securityai.alerts";
    std::string group_id = "securityai";
    /// message.timeout.ms: every produced message is acknowledged or failed within this.
    std::chrono::milliseconds message_timeout{10'000};
    /// queue.buffering.max.messages: messages produced and not yet acknowledged, at most.
    std::size_t max_in_flight = 100'000;
    std::chrono::milliseconds linger{5};
    std::chrono::milliseconds session_timeout{10'000};
    std::chrono::milliseconds reconnect_backoff_max{1'000};
    /// Consumer: messages handed to the pipeline per batch, and batches waiting for
    /// their store commit before the consumer pauses its partitions.
    std::size_t consumer_max_batch = 2000;
    std::size_t consumer_max_pending_batches = 8;
    /// Consumer stop and partition revocation wait this long for in-flight batches
    /// to be committed to the store before committing offsets.
    std::chrono::milliseconds drain_timeout{10'000};
    /// Further librdkafka properties (name, value), applied last.
    std::vector<std::pair<std::string, std::string>> properties;
};

}  // namespace sai::storage::kafka
