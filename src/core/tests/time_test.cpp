#include "core/time.hpp"

#include <gtest/gtest.h>

namespace sai::core {
namespace {

TEST(TimeTest, FormatsUtcWithMilliseconds) {
    const TimePoint t{std::chrono::milliseconds(1'764'408'000'123)};
    EXPECT_EQ(format_rfc3339(t), "2025-11-29T09:20:00.123Z");
}

TEST(TimeTest, ParsesZuluOffsetsAndFractions) {
    const TimePoint expected{std::chrono::milliseconds(1'764'408'000'123)};
    EXPECT_EQ(parse_rfc3339("2025-11-29T09:20:00.123Z"), expected);
    EXPECT_EQ(parse_rfc3339("2025-11-29T10:20:00.123+01:00"), expected);
    EXPECT_EQ(parse_rfc3339("2025-11-29T09:20:00Z"), TimePoint{std::chrono::seconds(1'764'408'000)});
}

TEST(TimeTest, RejectsMalformedTimes) {
    EXPECT_FALSE(parse_rfc3339(""));
    EXPECT_FALSE(parse_rfc3339("2025-11-29"));
    EXPECT_FALSE(parse_rfc3339("2025-02-30T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2025-11-29T25:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2025-11-29T09:20:00"));
    EXPECT_FALSE(parse_rfc3339("2025-11-29T09:20:00Zjunk"));
    EXPECT_FALSE(parse_rfc3339("2025-11-29T09:20:00.Z"));
}

TEST(TimeTest, YearsTheClockCannotHoldAreRejectedButStillReadAsMilliseconds) {
    // Nanoseconds in 64 bits end in 2262: a later year must not wrap into the past.
    EXPECT_FALSE(parse_rfc3339("3026-01-01T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("1500-01-01T00:00:00Z"));
    EXPECT_EQ(parse_rfc3339_ms("3026-01-01T00:00:00Z"), 33'324'134'400'000);
    EXPECT_EQ(parse_rfc3339_ms("0001-01-01T00:00:00Z"), -62'135'596'800'000);
    EXPECT_EQ(parse_rfc3339_ms("2025-11-29T10:20:00.123+01:00"), 1'764'408'000'123);
    EXPECT_FALSE(parse_rfc3339_ms("2025-11-29T09:20:00"));
}

}  // namespace
}  // namespace sai::core
