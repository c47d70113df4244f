#include "storage/kafka/mock_cluster.hpp"

#include "rdkafka_util.hpp"

#include <librdkafka/rdkafka_mock.h>

namespace sai::storage::kafka {

struct MockCluster::Impl {
    rd_kafka_t* rk = nullptr;  // the handle that owns the cluster's thread
    rd_kafka_mock_cluster_t* cluster = nullptr;
    ~Impl() {
        if (cluster) {
            rd_kafka_mock_cluster_destroy(cluster);
        }
        if (rk) {
            rd_kafka_destroy(rk);
        }
    }
};

MockCluster::MockCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockCluster::~MockCluster() = default;

core::Result<std::unique_ptr<MockCluster>> MockCluster::create(int brokers) {
    // base_conf wants bootstrap servers; the owning handle never connects anywhere.
    KafkaOptions options;
    options.bootstrap_servers = "127.0.0.1:1";
    auto conf = detail::base_conf(options, "mock-cluster");
    if (!conf) {
        return conf.error();
    }
    auto impl = std::make_unique<Impl>();
    char err[512];
    impl->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
    if (!impl->rk) {
        return core::make_error(core::Errc::Internal, std::string("kafka mock cluster: ") + err);
    }
    (void)conf->release();
    impl->cluster = rd_kafka_mock_cluster_new(impl->rk, brokers);
    if (!impl->cluster) {
        return core::make_error(core::Errc::Internal, "kafka mock cluster could not be created");
    }
    return std::unique_ptr<MockCluster>(new MockCluster(std::move(impl)));
}

std::string MockCluster::bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(impl_->cluster); }

namespace {
core::Result<void> check(rd_kafka_resp_err_t err, const char* what) {
    if (err) {
        return core::make_error(core::Errc::Internal, std::string(what) + ": " + detail::error_text(err));
    }
    return {};
}
}  // namespace

core::Result<void> MockCluster::create_topic(const std::string& topic, int partitions, int replication_factor) {
    return check(rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions, replication_factor),
                 "mock topic");
}

core::Result<void> MockCluster::set_broker_down(std::int32_t broker_id) {
    return check(rd_kafka_mock_broker_set_down(impl_->cluster, broker_id), "mock broker down");
}

core::Result<void> MockCluster::set_broker_up(std::int32_t broker_id) {
    return check(rd_kafka_mock_broker_set_up(impl_->cluster, broker_id), "mock broker up");
}

}  // namespace sai::storage::kafka
