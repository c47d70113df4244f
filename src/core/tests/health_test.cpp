#include "core/health.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace sai::core {
namespace {

TEST(HealthMonitorTest, SnapshotNamesTheFailingComponent) {
    HealthMonitor monitor;
    std::atomic<bool> store_ok{true};
    monitor.add_check("storage", [&]() -> Result<void> {
        if (store_ok) {
            return {};
        }
        return make_error(Errc::Unavailable, "database file is missing");
    });
    monitor.add_check("pipeline", [] { return Result<void>{}; });

    monitor.check_now();
    EXPECT_TRUE(monitor.snapshot()->healthy);

    store_ok = false;
    monitor.check_now();
    auto snap = monitor.snapshot();
    EXPECT_FALSE(snap->healthy);
    ASSERT_EQ(snap->components.size(), 2u);
    EXPECT_EQ(snap->components[0].name, "storage");
    EXPECT_FALSE(snap->components[0].healthy);
    EXPECT_EQ(snap->components[0].detail, "database file is missing");
    EXPECT_TRUE(snap->components[1].healthy);
}

TEST(HealthMonitorTest, ThrowingCheckCountsAsUnhealthy) {
    HealthMonitor monitor;
    monitor.add_check("flaky", []() -> Result<void> { throw std::runtime_error("boom"); });
    monitor.start(std::chrono::milliseconds(10));
    auto snap = monitor.snapshot();
    monitor.stop();
    EXPECT_FALSE(snap->healthy);
    EXPECT_EQ(snap->components[0].detail, "boom");
}

}  // namespace
}  // namespace sai::core

namespace sai::core {
namespace {

TEST(HealthMonitorOptionalTest, OptionalFailureDegradesButStaysHealthy) {
    HealthMonitor m;
    bool influx_up = false;
    m.add_check("storage", [] { return Result<void>{}; });
    m.add_optional_check("influxdb", [&]() -> Result<void> {
        if (influx_up) return {};
        return make_error(Errc::Unavailable, "connection refused");
    });
    m.check_now();
    auto snap = m.snapshot();
    EXPECT_TRUE(snap->healthy);
    EXPECT_TRUE(snap->degraded);
    EXPECT_FALSE(snap->components[1].required);
    influx_up = true;
    m.check_now();
    EXPECT_FALSE(m.snapshot()->degraded);
}

}  // namespace
}  // namespace sai::core
