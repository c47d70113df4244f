#include "graph/risk.hpp"

#include <gtest/gtest.h>

#include <random>

namespace sai::graph {
namespace {

TEST(RiskTest, ScoreStaysInRangeAndZeroWithoutEvidence) {
    EXPECT_DOUBLE_EQ(node_risk({}), 0.0);
    const double top = node_risk({10, 4, 1.0, 5, 1.0});
    EXPECT_LE(top, 100.0);
    EXPECT_GT(top, 90.0);
}

TEST(RiskTest, RiskIsMonotoneInEveryInput) {
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> unit(0, 1);
    for (int i = 0; i < 2000; ++i) {
        RiskInputs a{static_cast<int>(rng() % 6), static_cast<int>(rng() % 6) - 1, unit(rng), static_cast<int>(rng() % 6),
                     unit(rng)};
        const double base = node_risk(a);
        auto up = [&](auto mutate) {
            RiskInputs b = a;
            mutate(b);
            EXPECT_GE(node_risk(b), base - 1e-12);
        };
        up([](RiskInputs& b) { b.open_alerts += 1; b.worst_severity = std::max(b.worst_severity, 0); });
        up([](RiskInputs& b) { b.worst_severity = std::min(4, b.worst_severity + 1); });
        up([&](RiskInputs& b) { b.anomaly = std::min(1.0, b.anomaly + unit(rng) * 0.5); });
        up([](RiskInputs& b) { b.criticality = std::min(5, b.criticality + 1); });
        up([&](RiskInputs& b) { b.centrality = std::min(1.0, b.centrality + unit(rng) * 0.5); });
    }
}

TEST(RiskTest, AnOpenCriticalAlertOutweighsCriticality) {
    EXPECT_GT(node_risk({1, 4, 0, 0, 0}), node_risk({0, -1, 0, 5, 0}));
}

TEST(RiskTest, CentralityFavoursTheHub) {
    // A star into node 0 plus a chain 1 -> 2 -> 3.
    std::vector<std::pair<NodeId, NodeId>> edges{{1, 0}, {2, 0}, {3, 0}, {4, 0}, {1, 2}, {2, 3}};
    auto c = centrality(5, edges);
    ASSERT_EQ(c.size(), 5u);
    EXPECT_FLOAT_EQ(c[0], 1.0f);
    for (int i = 1; i < 5; ++i) EXPECT_LT(c[i], c[0]);
    EXPECT_TRUE(centrality(3, {}).size() == 3 && centrality(3, {})[0] == 0.0f);
}

}  // namespace
}  // namespace sai::graph
