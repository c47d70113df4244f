#include "ml/features.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>

namespace sai::ml {
namespace {

std::size_t at(std::string_view name) {
    const auto& names = FeatureExtractor::feature_names();
    return static_cast<std::size_t>(std::find(names.begin(), names.end(), name) - names.begin());
}

model::Event login(std::int64_t t, const std::string& user, const std::string& source, bool failed) {
    model::Event e;
    e.timestamp = t;
    e.category = "authentication";
    e.action = "login_attempt";
    e.outcome = failed ? "failure" : "success";
    e.user_name = user;
    e.source_ip = source;
    e.host_name = "web-01";
    return e;
}

TEST(FeatureExtractorTest, SchemaIsDeclaredAndStable) {
    const auto& names = FeatureExtractor::feature_names();
    EXPECT_EQ(names.size(), 26u);
    EXPECT_EQ(names.front(), "bytes_out_log");
    EXPECT_EQ(kEventSchemaName, "event");
    EXPECT_EQ(kEventSchemaVersion, 1u);
    FeatureExtractor fx;
    EXPECT_EQ(fx.extract(model::Event{}).size(), names.size());
}

TEST(FeatureExtractorTest, NumericCategoricalAndCyclicTime) {
    FeatureExtractor fx;
    model::Event e;
    e.timestamp = 6 * 3600 * 1000;  // 06:00 UTC: a quarter of the day
    e.source_bytes = 1023;
    e.destination_port = 22;
    e.severity = 3;
    e.network_transport = "tcp";
    e.extra = R"({"login_attempts":7})";
    auto f = fx.extract(e);
    EXPECT_NEAR(f[at("bytes_out_log")], std::log1p(1023.0), 1e-5);
    EXPECT_EQ(f[at("dst_port")], 22.0f);
    EXPECT_EQ(f[at("dst_port_well_known")], 1.0f);
    EXPECT_EQ(f[at("severity")], 3.0f);
    EXPECT_EQ(f[at("transport_tcp")], 1.0f);
    EXPECT_EQ(f[at("login_attempts")], 7.0f);
    EXPECT_NEAR(f[at("hour_sin")], 1.0f, 1e-6);
    EXPECT_NEAR(f[at("hour_cos")], 0.0f, 1e-6);
}

TEST(FeatureExtractorTest, FailedLoginsCountInTheirWindowOnly) {
    FeatureExtractor fx({.failed_login_window_ms = 60000});
    for (int i = 0; i < 5; ++i) fx.extract(login(1000 + i, "root", "10.0.0.9", true));
    auto f = fx.extract(login(2000, "root", "10.0.0.9", true));
    EXPECT_EQ(f[at("failed_logins_user")], 6.0f);
    EXPECT_EQ(f[at("failed_logins_source")], 6.0f);
    auto other = fx.extract(login(2001, "alice", "10.0.0.9", false));
    EXPECT_EQ(other[at("failed_logins_user")], 0.0f);
    EXPECT_EQ(other[at("failed_logins_source")], 6.0f);
    auto later = fx.extract(login(2000 + 61000, "root", "10.0.0.9", true));
    EXPECT_EQ(later[at("failed_logins_user")], 1.0f);  // the old ones left the window
}

TEST(FeatureExtractorTest, PortScanAndFirstSeenPair) {
    FeatureExtractor fx;
    model::Event e;
    e.source_ip = "10.0.0.5";
    std::vector<float> f;
    for (int port = 1; port <= 40; ++port) {
        e.timestamp = 1000 + port;
        e.destination_port = port;
        e.destination_ip = "10.0.1." + std::to_string(port % 4);
        f = fx.extract(e);
    }
    EXPECT_EQ(f[at("distinct_dst_ports_source")], 40.0f);
    EXPECT_EQ(f[at("distinct_dst_hosts_source")], 4.0f);
    e.timestamp = 1000 + 40 + 61000;  // a minute later only this port remains
    f = fx.extract(e);
    EXPECT_EQ(f[at("distinct_dst_ports_source")], 1.0f);

    auto a = fx.extract(login(5000, "bob", "", false));
    auto b = fx.extract(login(5001, "bob", "", false));
    EXPECT_EQ(a[at("first_seen_user_host")], 1.0f);
    EXPECT_EQ(b[at("first_seen_user_host")], 0.0f);
}

TEST(FeatureExtractorTest, MemoryStaysBounded) {
    FeatureExtractor fx({.max_keys = 100});
    for (int i = 0; i < 5000; ++i) fx.extract(login(i * 10, "user" + std::to_string(i), "", true));
    EXPECT_LE(fx.tracked_keys(), 101u);
}

TEST(FeatureExtractorTest, ConcurrentExtractionCountsEveryEvent) {
    FeatureExtractor fx({.failed_login_window_ms = 3600000});
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&fx] {
            for (int i = 0; i < 250; ++i) fx.extract(login(1000 + i, "root", "10.0.0.1", true));
        });
    }
    for (auto& w : workers) w.join();
    // 1,001 failures are in the window, but a key keeps at most its last 512
    // records (bounded memory), so the count saturates there; none is lost to a race.
    auto f = fx.extract(login(5000, "root", "10.0.0.1", true));
    EXPECT_EQ(f[at("failed_logins_user")], 512.0f);
    EXPECT_EQ(fx.tracked_keys(), 2u);
}

TEST(FeatureExtractorTest, ExplanationText) {
    const std::vector<FeatureContribution> c{{3, "failed_logins_user", 0.4213}, {5, "", -0.1}};
    EXPECT_EQ(format_explanation(c), "failed_logins_user=+0.421, f5=-0.100");
}

}  // namespace
}  // namespace sai::ml
