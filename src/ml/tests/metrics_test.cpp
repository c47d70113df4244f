#include "ml/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace sai::ml {
namespace {

TEST(MetricsTest, RocAucByHand) {
    // Positive pairs (0.35 vs 0.1, 0.4) and (0.8 vs 0.1, 0.4): 3 of 4 ordered right.
    const std::vector<double> s{0.1, 0.4, 0.35, 0.8};
    const std::vector<std::uint8_t> y{0, 0, 1, 1};
    EXPECT_DOUBLE_EQ(roc_auc(s, y), 0.75);
    const std::vector<double> tie{0.5, 0.5};
    EXPECT_DOUBLE_EQ(roc_auc(tie, std::vector<std::uint8_t>{0, 1}), 0.5);
    EXPECT_TRUE(std::isnan(roc_auc(tie, std::vector<std::uint8_t>{1, 1})));
}

TEST(MetricsTest, ClassificationReportByHand) {
    // truth 0 0 1 1 2, predicted 0 1 1 1 1: class 0 P=1 R=.5 F1=2/3; class 1 P=.5 R=1 F1=2/3; class 2 F1=0.
    const std::vector<std::int32_t> t{0, 0, 1, 1, 2}, p{0, 1, 1, 1, 1};
    auto r = classification_report(t, p, 3);
    EXPECT_DOUBLE_EQ(r.accuracy, 0.6);
    EXPECT_NEAR(r.macro_f1, (2.0 / 3 + 2.0 / 3 + 0) / 3, 1e-12);
    EXPECT_DOUBLE_EQ(r.recall[0], 0.5);
    EXPECT_DOUBLE_EQ(r.recall[1], 1.0);
    EXPECT_DOUBLE_EQ(r.precision[1], 0.5);
    EXPECT_EQ(r.support[2], 1u);
}

}  // namespace
}  // namespace sai::ml
