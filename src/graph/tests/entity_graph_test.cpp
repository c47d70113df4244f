#include "graph/entity_graph.hpp"

#include <gtest/gtest.h>

namespace sai::graph {
namespace {

constexpr std::int64_t kT0 = 1'795'000'000'000;
constexpr std::int64_t kHour = 3600 * 1000;

TEST(EntityGraphTest, InternalAddressesAreRecognised) {
    for (const char* ip : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "127.0.0.1", "100.64.0.1",
                           "169.254.1.1", "fd00::1", "fe80::1", "::1"}) {
        EXPECT_TRUE(is_internal_address(ip)) << ip;
    }
    for (const char* ip : {"8.8.8.8", "172.32.0.1", "203.0.113.5", "100.128.0.1", "2001:db8::1", "not an ip"}) {
        EXPECT_FALSE(is_internal_address(ip)) << ip;
    }
}

TEST(EntityGraphTest, EdgesAggregateObservations) {
    EntityGraph g;
    const NodeId a = g.address_node("10.0.0.1", kT0), b = g.address_node("10.0.0.2", kT0);
    bool created = false;
    const EdgeId e = g.touch_edge(a, b, EdgeKind::Connection, 22, kT0, 100, false, &created);
    EXPECT_TRUE(created);
    EXPECT_EQ(g.touch_edge(a, b, EdgeKind::Connection, 22, kT0 + 5, 50, true, &created), e);
    EXPECT_FALSE(created);
    EXPECT_EQ(g.edge(e).count, 2u);
    EXPECT_EQ(g.edge(e).bytes, 150u);
    EXPECT_EQ(g.edge(e).failures, 1u);
    EXPECT_EQ(g.edge(e).last_seen, kT0 + 5);
    EXPECT_NE(g.touch_edge(a, b, EdgeKind::Connection, 443, kT0), e);  // another port, another edge
    EXPECT_EQ(g.edge_count(), 2u);
    EXPECT_EQ(g.node(g.address_node("8.8.8.8", kT0)).kind, NodeKind::External);
}

TEST(EntityGraphTest, AliasesAndAssetsNameHosts) {
    EntityGraph g;
    model::Asset db;
    db.id = "a1";
    db.name = "db-01";
    db.ips = {"10.0.3.10"};
    db.criticality = 5;
    g.apply_asset(db);
    const NodeId n = g.address_node("10.0.3.10", kT0);
    EXPECT_EQ(g.node(n).key, "host:db-01");
    EXPECT_EQ(g.node(n).criticality, 5);
    g.clear_asset("a1");
    EXPECT_EQ(g.node(n).criticality, 0);
    EXPECT_EQ(g.node(g.address_node("10.0.3.10", kT0)).key, "host:10.0.3.10");
}

TEST(EntityGraphTest, AgeingRemovesStaleEdgesAndOrphansButKeepsAssets) {
    GraphLimits limits;
    limits.edge_ttl_ms = 24 * kHour;
    EntityGraph g(limits);
    model::Asset asset;
    asset.id = "a";
    asset.name = "kept";
    g.apply_asset(asset);
    const NodeId kept = *g.find("host:kept");
    const NodeId old_a = g.address_node("10.0.0.1", kT0), old_b = g.address_node("10.0.0.2", kT0);
    g.touch_edge(old_a, old_b, EdgeKind::Connection, 80, kT0);
    g.touch_edge(old_a, kept, EdgeKind::Connection, 80, kT0);
    const NodeId new_a = g.address_node("10.0.0.3", kT0 + 30 * kHour);
    g.touch_edge(new_a, kept, EdgeKind::Connection, 80, kT0 + 30 * kHour);
    EXPECT_EQ(g.age(kT0 + 30 * kHour), 2u);
    EXPECT_EQ(g.edge_count(), 1u);
    EXPECT_FALSE(g.find("host:10.0.0.1"));
    EXPECT_FALSE(g.find("host:10.0.0.2"));
    EXPECT_TRUE(g.find("host:kept"));
    EXPECT_TRUE(g.find("host:10.0.0.3"));
}

TEST(EntityGraphTest, SizeLimitsEvictTheLeastRecentlySeen) {
    GraphLimits limits;
    limits.max_edges = 100;
    EntityGraph g(limits);
    const NodeId hub = g.address_node("10.0.0.1", kT0);
    for (int i = 0; i < 300; ++i) {
        g.touch_edge(hub, g.address_node("10.1.0." + std::to_string(i % 250) + "", kT0 + i), EdgeKind::Connection,
                     static_cast<std::uint16_t>(i), kT0 + i);
        EXPECT_LE(g.edge_count(), 100u);
    }
    // The newest edge survived, the oldest did not.
    std::int64_t oldest = kT0 + 1000;
    for (EdgeId i = 0; i < g.edge_capacity(); ++i) {
        if (g.edge(i).alive) oldest = std::min(oldest, g.edge(i).last_seen);
    }
    EXPECT_GT(oldest, kT0 + 190);
}

TEST(EntityGraphTest, AlertLinksKeepCountsAndTheWorstSeverity) {
    EntityGraph g;
    const NodeId host = g.upsert_node(NodeKind::Host, "db-01", kT0);
    const NodeId low = g.upsert_node(NodeKind::Alert, "a1", kT0), high = g.upsert_node(NodeKind::Alert, "a2", kT0);
    g.node(low).severity = 1;
    g.node(high).severity = 3;
    g.touch_edge(low, host, EdgeKind::AlertLink, 0, kT0);
    g.touch_edge(high, host, EdgeKind::AlertLink, 0, kT0);
    EXPECT_EQ(g.node(host).open_alerts, 2);
    EXPECT_EQ(g.node(host).alert_severity, 3);
    g.remove_node(high);
    EXPECT_EQ(g.node(host).open_alerts, 1);
    EXPECT_EQ(g.node(host).alert_severity, 1);
    g.remove_node(low);
    EXPECT_EQ(g.node(host).open_alerts, 0);
    EXPECT_EQ(g.node(host).alert_severity, -1);
}

TEST(EntityGraphTest, SnapshotRoundTrips) {
    EntityGraph g;
    g.note_time(kT0);
    g.alias("10.0.0.5", "app-01");
    const NodeId a = g.address_node("10.0.0.5", kT0), x = g.address_node("203.0.113.5", kT0);
    g.node(x).country = "ZZ";
    const EdgeId e = g.touch_edge(x, a, EdgeKind::Logon, 22, kT0 + 1, 0, true);
    g.edge(e).users.push_back("root");
    auto text = g.serialize();

    EntityGraph h;
    ASSERT_TRUE(h.restore(text));
    EXPECT_EQ(h.node_count(), g.node_count());
    EXPECT_EQ(h.edge_count(), 1u);
    EXPECT_EQ(h.started_at(), kT0);
    const NodeId ha = *h.find("host:app-01"), hx = *h.find("ext:203.0.113.5");
    EXPECT_EQ(h.node(hx).country, "ZZ");
    const Edge& he = h.edge(h.node(hx).out.at(0));
    EXPECT_EQ(he.dst, ha);
    EXPECT_EQ(he.failures, 1u);
    EXPECT_EQ(he.users, std::vector<std::string>{"root"});
    EXPECT_EQ(h.host_of("10.0.0.5"), "app-01");

    EXPECT_FALSE(h.restore("{\"version\": 1, \"nodes\": [[9]]}"));
    EXPECT_FALSE(h.restore("not json"));
    EXPECT_EQ(h.edge_count(), 1u);  // a failed restore changes nothing
}

}  // namespace
}  // namespace sai::graph
