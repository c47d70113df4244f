#include "backends.hpp"

#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::storage {
namespace {

model::Report report(std::string id, std::int64_t created_at, std::string type = "alerts",
                     model::ReportStatus status = model::ReportStatus::Ready, std::string by = "alice") {
    return {std::move(id), std::move(type), "pdf", status, "", std::move(by), created_at, 0, 1000, 2000,
            R"({"host":"web-1"})", 42};
}

class ReportStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SAI_OPEN_BACKEND();
    }
    std::vector<std::string> ids(const ReportQuery& q) {
        std::vector<std::string> out;
        for (const auto& r : store_->reports().list(q).value()) out.push_back(r.id);
        return out;
    }
    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(ReportStoreTest, RoundTripsAndUpdates) {
    auto& reports = store_->reports();
    ASSERT_TRUE(reports.insert(report("a", 10)));
    EXPECT_EQ(reports.insert(report("a", 11)).error().code, core::Errc::Conflict);
    auto got = reports.get("a").value();
    EXPECT_EQ(got.filters, R"({"host":"web-1"})");
    EXPECT_EQ(got.size_bytes, 42);
    got.status = model::ReportStatus::Failed;
    got.error = "disk full";
    got.finished_at = 99;
    ASSERT_TRUE(reports.update(got));
    got = reports.get("a").value();
    EXPECT_EQ(got.status, model::ReportStatus::Failed);
    EXPECT_EQ(got.error, "disk full");
    EXPECT_EQ(got.finished_at, 99);
    EXPECT_EQ(reports.update(report("missing", 1)).error().code, core::Errc::NotFound);
    EXPECT_EQ(reports.get("missing").error().code, core::Errc::NotFound);
    ASSERT_TRUE(reports.remove("a"));
    EXPECT_EQ(reports.remove("a").error().code, core::Errc::NotFound);
}

TEST_P(ReportStoreTest, ListsNewestFirstWithFiltersAndCursor) {
    auto& reports = store_->reports();
    ASSERT_TRUE(reports.insert(report("a", 10)));
    ASSERT_TRUE(reports.insert(report("b", 20, "incident", model::ReportStatus::Queued, "bob")));
    ASSERT_TRUE(reports.insert(report("c", 20)));  // same time as b: the id breaks the tie
    ASSERT_TRUE(reports.insert(report("d", 30, "alerts", model::ReportStatus::Running)));
    EXPECT_EQ(ids({}), (std::vector<std::string>{"d", "c", "b", "a"}));
    EXPECT_EQ(ids({.limit = 2}), (std::vector<std::string>{"d", "c"}));
    EXPECT_EQ(ids({.before = std::pair{std::int64_t{20}, std::string("c")}, .limit = 2}),
              (std::vector<std::string>{"b", "a"}));
    EXPECT_EQ(ids({.type = "incident"}), (std::vector<std::string>{"b"}));
    EXPECT_EQ(ids({.status = model::ReportStatus::Ready}), (std::vector<std::string>{"c", "a"}));
    EXPECT_EQ(ids({.created_by = "bob"}), (std::vector<std::string>{"b"}));

    std::vector<std::string> old;
    for (const auto& r : reports.created_before(25, 10).value()) old.push_back(r.id);
    EXPECT_EQ(old, (std::vector<std::string>{"a", "b", "c"}));
    std::vector<std::string> unfinished;
    for (const auto& r : reports.unfinished().value()) unfinished.push_back(r.id);
    EXPECT_EQ(unfinished, (std::vector<std::string>{"b", "d"}));
}

INSTANTIATE_TEST_SUITE_P(Backends, ReportStoreTest, testing_backends::kBackends, testing_backends::backend_name);

}  // namespace
}  // namespace sai::storage
