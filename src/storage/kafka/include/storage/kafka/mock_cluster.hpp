#pragma once
// librdkafka's in-process mock cluster (a real Kafka protocol implementation
// on loopback sockets), for tests and the kafka_mock_cluster tool. Lives as
// long as the object; brokers can be taken down and up to simulate faults.

#include "core/error.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace sai::storage::kafka {

class MockCluster {
public:
    static core::Result<std::unique_ptr<MockCluster>> create(int brokers);
    ~MockCluster();
    MockCluster(const MockCluster&) = delete;
    MockCluster& operator=(const MockCluster&) = delete;

    /// "127.0.0.1:port,..." for bootstrap.servers.
    std::string bootstrap_servers() const;
    core::Result<void> create_topic(const std::string& topic, int partitions, int replication_factor);
    /// Broker ids are 1..brokers.
    core::Result<void> set_broker_down(std::int32_t broker_id);
    core::Result<void> set_broker_up(std::int32_t broker_id);

private:
    struct Impl;
    explicit MockCluster(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::storage::kafka
