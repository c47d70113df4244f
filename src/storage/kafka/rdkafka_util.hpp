#pragma once
// Private helpers around the librdkafka C API: configuration building, the log
// and error callbacks (into core::log, never stderr), handle ownership.

#include "core/error.hpp"
#include "storage/kafka/options.hpp"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>

namespace sai::storage::kafka::detail {

struct ConfDeleter {
    void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct PartitionListDeleter {
    void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

core::Result<void> set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value);

/// A configuration with the common settings (bootstrap servers, reconnect backoff,
/// log and error callbacks) and then `options.properties`; `role` names the
/// client in logs ("producer", "consumer").
core::Result<ConfPtr> base_conf(const KafkaOptions& options, const char* role);

/// Applies options.properties (last, so they override ours).
core::Result<void> apply_properties(rd_kafka_conf_t* conf, const KafkaOptions& options);

std::string error_text(rd_kafka_resp_err_t err);

}  // namespace sai::storage::kafka::detail
