// A librdkafka mock cluster for integration tests: starts N brokers (default 3)
// on loopback, creates the given topics, prints the bootstrap list on stdout
// and lives until stdin closes or SIGTERM/SIGINT.
//
//   kafka_mock_cluster [--brokers N] [--partitions P] [topic...]

#include "core/log.hpp"
#include "storage/kafka/mock_cluster.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) { stop_requested = 1; }
}  // namespace

int main(int argc, char** argv) {
    int brokers = 3;
    int partitions = 4;
    std::vector<std::string> topics;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if ((a == "--brokers" || a == "--partitions") && i + 1 < argc) {
            (a == "--brokers" ? brokers : partitions) = std::atoi(argv[++i]);
        } else {
            topics.push_back(a);
        }
    }
    if (brokers < 1 || partitions < 1) {
        std::cerr << "usage: kafka_mock_cluster [--brokers N] [--partitions P] [topic...]\n";
        return 2;
    }
    // Stdout carries only the bootstrap list; librdkafka's own logs go to stderr.
    sai::core::log::init({.level = sai::core::log::Level::Warn, .file = "/dev/stderr", .async = false});
    auto cluster = sai::storage::kafka::MockCluster::create(brokers);
    if (!cluster) {
        std::cerr << cluster.error().detail << "\n";
        return 1;
    }
    for (const auto& t : topics) {
        if (auto r = (*cluster)->create_topic(t, partitions, std::min(brokers, 3)); !r) {
            std::cerr << r.error().detail << "\n";
            return 1;
        }
    }
    std::signal(SIGTERM, on_signal);
    std::signal(SIGINT, on_signal);
    std::cout << (*cluster)->bootstrap_servers() << std::endl;
    // Stdin closing (the test process went away) ends the cluster too.
    pollfd in{STDIN_FILENO, POLLIN, 0};
    char buf[256];
    while (!stop_requested) {
        const int n = poll(&in, 1, 200);
        if (n > 0) {
            const auto r = read(STDIN_FILENO, buf, sizeof buf);
            if (r <= 0) {
                break;
            }
        }
    }
    return 0;
}
