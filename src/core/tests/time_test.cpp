#include "core/time.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <random>
#include <vector>

namespace sai::core {
namespace {

TEST(TimeTest, FormatsUtcWithMilliseconds) {
    const TimePoint t{std::chrono::milliseconds(1'764'408'000'123)};
    EXPECT_EQ(format_rfc3339(t), "2025-11-29T09:20:00.123Z");
}

TEST(TimeTest, FormatsEveryYearAsTheCLibraryDoes) {
    std::mt19937_64 rng(7);
    // Year 0000 to 9999, before and after 1970, plus the edges of days and years.
    std::uniform_int_distribution<std::int64_t> any_ms(-62'167'219'200'000, 253'402'300'799'999);
    std::vector<std::int64_t> times = {0, -1, 86'399'999, 86'400'000, 951'782'400'000, 253'402'300'799'999};
    for (int i = 0; i < 100'000; ++i) {
        times.push_back(any_ms(rng));
    }
    for (const std::int64_t ms : times) {
        std::time_t secs = static_cast<std::time_t>(ms / 1000);
        int frac = static_cast<int>(ms % 1000);
        if (frac < 0) {
            frac += 1000;
            --secs;
        }
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char expected[64];
        std::snprintf(expected, sizeof expected, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        ASSERT_EQ(format_rfc3339_ms(ms), expected) << ms;
    }
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
