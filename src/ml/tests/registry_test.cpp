#include "ml/registry.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace sai::ml {
namespace {

ModelInfo with_metrics(std::map<std::string, double> metrics) {
    ModelInfo info;
    info.metrics = std::move(metrics);
    return info;
}

TEST(PromotionRuleTest, NotWorseBeyondToleranceOrForced) {
    const auto active = with_metrics({{"accuracy", 0.80}, {"macro_f1", 0.60}});
    const PromotionPolicy policy{.tolerance = 0.01};
    EXPECT_TRUE(promote_if_not_worse(with_metrics({{"accuracy", 0.795}, {"macro_f1", 0.65}}), &active, policy).promote);
    auto worse = promote_if_not_worse(with_metrics({{"accuracy", 0.85}, {"macro_f1", 0.58}}), &active, policy);
    EXPECT_FALSE(worse.promote);
    EXPECT_NE(worse.reason.find("macro_f1"), std::string::npos) << worse.reason;
    EXPECT_TRUE(promote_if_not_worse(with_metrics({{"accuracy", 0.1}}), &active, {.force = true}).promote);
    EXPECT_TRUE(promote_if_not_worse(with_metrics({}), nullptr, policy).promote);
    // A required metric the candidate lacks blocks; no common metric blocks.
    EXPECT_FALSE(promote_if_not_worse(with_metrics({{"accuracy", 0.9}}), &active,
                                      {.tolerance = 0.01, .metrics = {"macro_f1"}})
                     .promote);
    EXPECT_FALSE(promote_if_not_worse(with_metrics({{"auc", 0.9}}), &active, policy).promote);
}

class ModelRegistryTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::path(testing::TempDir()) / "ModelRegistryTest" /
               testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static Model iforest(std::uint64_t seed) {
        Model m;
        m.kind = ModelKind::IsolationForest;
        m.schema_name = "event";
        m.feature_names = {"x", "y"};
        auto data = testdata::cluster_with_outlier(100, 3, 3, seed);
        m.isolation_forest = std::make_shared<const IsolationForest>(
            IsolationForest::fit(data, {.n_estimators = 10, .random_state = seed}).value());
        return m;
    }

    std::filesystem::path dir_;
};

TEST_F(ModelRegistryTest, PromotesRetiresRollsBackAndSurvivesReopen) {
    auto reg = ModelRegistry::open(dir_).value();
    EXPECT_EQ(reg->active(ModelKind::IsolationForest), nullptr);

    auto v1 = reg->add(iforest(1), {.rows = 100, .metrics = {{"auc", 0.90}}});
    ASSERT_TRUE(v1) << v1.error().detail;
    EXPECT_EQ(v1->id, "isolation_forest-v1");
    EXPECT_EQ(v1->status, ModelStatus::Candidate);
    ASSERT_TRUE(reg->promote(v1->id, {}).value().promote);  // nothing active yet
    auto first = reg->active(ModelKind::IsolationForest);
    ASSERT_NE(first, nullptr);

    auto v2 = reg->add(iforest(2), {.rows = 100, .metrics = {{"auc", 0.85}}});
    ASSERT_TRUE(v2);
    EXPECT_EQ(v2->version, 2u);
    auto refused = reg->promote(v2->id, {.tolerance = 0.01});
    ASSERT_TRUE(refused);
    EXPECT_FALSE(refused->promote);
    EXPECT_EQ(reg->active(ModelKind::IsolationForest), first);  // unchanged

    ASSERT_TRUE(reg->promote(v2->id, {.force = true}).value().promote);
    EXPECT_NE(reg->active(ModelKind::IsolationForest), first);
    EXPECT_EQ(reg->get(v1->id)->status, ModelStatus::Retired);
    // The old pointer stays valid for whoever still holds it.
    const std::vector<float> row{0.0f, 0.0f};
    EXPECT_GT(first->isolation_forest->score(row), 0.0);

    auto back = reg->rollback(ModelKind::IsolationForest);
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(back->id, v1->id);
    EXPECT_EQ(reg->get(v2->id)->status, ModelStatus::Retired);
    EXPECT_FALSE(reg->rollback(ModelKind::IsolationForest));  // nothing older than v1

    reg.reset();
    auto reopened = ModelRegistry::open(dir_).value();
    EXPECT_EQ(reopened->list().size(), 2u);
    ASSERT_TRUE(reopened->active_info(ModelKind::IsolationForest));
    EXPECT_EQ(reopened->active_info(ModelKind::IsolationForest)->id, v1->id);
    EXPECT_EQ(reopened->get(v1->id)->metrics.at("auc"), 0.90);
    EXPECT_NE(reopened->active(ModelKind::IsolationForest), nullptr);
    EXPECT_EQ(reopened->active(ModelKind::RandomForest), nullptr);
}

TEST_F(ModelRegistryTest, CorruptModelFileIsAnErrorAndKeepsTheActiveModel) {
    auto reg = ModelRegistry::open(dir_).value();
    auto v1 = reg->add(iforest(1), {.metrics = {{"auc", 0.9}}}).value();
    ASSERT_TRUE(reg->activate(v1.id));
    auto v2 = reg->add(iforest(2), {.metrics = {{"auc", 0.95}}}).value();
    std::ofstream(dir_ / (v2.id + ".saim"), std::ios::binary | std::ios::trunc) << "garbage";
    auto promoted = reg->promote(v2.id, {});
    ASSERT_FALSE(promoted);
    EXPECT_EQ(reg->active_info(ModelKind::IsolationForest)->id, v1.id);
    EXPECT_FALSE(reg->activate("random_forest-v9"));
}

TEST_F(ModelRegistryTest, ReadersSeeAWholeModelWhileItIsSwapped) {
    auto reg = ModelRegistry::open(dir_).value();
    std::vector<std::string> ids;
    for (std::uint64_t seed = 1; seed <= 3; ++seed) ids.push_back(reg->add(iforest(seed), {}).value().id);
    ASSERT_TRUE(reg->activate(ids[0]));
    std::atomic<bool> stop{false};
    std::atomic<long> scored{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 3; ++t) {
        readers.emplace_back([&] {
            const std::vector<float> row{0.5f, -0.5f};
            while (!stop) {
                auto model = reg->active(ModelKind::IsolationForest);
                ASSERT_NE(model, nullptr);
                const double s = model->isolation_forest->score(row);
                ASSERT_GT(s, 0.0);
                ASSERT_LE(s, 1.0);
                ++scored;
            }
        });
    }
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(reg->activate(ids[static_cast<std::size_t>(i % 3)]));
    stop = true;
    for (auto& r : readers) r.join();
    EXPECT_GT(scored.load(), 0);
    EXPECT_EQ(reg->active_info(ModelKind::IsolationForest)->id, ids[29 % 3]);
}

}  // namespace
}  // namespace sai::ml
