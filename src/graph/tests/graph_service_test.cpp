#include "graph/graph_service.hpp"
#include "graph/demo_scenario.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sai::graph {
namespace {

namespace bj = boost::json;
constexpr std::int64_t kT0 = 1'795'000'000'000;
constexpr std::int64_t kMin = 60'000;

model::Event net(const std::string& src, const std::string& dst, int port, std::int64_t ts, std::int64_t bytes = 1000) {
    model::Event e;
    e.id = "n-" + src + "-" + dst + "-" + std::to_string(port) + "-" + std::to_string(ts);
    e.category = "network";
    e.timestamp = ts;
    e.source_ip = src;
    e.destination_ip = dst;
    e.destination_port = port;
    e.source_bytes = bytes;
    return e;
}

model::Event auth(const std::string& user, const std::string& src, const std::string& host, std::int64_t ts,
                  bool ok = true) {
    model::Event e;
    e.id = "a-" + user + "-" + host + "-" + std::to_string(ts);
    e.category = "authentication";
    e.outcome = ok ? "success" : "failure";
    e.timestamp = ts;
    e.user_name = user;
    e.source_ip = src;
    e.host_name = host;
    e.destination_port = 22;
    return e;
}

class GraphServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        o.synchronous = "normal";
        store_ = storage::SqliteStore::open(o).value();
        service_ = make();
        auto started = service_->start();
        ASSERT_TRUE(started) << started.error().detail;
        add_asset(R"({"name": "bastion", "ips": ["10.0.0.10"], "internet_facing": true, "criticality": 3})");
        add_asset(R"({"name": "app-02", "ips": ["10.0.2.12"], "type": "server"})");
        add_asset(R"({"name": "db-01", "ips": ["10.0.3.10"], "criticality": 5, "tags": ["pci"]})");
    }
    std::unique_ptr<GraphService> make() {
        GraphOptions options;
        options.learning_ms = 60 * kMin;
        return std::make_unique<GraphService>(store_->graph(), &store_->alerts(), nullptr, options);
    }
    void add_asset(const char* json) {
        auto a = service_->create_asset(bj::parse(json).as_object(), kT0);
        ASSERT_TRUE(a) << a.error().detail;
    }
    /// Normal traffic in the first hour (learning), then the attack two hours later.
    std::vector<model::Detection> attack() {
        std::vector<model::Event> normal;
        for (int i = 0; i < 20; ++i) {
            normal.push_back(net("10.0.2.12", "10.0.3.10", 5432, kT0 + i * kMin));
            normal.push_back(net("198.51.100.7", "10.0.0.10", 443, kT0 + i * kMin));
        }
        auto d = service_->observe(normal);
        EXPECT_TRUE(d.empty());
        const std::int64_t t = kT0 + 120 * kMin;
        std::vector<model::Event> story;
        for (int i = 0; i < 30; ++i) story.push_back(auth("root", "203.0.113.5", "bastion", t + i * 1000, false));
        story.push_back(auth("deploy", "203.0.113.5", "bastion", t + 40'000));
        story.push_back(net("10.0.0.10", "10.0.2.12", 22, t + 60'000));
        story.push_back(auth("deploy", "10.0.0.10", "app-02", t + 61'000));
        story.push_back(net("10.0.2.12", "10.0.3.10", 22, t + 120'000));
        story.push_back(auth("deploy", "10.0.2.12", "db-01", t + 121'000));
        story.push_back(net("10.0.3.10", "203.0.113.5", 443, t + 200'000, 2'000'000'000));
        return service_->observe(story);
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
    std::unique_ptr<GraphService> service_;
};

TEST_F(GraphServiceTest, TheAttackStoryRaisesLateralMovementAndNewAdminConnections) {
    auto detections = attack();
    std::vector<std::string> rules;
    for (const auto& d : detections) rules.push_back(d.rule_id);
    EXPECT_EQ(std::count(rules.begin(), rules.end(), "graph.lateral_movement"), 1);
    EXPECT_EQ(std::count(rules.begin(), rules.end(), "graph.new_admin_connection"), 2);
    const auto& lm = *std::find_if(detections.begin(), detections.end(),
                                   [](const auto& d) { return d.rule_id == "graph.lateral_movement"; });
    EXPECT_EQ(lm.severity, model::Severity::Critical);
    EXPECT_EQ(bj::parse(lm.explanation).at("path"), bj::parse(R"(["203.0.113.5","bastion","app-02","db-01"])"));
}

TEST_F(GraphServiceTest, AttackPathsRunFromTheExposedHostToTheDatabase) {
    attack();
    AttackPathRequest req;
    auto r = service_->attack_paths(req);
    ASSERT_TRUE(r) << r.error().detail;
    const auto& paths = r->at("paths").as_array();
    ASSERT_FALSE(paths.empty());
    EXPECT_EQ(paths[0].at("nodes"), bj::parse(R"(["host:bastion","host:app-02","host:db-01"])"));
    EXPECT_GT(paths[0].at("risk_score").to_number<double>(), 0);
    EXPECT_EQ(r->at("summary").at("truncated"), false);

    req.source = "host:bastion";
    req.target = "host:db-01";
    req.k = 3;
    auto one = service_->attack_paths(req);
    ASSERT_TRUE(one);
    EXPECT_EQ(one->at("paths").as_array().at(0).at("nodes"), paths[0].at("nodes"));

    req.source = "host:nope";
    EXPECT_EQ(service_->attack_paths(req).error().code, core::Errc::NotFound);
    req.source = "host:db-01";
    req.target = "host:bastion";  // nothing flows back: disconnected
    auto back = service_->attack_paths(req);
    ASSERT_TRUE(back);
    EXPECT_TRUE(back->at("paths").as_array().empty());
    EXPECT_TRUE(back->at("summary").as_object().contains("reason"));
    req.k = 0;
    EXPECT_EQ(service_->attack_paths(req).error().code, core::Errc::InvalidArgument);
    req.k = 5;
    req.max_hops = 11;
    EXPECT_EQ(service_->attack_paths(req).error().code, core::Errc::InvalidArgument);
}

TEST_F(GraphServiceTest, TopologyFiltersAndAggregates) {
    attack();
    TopologyRequest all;
    auto r = service_->topology(all);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->at("summary").at("aggregated"), false);
    TopologyRequest small;
    small.node_limit = 2;
    auto g = service_->topology(small);
    ASSERT_TRUE(g);
    EXPECT_EQ(g->at("summary").at("aggregated"), true);
    bool found_subnet = false;
    for (const auto& n : g->at("nodes").as_array()) found_subnet |= n.at("id") == "subnet:10.0.3.0/24";
    EXPECT_TRUE(found_subnet);
    TopologyRequest sub;
    sub.subnet = "10.0.3.0/24";
    sub.min_bytes = 1'000'000;
    auto s = service_->topology(sub);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->at("summary").at("edges"), 1);  // only the exfiltration is that large
    sub.subnet = "10.0.3.0/33";
    EXPECT_FALSE(service_->topology(sub));
}

TEST_F(GraphServiceTest, ThreatMapAndUserBehaviour) {
    attack();
    auto map = service_->threat_map({});
    bool unknown = false;
    for (const auto& c : map.at("countries").as_array()) {
        if (c.at("country") == "unknown") {
            unknown = true;
            EXPECT_EQ(c.at("failed_logons"), 30);
        }
    }
    EXPECT_TRUE(unknown);  // 203.0.113.5 and 198.51.100.7 are documentation addresses, and no GeoIP here
    auto users = service_->user_behavior({});
    ASSERT_TRUE(users);
    EXPECT_EQ(users->at("summary").at("users"), 2);
    auto deploy = service_->user_behavior({std::string("deploy"), 50});
    ASSERT_TRUE(deploy);
    EXPECT_EQ(deploy->at("timeline").as_array().size(), 3u);
    EXPECT_EQ(service_->user_behavior({std::string("nobody"), 50}).error().code, core::Errc::NotFound);
}

TEST_F(GraphServiceTest, LoginsAtHoursUnusualForTheUserAreAnnotatedBeforeDetection) {
    const std::int64_t day0 = kT0 / (24 * 60 * kMin) * (24 * 60 * kMin);  // a midnight UTC
    std::vector<model::Event> baseline;
    for (int day = 0; day < 10; ++day) {
        for (int hour = 9; hour < 17; hour += 2) baseline.push_back(auth("carol", "10.0.1.5", "app-02", day0 + (day * 24 + hour) * 60 * kMin));
    }
    std::vector<model::Event> early{auth("carol", "10.0.1.5", "app-02", day0 + 3 * 60 * kMin)};
    service_->annotate(early);  // no baseline yet: nothing to compare with
    EXPECT_TRUE(early[0].extra.empty());
    // Five days of office hours are 20 logins, but too short a history to know the hours.
    service_->observe({baseline.begin(), baseline.begin() + 20});
    std::vector<model::Event> too_soon{auth("carol", "10.0.1.5", "app-02", day0 + (5 * 24 + 3) * 60 * kMin)};
    service_->annotate(too_soon);
    EXPECT_TRUE(too_soon[0].extra.empty());
    service_->observe({baseline.begin() + 20, baseline.end()});

    auto night = auth("carol", "10.0.1.5", "app-02", day0 + (10 * 24 + 3) * 60 * kMin);
    night.extra = R"({"shipper":"x"})";
    std::vector<model::Event> batch{night, auth("carol", "10.0.1.5", "app-02", day0 + (10 * 24 + 11) * 60 * kMin),
                                    net("10.0.1.5", "10.0.3.10", 5432, day0 + (10 * 24 + 3) * 60 * kMin)};
    service_->annotate(batch);
    const auto extra = bj::parse(batch[0].extra).as_object();
    EXPECT_EQ(extra.at("ueba.unusual_hour"), true);
    EXPECT_EQ(extra.at("ueba.hour_share").to_number<double>(), 0.0);
    EXPECT_EQ(extra.at("shipper"), "x");  // what the event carried is kept
    EXPECT_TRUE(batch[1].extra.empty()) << "11:00 is carol's usual time";
    EXPECT_TRUE(batch[2].extra.empty()) << "not a login";
}

TEST_F(GraphServiceTest, SnapshotsRestoreAndDiscoveredAssetsAreStored) {
    attack();
    auto stored = service_->flush_discovered(kT0);
    ASSERT_TRUE(stored);
    EXPECT_EQ(*stored, 0u);  // every internal host of the story is a declared asset
    service_->observe({net("10.9.9.9", "10.0.3.10", 5432, kT0 + 200 * kMin)});
    EXPECT_EQ(*service_->flush_discovered(kT0), 1u);
    auto found = store_->graph().find_asset_by_name("10.9.9.9");
    ASSERT_TRUE(found);
    EXPECT_TRUE(found->discovered);

    ASSERT_TRUE(service_->save_snapshot(kT0));
    const auto before = service_->stats();
    auto again = make();
    ASSERT_TRUE(again->start());
    EXPECT_EQ(again->stats().edges, before.edges);
    AttackPathRequest req;
    req.source = "host:bastion";
    req.target = "host:db-01";
    auto r = again->attack_paths(req);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->at("paths").as_array().empty());
}

TEST_F(GraphServiceTest, AssetsValidateAndDeclaredOnesReplaceDiscovered) {
    EXPECT_EQ(service_->create_asset(bj::parse(R"({"name": "x", "criticality": 9})").as_object(), kT0).error().code,
              core::Errc::InvalidArgument);
    EXPECT_EQ(service_->create_asset(bj::parse(R"({"name": "x", "ips": ["nope"]})").as_object(), kT0).error().code,
              core::Errc::InvalidArgument);
    EXPECT_EQ(service_->create_asset(bj::parse(R"({"name": "db-01"})").as_object(), kT0).error().code,
              core::Errc::Conflict);
    service_->observe({net("10.7.7.7", "10.0.3.10", 5432, kT0)});
    ASSERT_EQ(*service_->flush_discovered(kT0), 1u);
    const auto discovered = store_->graph().find_asset_by_name("10.7.7.7").value();
    auto declared = service_->create_asset(bj::parse(R"({"name": "10.7.7.7", "criticality": 4})").as_object(), kT0);
    ASSERT_TRUE(declared);
    EXPECT_EQ(declared->id, discovered.id);
    EXPECT_FALSE(declared->discovered);
    auto patched = service_->update_asset(declared->id, bj::parse(R"({"owner": "ops"})").as_object(), kT0);
    ASSERT_TRUE(patched);
    EXPECT_EQ(patched->criticality, 4);
    EXPECT_EQ(patched->owner, "ops");
    ASSERT_TRUE(service_->delete_asset(declared->id));
    EXPECT_EQ(service_->delete_asset(declared->id).error().code, core::Errc::NotFound);
}

TEST_F(GraphServiceTest, OpenAlertsMakeEntryPointsAndClosedOnesDoNot) {
    service_->observe({net("10.0.2.12", "10.0.3.10", 5432, kT0)});
    model::Alert a;
    a.id = "al-1";
    a.title = "malware on app-02";
    a.severity = model::Severity::High;
    a.entities.hosts = {"app-02"};
    a.last_seen = kT0;
    service_->on_alerts({a});
    AttackPathRequest req;
    req.target = "host:db-01";
    auto r = service_->attack_paths(req);
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->at("paths").as_array().empty());
    EXPECT_EQ(r->at("paths").as_array()[0].at("nodes"), bj::parse(R"(["host:app-02","host:db-01"])"));
    a.status = model::AlertStatus::Resolved;
    service_->on_alerts({a});
    auto after = service_->attack_paths(req);
    ASSERT_TRUE(after);
    EXPECT_TRUE(after->at("paths").as_array().empty());  // bastion has no route to db-01 and app-02 is quiet again
}

}  // namespace
}  // namespace sai::graph

namespace sai::graph {
namespace {

TEST(DemoScenarioTest, NormalDayIsQuietAndTheStoryIsDetected) {
    testkit::TempDir dir;
    storage::SqliteOptions o;
    o.data_dir = dir.path();
    o.synchronous = "normal";
    auto store = storage::SqliteStore::open(o).value();
    GraphService service(store->graph(), nullptr, nullptr);
    ASSERT_TRUE(service.start());
    auto s = make_demo_scenario(kT0);
    EXPECT_GE(s.assets.size(), 30u);
    EXPECT_GT(s.normal.size(), 2000u);
    for (auto a : s.assets) ASSERT_TRUE(service.upsert_asset_by_name(a, kT0 - 25 * 60 * kMin));
    for (auto& e : s.normal) model::ensure_identity(e, kT0);
    for (auto& e : s.attack) model::ensure_identity(e, kT0);
    auto quiet = service.observe(s.normal);
    for (const auto& d : quiet) ADD_FAILURE() << "normal traffic raised " << d.rule_id << ": " << d.title;
    auto story = service.observe(s.attack);
    std::vector<std::string> rules;
    for (const auto& d : story) rules.push_back(d.rule_id);
    EXPECT_EQ(std::count(rules.begin(), rules.end(), "graph.lateral_movement"), 1);
    EXPECT_EQ(std::count(rules.begin(), rules.end(), "graph.new_admin_connection"), 2);

    AttackPathRequest req;
    req.source = "host:bastion-01";
    req.target = "host:db-01";
    auto paths = service.attack_paths(req);
    ASSERT_TRUE(paths);
    EXPECT_EQ(paths->at("paths").as_array().at(0).at("nodes"),
              bj::parse(R"(["host:bastion-01","host:app-02","host:db-01"])"));
    auto map = service.threat_map({});
    EXPECT_GE(map.at("countries").as_array().size(), 1u);
    auto users = service.user_behavior({std::nullopt, 5});
    ASSERT_TRUE(users);
    EXPECT_EQ(users->at("users").as_array().at(0).at("user"), "deploy");
}

}  // namespace
}  // namespace sai::graph
