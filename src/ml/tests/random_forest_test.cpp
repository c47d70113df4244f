#include "ml/random_forest.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace sai::ml {
namespace {

const std::vector<std::string> kTwo{"no", "yes"};

TEST(RandomForestTest, OneTreeOnFourPointsSplitsHalfwayByHand) {
    // x = 1 2 3 4, y = 0 0 1 1: the best Gini split is x <= 2.5, two pure leaves.
    Matrix m(4, 1);
    m.values = {1, 2, 3, 4};
    const std::vector<std::int32_t> y{0, 0, 1, 1};
    auto f = RandomForest::fit(m, y, kTwo, {.n_estimators = 1, .max_features = "all", .bootstrap = false});
    ASSERT_TRUE(f) << f.error().detail;
    EXPECT_EQ(f->node_count(), 3u);
    std::vector<double> p(2);
    const std::vector<float> a{2.4f}, b{2.6f};
    EXPECT_EQ(f->predict_proba(a, p), 0u);
    EXPECT_DOUBLE_EQ(p[0], 1.0);
    EXPECT_EQ(f->predict_proba(b, p), 1u);
    EXPECT_DOUBLE_EQ(p[1], 1.0);
}

TEST(RandomForestTest, MinSamplesLeafAndBalancedWeightsShapeTheLeaf) {
    // 1 "yes" among 4 rows; min_samples_split above the row count keeps the root a leaf.
    Matrix m(4, 1);
    m.values = {1, 2, 3, 4};
    const std::vector<std::int32_t> y{0, 0, 0, 1};
    std::vector<double> p(2);
    auto plain = RandomForest::fit(m, y, kTwo, {.n_estimators = 1, .min_samples_split = 10, .bootstrap = false});
    ASSERT_TRUE(plain);
    plain->predict_proba(m.row(0), p);
    EXPECT_DOUBLE_EQ(p[1], 0.25);
    auto balanced = RandomForest::fit(
        m, y, kTwo, {.n_estimators = 1, .min_samples_split = 10, .bootstrap = false, .class_weight_balanced = true});
    ASSERT_TRUE(balanced);
    balanced->predict_proba(m.row(0), p);
    EXPECT_DOUBLE_EQ(p[1], 0.5);
    // min_samples_leaf = 3 forbids any split of 4 rows.
    auto leafy = RandomForest::fit(m, y, kTwo, {.n_estimators = 1, .min_samples_leaf = 3, .bootstrap = false});
    ASSERT_TRUE(leafy);
    EXPECT_EQ(leafy->node_count(), 1u);
}

TEST(RandomForestTest, LearnsAThresholdAndRanksTheInformativeFeature) {
    std::vector<std::int32_t> y;
    auto m = testdata::threshold_data(2000, y);
    auto f = RandomForest::fit(m, y, kTwo, {.random_state = 1});
    ASSERT_TRUE(f);
    std::vector<std::int32_t> yt;
    auto test = testdata::threshold_data(500, yt, 99);
    std::vector<double> p(test.rows * 2);
    f->predict_proba_batch(test, p);
    int correct = 0;
    for (std::size_t i = 0; i < test.rows; ++i) {
        EXPECT_NEAR(p[i * 2] + p[i * 2 + 1], 1.0, 1e-9);
        correct += (p[i * 2 + 1] > 0.5) == (yt[i] == 1);
        std::vector<double> one(2);
        f->predict_proba(test.row(i), one);
        EXPECT_NEAR(one[1], p[i * 2 + 1], 1e-12);
    }
    EXPECT_GT(correct, 485);
    EXPECT_GT(f->feature_importances()[0], 0.8);
    EXPECT_NEAR(f->feature_importances()[0] + f->feature_importances()[1], 1.0, 1e-9);

    const std::vector<std::string> names{"x0", "x1"};
    const std::vector<float> row{0.9f, 0.5f};
    auto e = f->explain(row, 1, 2, names);
    ASSERT_FALSE(e.empty());
    EXPECT_EQ(e[0].name, "x0");
    EXPECT_GT(e[0].value, 0.3);  // pushes "yes" up from the ~0.5 prior
}

TEST(RandomForestTest, BatchEqualsOneRowOnDeepUnbalancedTrees) {
    // Labels that are pure noise grow deep, unbalanced trees: the batch walk
    // drops rows that reached their leaf early, which must not change a leaf.
    Matrix m(1500, 3);
    std::vector<std::int32_t> y(m.rows);
    std::uint32_t state = 12345;
    const auto next = [&state] { return state = state * 1664525u + 1013904223u; };
    for (std::size_t i = 0; i < m.rows; ++i) {
        for (std::size_t c = 0; c < m.cols; ++c) m.values[i * m.cols + c] = static_cast<float>(next() % 1000) / 10.0f;
        y[i] = static_cast<std::int32_t>(next() >> 31);
    }
    auto f = RandomForest::fit(m, y, kTwo, {.n_estimators = 10, .random_state = 3});
    ASSERT_TRUE(f);
    ASSERT_GT(f->node_count(), 10u * 600u);  // ~1,000 distinct rows per tree: far deeper than 8 levels
    std::vector<double> batch(m.rows * 2);
    f->predict_proba_batch(m, batch, 1);
    for (std::size_t i = 0; i < m.rows; ++i) {
        std::vector<double> one(2);
        f->predict_proba(m.row(i), one);
        ASSERT_EQ(one[0], batch[i * 2]) << "row " << i;
        ASSERT_EQ(one[1], batch[i * 2 + 1]) << "row " << i;
    }
    // Three threads take the 1,500 rows in chunks (one whole, one partial):
    // every row is scored, and scored the same.
    std::vector<double> threaded(m.rows * 2);
    f->predict_proba_batch(m, threaded, 3);
    EXPECT_EQ(threaded, batch);
}

TEST(RandomForestTest, SameSeedSameForestWhateverTheThreads) {
    std::vector<std::int32_t> y;
    auto m = testdata::threshold_data(300, y);
    auto a = RandomForest::fit(m, y, kTwo, {.n_estimators = 10, .random_state = 4}, {.threads = 1});
    auto b = RandomForest::fit(m, y, kTwo, {.n_estimators = 10, .random_state = 4}, {.threads = 3});
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->node_count(), b->node_count());
    EXPECT_EQ(a->feature_importances(), b->feature_importances());
}

