#include "core/metrics.hpp"

#include <gtest/gtest.h>

namespace sai::core::metrics {
namespace {

TEST(MetricsTest, CountersAndGaugesByLabels) {
    Registry r;
    r.counter("http_requests_total", "Requests.", {{"route", "/health"}, {"status", "200"}}).inc();
    r.counter("http_requests_total", "Requests.", {{"route", "/health"}, {"status", "200"}}).inc(2);
    r.counter("http_requests_total", "Requests.", {{"route", "/x"}, {"status", "404"}}).inc();
    r.gauge("queue_depth", "Depth.").set(7.5);
    const std::string text = r.expose();
    EXPECT_NE(text.find("# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\n"), std::string::npos);
    EXPECT_NE(text.find("http_requests_total{route=\"/health\",status=\"200\"} 3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("http_requests_total{route=\"/x\",status=\"404\"} 1\n"), std::string::npos);
    EXPECT_NE(text.find("queue_depth 7.5\n"), std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
    Registry r;
    auto& h = r.histogram("latency_seconds", "Latency.", {}, {0.1, 1});
    h.observe(0.05);
    h.observe(0.5);
    h.observe(0.5);
    h.observe(3);
    const std::string text = r.expose();
    EXPECT_NE(text.find("latency_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
    EXPECT_NE(text.find("latency_seconds_bucket{le=\"1\"} 3\n"), std::string::npos);
    EXPECT_NE(text.find("latency_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos);
    EXPECT_NE(text.find("latency_seconds_sum 4.05\n"), std::string::npos);
    EXPECT_NE(text.find("latency_seconds_count 4\n"), std::string::npos);
    EXPECT_DOUBLE_EQ(h.quantile(0.5), 0.1 + 0.9 * (2.0 - 1.0) / 2.0);
}

TEST(MetricsTest, LabelValuesAreEscaped) {
    EXPECT_EQ(format_labels({{"path", "a\"b\\c\nd"}}), "{path=\"a\\\"b\\\\c\\nd\"}");
}

TEST(MetricsTest, ATypeConflictNeverCrashes) {
    Registry r;
    r.counter("x_total", "X.").inc();
    r.gauge("x_total", "X.").set(5);  // wrong type: an orphan series, not exposed
    EXPECT_NE(r.expose().find("x_total 1\n"), std::string::npos);
}

TEST(MetricsTest, CollectorsAndProcessFigures) {
    Registry r;
    r.add_collector([](Writer& w) {
        w.family("custom", "Custom.", "gauge");
        w.sample("custom", {{"k", "v"}}, 42);
    });
    r.add_collector(collect_process);
    const std::string text = r.expose();
    EXPECT_NE(text.find("custom{k=\"v\"} 42\n"), std::string::npos);
    EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
    EXPECT_EQ(text.find("process_resident_memory_bytes 0\n"), std::string::npos);
    EXPECT_NE(text.find("process_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace sai::core::metrics
