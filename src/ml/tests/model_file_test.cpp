#include "ml/model_file.hpp"

#include "test_data.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace sai::ml {
namespace {

Model isolation_model() {
    auto m = testdata::cluster_with_outlier(200, 5, 5);
    Model model;
    model.kind = ModelKind::IsolationForest;
    model.feature_names = {"x", "y"};
    model.encoder = TabularEncoder({{"x"}, {"y"}});
    model.isolation_forest =
        std::make_shared<const IsolationForest>(IsolationForest::fit(m, {.n_estimators = 20, .contamination = 0.1}).value());
    return model;
}

Model forest_model() {
    std::vector<std::int32_t> y;
    auto m = testdata::threshold_data(300, y);
    Model model;
    model.kind = ModelKind::RandomForest;
    model.schema_name = "event";
    model.schema_version = 3;
    model.feature_names = {"a", "b"};
    model.label_column = "class";
    model.random_forest = std::make_shared<const RandomForest>(
        RandomForest::fit(m, y, {"benign", "malicious"}, {.n_estimators = 15}).value());
    return model;
}

TEST(ModelFileTest, IsolationForestRoundTripsThroughAFile) {
    const auto model = isolation_model();
    const auto path = std::filesystem::path(testing::TempDir()) / "if_roundtrip.saim";
    ASSERT_TRUE(save_model(model, path));
    auto loaded = load_model(path);
    ASSERT_TRUE(loaded) << loaded.error().detail;
    EXPECT_EQ(loaded->kind, ModelKind::IsolationForest);
    EXPECT_EQ(loaded->feature_names, model.feature_names);
    ASSERT_TRUE(loaded->encoder);
    EXPECT_EQ(loaded->encoder->feature_names(), model.feature_names);
    EXPECT_DOUBLE_EQ(loaded->isolation_forest->threshold(), model.isolation_forest->threshold());
    const std::vector<float> row{1.5f, -0.5f};
    EXPECT_DOUBLE_EQ(loaded->isolation_forest->score(row), model.isolation_forest->score(row));
    EXPECT_EQ(loaded->isolation_forest->params().n_estimators, 20);
    std::filesystem::remove(path);
}

TEST(ModelFileTest, RandomForestRoundTripsInMemory) {
    const auto model = forest_model();
    auto loaded = deserialize_model(serialize_model(model));
    ASSERT_TRUE(loaded) << loaded.error().detail;
    EXPECT_EQ(loaded->schema_name, "event");
    EXPECT_EQ(loaded->schema_version, 3u);
    EXPECT_EQ(loaded->label_column, "class");
    EXPECT_EQ(loaded->random_forest->classes(), model.random_forest->classes());
    EXPECT_EQ(loaded->random_forest->feature_importances(), model.random_forest->feature_importances());
    std::vector<double> a(2), b(2);
    const std::vector<float> row{0.7f, 0.2f};
    model.random_forest->predict_proba(row, a);
    loaded->random_forest->predict_proba(row, b);
    EXPECT_EQ(a, b);
}

TEST(ModelFileTest, CorruptionIsDetectedWithAClearError) {
    const std::string good = serialize_model(forest_model());
    std::string flipped = good;
    flipped[good.size() / 2] ^= 0x40;
    auto r = deserialize_model(flipped);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("checksum"), std::string::npos) << r.error().detail;

    auto truncated = deserialize_model(std::string_view(good).substr(0, good.size() - 10));
    ASSERT_FALSE(truncated);
    EXPECT_NE(truncated.error().detail.find("truncated"), std::string::npos) << truncated.error().detail;

    EXPECT_FALSE(deserialize_model("not a model at all, just text"));
    std::string future = good;
    future[8] = 9;  // format version 9
    auto version = deserialize_model(reseal_model_bytes(future));
    ASSERT_FALSE(version);
    EXPECT_NE(version.error().detail.find("version 9"), std::string::npos);
}

TEST(ModelFileTest, ResealedGarbageNeverCrashesTheParser) {
    // Past the checksum, the payload parser must still reject nonsense
    // (cyclic or out-of-range children, huge lengths) without crashing.
    const std::string good = serialize_model(isolation_model());
    std::mt19937_64 rng(11);
    int rejected = 0;
    for (int i = 0; i < 3000; ++i) {
        std::string bad = good;
        for (int k = 0; k < 4; ++k) bad[20 + rng() % (bad.size() - 24)] = static_cast<char>(rng());
        auto r = deserialize_model(reseal_model_bytes(bad));
        if (!r) {
            ++rejected;
        } else {
            // A model that loads must be usable.
            const std::vector<float> row(r->n_features(), 0.5f);
            if (r->isolation_forest) (void)r->isolation_forest->score(row);
        }
    }
    EXPECT_GT(rejected, 100);
}

TEST(ModelFileTest, SchemaMismatchAndMissingFile) {
    const auto model = forest_model();
    EXPECT_TRUE(model.check_schema("event", 3, 2));
    auto other = model.check_schema("event", 4, 2);
    ASSERT_FALSE(other);
    EXPECT_NE(other.error().detail.find("'event' v3"), std::string::npos) << other.error().detail;
    auto missing = load_model("/nonexistent/model.saim");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, core::Errc::NotFound);
}

}  // namespace
}  // namespace sai::ml
