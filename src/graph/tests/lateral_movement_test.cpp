#include "graph/lateral_movement.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sai::graph {
namespace {

constexpr std::int64_t kT0 = 1'795'000'000'000;
constexpr std::int64_t kMin = 60 * 1000;

AuthFact logon(std::string user, std::string from, std::string to, std::int64_t ts, bool from_internal = true) {
    AuthFact f;
    f.user = std::move(user);
    f.source = std::move(from);
    f.target = std::move(to);
    f.source_internal = from_internal;
    f.port = 22;
    f.ts = ts;
    f.event_id = "e-" + f.target;
    return f;
}

TEST(LateralMovementTest, AChainOfThreeInternalHostsIsReportedWithItsPath) {
    LateralMovementDetector d;
    std::vector<model::Detection> out;
    d.on_auth(logon("deploy", "203.0.113.5", "bastion", kT0, false), out);
    d.on_auth(logon("deploy", "bastion", "app-02", kT0 + 2 * kMin), out);
    EXPECT_TRUE(out.empty());  // bastion -> app-02: two internal hosts only
    auto last = logon("deploy", "app-02", "db-01", kT0 + 4 * kMin);
    last.target_criticality = 5;
    d.on_auth(last, out);
    ASSERT_EQ(out.size(), 1u);
    const auto& det = out[0];
    EXPECT_EQ(det.rule_id, "graph.lateral_movement");
    EXPECT_EQ(det.severity, model::Severity::Critical);
    EXPECT_NE(std::find(det.tags.begin(), det.tags.end(), "attack.lateral_movement"), det.tags.end());
    EXPECT_NE(std::find(det.tags.begin(), det.tags.end(), "attack.t1021.004"), det.tags.end());
    EXPECT_EQ(det.event_ids.size(), 3u);
    auto expl = boost::json::parse(det.explanation).as_object();
    EXPECT_EQ(expl.at("path"), boost::json::parse(R"(["203.0.113.5","bastion","app-02","db-01"])"));
    // The outside origin is an address of the alert, not one of its hosts.
    EXPECT_EQ(det.entities.hosts, (std::vector<std::string>{"bastion", "app-02", "db-01"}));
    EXPECT_EQ(det.entities.ips, (std::vector<std::string>{"203.0.113.5"}));
}

TEST(LateralMovementTest, AnInternalOriginCountsAndLongerChainsReportAgain) {
    LateralMovementDetector d;
    std::vector<model::Detection> out;
    d.on_auth(logon("alice", "ws-1", "a", kT0), out);
    d.on_auth(logon("alice", "a", "b", kT0 + kMin), out);
    ASSERT_EQ(out.size(), 1u);  // ws-1 -> a -> b
    d.on_auth(logon("alice", "b", "c", kT0 + 2 * kMin), out);
    EXPECT_EQ(out.size(), 2u);  // the chain grew
}

TEST(LateralMovementTest, NoChainWhenHopsAreFanOutOtherUsersFailuresOrTooSlow) {
    LateralMovementOptions o;
    o.chain_window_ms = 10 * kMin;
    LateralMovementDetector d(o);
    std::vector<model::Detection> out;
    // A star from one admin workstation is not a chain.
    d.on_auth(logon("admin", "ws-admin", "srv-1", kT0), out);
    d.on_auth(logon("admin", "ws-admin", "srv-2", kT0 + kMin), out);
    d.on_auth(logon("admin", "ws-admin", "srv-3", kT0 + kMin), out);
    // Different users on each hop.
    d.on_auth(logon("u1", "ws-2", "x", kT0), out);
    d.on_auth(logon("u2", "x", "y", kT0 + kMin), out);
    // Failed logons do not extend a chain.
    d.on_auth(logon("u3", "ws-3", "p", kT0), out);
    auto failed = logon("u3", "p", "q", kT0 + kMin);
    failed.success = false;
    d.on_auth(failed, out);
    // Hops further apart than the window.
    d.on_auth(logon("u4", "ws-4", "m", kT0), out);
    d.on_auth(logon("u4", "m", "n", kT0 + 11 * kMin), out);
    EXPECT_TRUE(out.empty());
}

TEST(LateralMovementTest, FirstTimeAdminConnectionsOnlyBetweenInternalHosts) {
    LateralMovementDetector d;
    std::vector<model::Detection> out;
    ConnectionFact f{"app-02", "db-01", true, true, 22, true, 5, kT0, "e1"};
    d.on_connection(f, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].rule_id, "graph.new_admin_connection");
    EXPECT_EQ(out[0].severity, model::Severity::High);
    out.clear();
    d.on_connection({"app-02", "db-01", true, true, 5432, true, 5, kT0, "e2"}, out);   // not an admin port
    d.on_connection({"app-02", "db-01", true, true, 22, false, 5, kT0, "e3"}, out);   // seen before
    d.on_connection({"1.2.3.4", "db-01", false, true, 22, true, 5, kT0, "e4"}, out);  // external source
    EXPECT_TRUE(out.empty());
}

TEST(LateralMovementTest, FanOutIsReportedOnceWhenTheThresholdIsReached) {
    LateralMovementOptions o;
    o.fan_out_threshold = 5;
    LateralMovementDetector d(o);
    std::vector<model::Detection> out;
    for (int i = 0; i < 4; ++i) d.on_connection({"ws-9", "h" + std::to_string(i), true, true, 445, false, 0, kT0 + i, "e"}, out);
    EXPECT_TRUE(out.empty());
    for (int i = 4; i < 12; ++i) d.on_connection({"ws-9", "h" + std::to_string(i), true, true, 445, false, 0, kT0 + i, "e"}, out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].rule_id, "graph.fan_out");
    // The same host hitting the same few hosts repeatedly is not fan-out.
    LateralMovementDetector quiet(o);
    std::vector<model::Detection> none;
    for (int i = 0; i < 100; ++i) quiet.on_connection({"ws-1", "h" + std::to_string(i % 3), true, true, 445, false, 0, kT0 + i, "e"}, none);
    EXPECT_TRUE(none.empty());
}

TEST(LateralMovementTest, ExpiryBoundsTheState) {
    LateralMovementDetector d;
    std::vector<model::Detection> out;
    for (int i = 0; i < 50; ++i) d.on_auth(logon("u" + std::to_string(i), "a", "b", kT0), out);
    EXPECT_EQ(d.tracked(), 50u);
    d.expire(kT0 + 31 * kMin);
    EXPECT_EQ(d.tracked(), 0u);
}

}  // namespace
}  // namespace sai::graph
