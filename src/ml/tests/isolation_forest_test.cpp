#include "ml/isolation_forest.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

namespace sai::ml {
namespace {

TEST(IsolationForestTest, AveragePathLengthByHand) {
    EXPECT_DOUBLE_EQ(average_path_length(1), 0.0);
    EXPECT_DOUBLE_EQ(average_path_length(2), 1.0);
    // c(256) = 2 (ln 255 + γ) - 2 * 255 / 256
    EXPECT_NEAR(average_path_length(256), 10.244770, 1e-5);
    EXPECT_NEAR(average_path_length(4), 2 * (std::log(3.0) + 0.5772156649) - 1.5, 1e-9);
}

TEST(IsolationForestTest, TwoPointsAreIsolatedAtDepthOneSoScoreIsOneHalf) {
    // Every tree splits {0, 1} once: h = 1 for both, c(2) = 1, s = 2^-1.
    Matrix m(2, 1);
    m.values = {0.0f, 1.0f};
    auto f = IsolationForest::fit(m, {.n_estimators = 10, .max_samples = 2});
    ASSERT_TRUE(f) << f.error().detail;
    EXPECT_DOUBLE_EQ(f->score(m.row(0)), 0.5);
    EXPECT_DOUBLE_EQ(f->score(m.row(1)), 0.5);
}

TEST(IsolationForestTest, ConstantDataIsOneLeafScoringOneHalf) {
    // No feature can split: the root is a leaf of 4, h = c(4), s = 2^-1.
    Matrix m(4, 2);
    std::fill(m.values.begin(), m.values.end(), 3.0f);
    auto f = IsolationForest::fit(m, {.n_estimators = 5});
    ASSERT_TRUE(f);
    EXPECT_EQ(f->node_count(), 5u);
    EXPECT_NEAR(f->score(m.row(0)), 0.5, 1e-6);
}

TEST(IsolationForestTest, OutlierScoresAboveEveryInlier) {
    auto m = testdata::cluster_with_outlier(500, 8.0f, -8.0f);
    auto f = IsolationForest::fit(m, {.random_state = 1});
    ASSERT_TRUE(f);
    std::vector<double> s(m.rows);
    f->score_batch(m, s);
    const double outlier = s.back();
    EXPECT_GT(outlier, 0.7);
    EXPECT_LT(*std::max_element(s.begin(), s.end() - 1), outlier);
    for (std::size_t i = 0; i < m.rows; i += 37) EXPECT_DOUBLE_EQ(s[i], f->score(m.row(i)));
}

TEST(IsolationForestTest, SameSeedSameForestWhateverTheThreads) {
    auto m = testdata::cluster_with_outlier(300, 4.0f, 4.0f);
    auto a = IsolationForest::fit(m, {.random_state = 42}, {.threads = 1});
    auto b = IsolationForest::fit(m, {.random_state = 42}, {.threads = 4});
    auto c = IsolationForest::fit(m, {.random_state = 43}, {.threads = 1});
    ASSERT_TRUE(a && b && c);
    EXPECT_DOUBLE_EQ(a->score(m.row(5)), b->score(m.row(5)));
    EXPECT_NE(a->score(m.row(5)), c->score(m.row(5)));
}

TEST(IsolationForestTest, ContaminationSetsTheThreshold) {
    auto m = testdata::cluster_with_outlier(999, 6.0f, 6.0f);
    auto f = IsolationForest::fit(m, {.contamination = 0.05, .random_state = 3});
    ASSERT_TRUE(f);
    std::vector<double> s(m.rows);
    f->score_batch(m, s);
    const auto flagged = std::count_if(s.begin(), s.end(), [&](double v) { return f->is_anomaly(v); });
    EXPECT_NEAR(static_cast<double>(flagged), 50.0, 2.0);
    EXPECT_TRUE(f->is_anomaly(s.back()));
}

TEST(IsolationForestTest, ExplanationNamesTheFeatureThatIsolates) {
    auto m = testdata::cluster_with_outlier(500, 0.0f, 9.0f);  // unusual in y only
    auto f = IsolationForest::fit(m, {.random_state = 5});
    ASSERT_TRUE(f);
    const std::vector<std::string> names{"x", "y"};
    auto e = f->explain(m.row(m.rows - 1), 2, names);
    ASSERT_FALSE(e.empty());
    EXPECT_EQ(e[0].name, "y");
    EXPECT_GT(e[0].value, 1.0);
    if (e.size() > 1) {
        EXPECT_GT(e[0].value, 2 * e[1].value);
    }
}

TEST(IsolationForestTest, BadInputAndCancellationAreErrors) {
    EXPECT_FALSE(IsolationForest::fit(Matrix{}, {}));
    Matrix nan(2, 1);
    nan.values = {1.0f, NAN};
    EXPECT_FALSE(IsolationForest::fit(nan, {}));
    auto m = testdata::cluster_with_outlier(100, 1, 1);
    EXPECT_FALSE(IsolationForest::fit(m, {.n_estimators = 0}));
    EXPECT_FALSE(IsolationForest::fit(m, {.contamination = 0.9}));

    std::atomic<bool> cancel{true};
    auto cancelled = IsolationForest::fit(m, {}, {.cancel = &cancel});
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().code, core::Errc::Unavailable);
}

TEST(IsolationForestTest, ProgressReachesOne) {
    auto m = testdata::cluster_with_outlier(100, 1, 1);
    double last = 0;
    int calls = 0;
    auto f = IsolationForest::fit(m, {.n_estimators = 20}, {.progress = [&](double p) {
        EXPECT_GE(p, last);
        last = p;
        ++calls;
    }});
    ASSERT_TRUE(f);
    EXPECT_EQ(calls, 20);
    EXPECT_DOUBLE_EQ(last, 1.0);
}

}  // namespace
}  // namespace sai::ml
