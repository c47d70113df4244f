#include "ml/drift.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

namespace sai::ml {
namespace {

std::vector<double> range(int from, int to) {
    std::vector<double> v(static_cast<std::size_t>(to - from));
    std::iota(v.begin(), v.end(), from);
    return v;
}

TEST(DriftTest, SameDistributionHasZeroPsi) {
    const auto ref = range(0, 100);
    EXPECT_NEAR(psi(ref, ref), 0.0, 1e-12);
    EXPECT_EQ(drift_status(psi(ref, ref)), DriftStatus::Ok);
}

TEST(DriftTest, TwoBinsWorkedByHand) {
    // Reference 0..99 in two bins (<= 49, > 49), shares .5/.5. Current: 75 of
    // 100 values in the first bin: PSI = (.75-.5) ln(.75/.5) + (.25-.5) ln(.25/.5).
    const auto ref = range(0, 100);
    auto cur = range(0, 50);
    for (int i = 0; i < 25; ++i) cur.push_back(10);
    for (int i = 0; i < 25; ++i) cur.push_back(80);
    const double expected = 0.25 * std::log(1.5) + (-0.25) * std::log(0.5);
    EXPECT_NEAR(psi(ref, cur, 2), expected, 1e-12);
    EXPECT_NEAR(expected, 0.2747, 1e-4);
    EXPECT_EQ(drift_status(expected), DriftStatus::Drift);

    // Everything in one bin: the empty bin is floored at 1e-4, so PSI stays finite.
    const auto low = range(0, 50);
    const double floored = 0.5 * std::log(2.0) + (1e-4 - 0.5) * std::log(1e-4 / 0.5);
    EXPECT_NEAR(psi(ref, low, 2), floored, 1e-12);
}

TEST(DriftTest, ThresholdsAndProfile) {
    EXPECT_EQ(drift_status(0.05), DriftStatus::Ok);
    EXPECT_EQ(drift_status(0.1), DriftStatus::Warning);
    EXPECT_EQ(drift_status(0.24), DriftStatus::Warning);
    EXPECT_EQ(drift_status(0.25), DriftStatus::Drift);
    EXPECT_EQ(to_string(DriftStatus::Warning), "warning");

    const auto profile = DriftProfile::build(range(0, 1000), 10);
    EXPECT_EQ(profile.edges().size(), 9u);
    for (double s : profile.shares()) EXPECT_NEAR(s, 0.1, 1e-12);
    EXPECT_NEAR(profile.psi(range(0, 1000)), 0.0, 1e-12);
    EXPECT_GT(profile.psi(range(500, 1500)), 0.25);

    // A constant reference has one bin; no crash, no drift for the same constant.
    const std::vector<double> constant(50, 3.0);
    EXPECT_NEAR(psi(constant, constant), 0.0, 1e-12);
    EXPECT_EQ(psi({}, constant), 0.0);
}

TEST(DriftTest, PerFeatureDriftNamesTheShiftedColumn) {
    Matrix ref(200, 2), cur(200, 2);
    for (std::size_t r = 0; r < 200; ++r) {
        ref.values[r * 2] = cur.values[r * 2] = static_cast<float>(r);
        ref.values[r * 2 + 1] = static_cast<float>(r);
        cur.values[r * 2 + 1] = static_cast<float>(r + 150);
    }
    const std::vector<std::string> names{"stable", "shifted"};
    auto d = feature_drift(ref, cur, names);
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[0].status, DriftStatus::Ok);
    EXPECT_EQ(d[1].feature, "shifted");
    EXPECT_EQ(d[1].status, DriftStatus::Drift);
}

}  // namespace
}  // namespace sai::ml
