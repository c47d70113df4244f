#include "backends.hpp"

#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::storage {
namespace {

class MlStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SAI_OPEN_BACKEND();
    }
    static MlModelRecord model(std::string type, std::int64_t version, std::string status) {
        MlModelRecord m;
        m.id = type + "-v" + std::to_string(version);
        m.type = std::move(type);
        m.version = version;
        m.created_at = 1000 * version;
        m.window_from = 10;
        m.window_to = 20;
        m.rows = 300;
        m.params = R"({"n_estimators":"100"})";
        m.schema_name = "event";
        m.schema_version = 1;
        m.metrics = R"({"auc":0.9})";
        m.status = std::move(status);
        m.training_id = "job-" + std::to_string(version);
        return m;
    }
    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(MlStoreTest, ModelsAreUpsertedAndListedByTypeAndVersion) {
    auto& ml = store_->ml();
    ASSERT_TRUE(ml.upsert_model(model("random_forest", 1, "active")));
    ASSERT_TRUE(ml.upsert_model(model("isolation_forest", 2, "active")));
    ASSERT_TRUE(ml.upsert_model(model("isolation_forest", 1, "active")));
    ASSERT_TRUE(ml.upsert_model(model("isolation_forest", 1, "retired")));  // replaces
    auto all = ml.models().value();
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, "isolation_forest-v1");
    EXPECT_EQ(all[0].status, "retired");
    EXPECT_EQ(all[1].id, "isolation_forest-v2");
    EXPECT_EQ(all[2].id, "random_forest-v1");
    EXPECT_EQ(all[1].params, R"({"n_estimators":"100"})");
    EXPECT_EQ(all[1].metrics, R"({"auc":0.9})");
    EXPECT_EQ((std::tuple{all[1].window_from, all[1].window_to, all[1].rows, all[1].schema_version}),
              (std::tuple{10, 20, 300, 1}));
    EXPECT_EQ(all[1].training_id, "job-2");
    EXPECT_FALSE(ml.upsert_model(model("isolation_forest", 3, "deleted")));  // status is checked
}

TEST_P(MlStoreTest, TrainingJobsNewestFirstWithALimit) {
    auto& ml = store_->ml();
    for (int i = 1; i <= 4; ++i) {
        ASSERT_TRUE(ml.upsert_training_job({"0000000" + std::to_string(i), "queued", i, 0, "{}"}));
    }
    ASSERT_TRUE(ml.upsert_training_job({"00000002", "succeeded", 2, 9, R"({"progress":100})"}));
    auto jobs = ml.training_jobs(3).value();
    ASSERT_EQ(jobs.size(), 3u);
    EXPECT_EQ(jobs[0].id, "00000004");
    EXPECT_EQ(jobs[2].id, "00000002");
    EXPECT_EQ(jobs[2].state, "succeeded");
    EXPECT_EQ(jobs[2].finished_at, 9);
    EXPECT_EQ(jobs[2].job, R"({"progress":100})");
    EXPECT_FALSE(ml.upsert_training_job({"00000005", "paused", 5, 0, "{}"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, MlStoreTest, testing_backends::kBackends, testing_backends::backend_name);

}  // namespace
}  // namespace sai::storage