TEST(RandomForestTest, BadInputIsAnError) {
    Matrix m(3, 1);
    m.values = {1, 2, 3};
    const std::vector<std::int32_t> one_class{0, 0, 0};
    auto single = RandomForest::fit(m, one_class, kTwo, {});
    ASSERT_FALSE(single);
    EXPECT_NE(single.error().detail.find("single class"), std::string::npos);
    const std::vector<std::int32_t> out_of_range{0, 1, 2};
    EXPECT_FALSE(RandomForest::fit(m, out_of_range, kTwo, {}));
    const std::vector<std::int32_t> short_labels{0, 1};
    EXPECT_FALSE(RandomForest::fit(m, short_labels, kTwo, {}));
    const std::vector<std::int32_t> ok{0, 1, 1};
    EXPECT_FALSE(RandomForest::fit(m, ok, kTwo, {.max_features = "many"}));
    EXPECT_FALSE(RandomForest::fit(Matrix{}, {}, kTwo, {}));
}

TEST(RandomForestTest, MaxFeaturesResolvesLikeSklearn) {
    EXPECT_EQ(resolve_max_features("sqrt", 118).value(), 10u);
    EXPECT_EQ(resolve_max_features("log2", 118).value(), 6u);
    EXPECT_EQ(resolve_max_features("0.5", 118).value(), 59u);
    EXPECT_EQ(resolve_max_features("7", 118).value(), 7u);
    EXPECT_EQ(resolve_max_features("all", 118).value(), 118u);
    EXPECT_FALSE(resolve_max_features("-1", 118));
}

}  // namespace
}  // namespace sai::ml
