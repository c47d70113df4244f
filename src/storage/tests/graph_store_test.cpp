#include "backends.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::storage {
namespace {

class GraphStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SAI_OPEN_BACKEND();
    }
    model::Asset asset(std::string id, std::string name, std::vector<std::string> tags = {}, bool discovered = false) {
        model::Asset a;
        a.id = std::move(id);
        a.name = std::move(name);
        a.ips = {"10.0.0." + std::to_string(a.name.size())};
        a.hostnames = {a.name + ".corp"};
        a.type = model::AssetType::Workstation;
        a.criticality = 4;
        a.internet_facing = true;
        a.owner = "ops";
        a.tags = std::move(tags);
        a.discovered = discovered;
        a.created_at = 1;
        a.updated_at = 2;
        return a;
    }
    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(GraphStoreTest, AssetsRoundTripAndNamesAreUnique) {
    auto& g = store_->graph();
    ASSERT_TRUE(g.put_asset(asset("a", "web-01", {"dmz"})));
    auto back = g.get_asset("a");
    ASSERT_TRUE(back);
    EXPECT_EQ(back->name, "web-01");
    EXPECT_EQ(back->ips, std::vector<std::string>{"10.0.0.6"});
    EXPECT_EQ(back->hostnames, std::vector<std::string>{"web-01.corp"});
    EXPECT_EQ(back->type, model::AssetType::Workstation);
    EXPECT_EQ(back->criticality, 4);
    EXPECT_TRUE(back->internet_facing);
    EXPECT_EQ(back->tags, std::vector<std::string>{"dmz"});
    EXPECT_EQ(g.find_asset_by_name("WEB-01")->id, "a");  // names compare case-insensitively
    EXPECT_EQ(g.put_asset(asset("b", "web-01")).error().code, core::Errc::Conflict);
    auto renamed = *back;
    renamed.owner = "web";
    ASSERT_TRUE(g.put_asset(renamed));  // replacing itself is fine
    EXPECT_EQ(g.get_asset("a")->owner, "web");
    EXPECT_EQ(g.get_asset("zz").error().code, core::Errc::NotFound);
}

TEST_P(GraphStoreTest, ListFiltersAndPagesAndDeleteReportsMissing) {
    auto& g = store_->graph();
    ASSERT_TRUE(g.put_asset(asset("1", "db-01", {"pci", "db"})));
    ASSERT_TRUE(g.put_asset(asset("2", "db-02", {"db"})));
    ASSERT_TRUE(g.put_asset(asset("3", "10.1.1.1", {}, true)));
    AssetQuery q;
    q.tag = "db";
    EXPECT_EQ(g.list_assets(q)->size(), 2u);
    q = {};
    q.discovered = true;
    ASSERT_EQ(g.list_assets(q)->size(), 1u);
    q = {};
    q.text = "DB-0";
    EXPECT_EQ(g.list_assets(q)->size(), 2u);
    q = {};
    q.limit = 1;
    q.offset = 1;
    auto page = g.list_assets(q);
    ASSERT_EQ(page->size(), 1u);
    EXPECT_EQ((*page)[0].name, "db-01");  // by name: 10.1.1.1, db-01, db-02
    ASSERT_TRUE(g.delete_asset("1"));
    EXPECT_EQ(g.delete_asset("1").error().code, core::Errc::NotFound);
}

TEST_P(GraphStoreTest, OnlyTheLatestSnapshotIsKept) {
    auto& g = store_->graph();
    EXPECT_FALSE(g.load_snapshot().value());
    ASSERT_TRUE(g.save_snapshot({10, std::string("first\0binary", 12)}));
    ASSERT_TRUE(g.save_snapshot({20, "second"}));
    auto s = g.load_snapshot().value();
    ASSERT_TRUE(s);
    EXPECT_EQ(s->created_at, 20);
    EXPECT_EQ(s->data, "second");
}

INSTANTIATE_TEST_SUITE_P(Backends, GraphStoreTest, testing_backends::kBackends, testing_backends::backend_name);

}  // namespace
}  // namespace sai::storage
