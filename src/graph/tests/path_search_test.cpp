#include "graph/path_search.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>

namespace sai::graph {
namespace {

/// A hand-built directed graph with explicit step costs.
struct SmallGraph {
    std::size_t n = 0;
    std::vector<std::vector<std::pair<NodeId, double>>> out;
    explicit SmallGraph(std::size_t nodes) : n(nodes), out(nodes) {}
    void add(NodeId a, NodeId b, double cost) { out[a].emplace_back(b, cost); }
    std::size_t node_capacity() const { return n; }
    template <class F>
    void for_each_step(NodeId u, F f) const {
        for (auto [v, c] : out[u]) f(v, c);
    }
};

PathQuery query(std::vector<NodeId> s, std::vector<NodeId> t, std::size_t k, std::size_t hops = 6) {
    PathQuery q;
    q.sources = std::move(s);
    q.targets = std::move(t);
    q.k = k;
    q.max_hops = hops;
    return q;
}

TEST(PathSearchTest, RanksTheClassicYenExample) {
    // The textbook graph (C=0, D=1, E=2, F=3, G=4, H=5): C -> H, k = 3.
    SmallGraph g(6);
    g.add(0, 1, 3); g.add(0, 2, 2); g.add(1, 3, 4); g.add(2, 1, 1); g.add(2, 3, 2);
    g.add(2, 4, 3); g.add(3, 4, 2); g.add(3, 5, 1); g.add(4, 5, 2);
    auto r = k_best_paths(g, query({0}, {5}, 3));
    ASSERT_EQ(r.paths.size(), 3u);
    EXPECT_EQ(r.paths[0].nodes, (std::vector<NodeId>{0, 2, 3, 5}));  // C E F H = 5
    EXPECT_DOUBLE_EQ(r.paths[0].cost, 5);
    EXPECT_EQ(r.paths[1].nodes, (std::vector<NodeId>{0, 2, 4, 5}));  // C E G H = 7
    EXPECT_DOUBLE_EQ(r.paths[1].cost, 7);
    EXPECT_DOUBLE_EQ(r.paths[2].cost, 8);  // C D F H or C E D F H, both 8
    EXPECT_FALSE(r.truncated);
}

TEST(PathSearchTest, HopLimitPrefersAShorterDearerPath) {
    SmallGraph g(5);
    g.add(0, 1, 1); g.add(1, 2, 1); g.add(2, 3, 1); g.add(3, 4, 1);  // 4 hops, cost 4
    g.add(0, 4, 10);                                                // 1 hop, cost 10
    EXPECT_DOUBLE_EQ(k_best_paths(g, query({0}, {4}, 1, 6)).paths.at(0).cost, 4);
    auto r = k_best_paths(g, query({0}, {4}, 5, 3));
    ASSERT_EQ(r.paths.size(), 1u);
    EXPECT_EQ(r.paths[0].nodes, (std::vector<NodeId>{0, 4}));
}

TEST(PathSearchTest, CyclesDisconnectedTargetsAndSelfLoopsEndCleanly) {
    SmallGraph g(4);
    g.add(0, 1, 1); g.add(1, 0, 1); g.add(1, 1, 1); g.add(1, 2, 1); g.add(2, 0, 1);  // cycles; 3 unreachable
    auto none = k_best_paths(g, query({0}, {3}, 5));
    EXPECT_TRUE(none.paths.empty());
    EXPECT_FALSE(none.truncated);
    auto some = k_best_paths(g, query({0}, {2}, 10));
    ASSERT_EQ(some.paths.size(), 1u);  // only 0 -> 1 -> 2 is simple
}

TEST(PathSearchTest, SeveralSourcesAndTargetsAreRankedTogether) {
    SmallGraph g(6);
    g.add(0, 2, 5); g.add(1, 2, 1); g.add(2, 4, 1); g.add(2, 5, 3);
    auto r = k_best_paths(g, query({0, 1}, {4, 5}, 4));
    ASSERT_EQ(r.paths.size(), 4u);
    EXPECT_EQ(r.paths[0].nodes, (std::vector<NodeId>{1, 2, 4}));
    EXPECT_DOUBLE_EQ(r.paths[1].cost, 4);  // 1 2 5
    EXPECT_DOUBLE_EQ(r.paths[2].cost, 6);  // 0 2 4
    EXPECT_DOUBLE_EQ(r.paths[3].cost, 8);  // 0 2 5
}

TEST(PathSearchTest, ASourceThatIsAlsoATargetStaysReachable) {
    // Hosts with open alerts are entry points and may be targets too.
    SmallGraph g(4);
    g.add(2, 3, 5); g.add(0, 2, 1);
    auto r = k_best_paths(g, query({2, 0}, {2, 3}, 5));
    ASSERT_EQ(r.paths.size(), 2u);
    EXPECT_EQ(r.paths[0].nodes, (std::vector<NodeId>{0, 2}));
    EXPECT_EQ(r.paths[1].nodes, (std::vector<NodeId>{2, 3}));
}

TEST(PathSearchTest, AnExpiredDeadlineSaysSo) {
    SmallGraph g(2000);
    for (NodeId i = 0; i + 1 < 2000; ++i) {
        g.add(i, i + 1, 1);
        g.add(i, (i * 7 + 3) % 2000, 2);
    }
    auto q = query({0}, {1999}, 5, 10);
    q.deadline = std::chrono::steady_clock::now();  // already past
    auto r = k_best_paths(g, q);
    EXPECT_TRUE(r.truncated);
}

/// Every simple path of at most `hops` steps, by brute force: the oracle.
std::vector<double> all_path_costs(const SmallGraph& g, NodeId s, NodeId t, std::size_t hops) {
    std::vector<double> costs;
    std::vector<bool> on(g.n, false);
    std::function<void(NodeId, double, std::size_t)> walk = [&](NodeId u, double cost, std::size_t used) {
        if (u == t && used > 0) {
            costs.push_back(cost);
            return;
        }
        if (used == hops) return;
        on[u] = true;
        for (auto [v, c] : g.out[u]) {
            if (!on[v]) walk(v, cost + c, used + 1);
        }
        on[u] = false;
    };
    walk(s, 0, 0);
    std::sort(costs.begin(), costs.end());
    return costs;
}

TEST(PathSearchTest, MatchesBruteForceOnRandomGraphs) {
    std::mt19937 rng(7);
    for (int round = 0; round < 500; ++round) {
        const std::size_t n = 4 + rng() % 6;
        SmallGraph g(n);
        for (NodeId a = 0; a < n; ++a) {
            for (NodeId b = 0; b < n; ++b) {
                if (a != b && rng() % 3 == 0) g.add(a, b, 1 + static_cast<double>(rng() % 9));
            }
        }
        const std::size_t hops = 1 + rng() % 5, k = 1 + rng() % 6;
        auto expected = all_path_costs(g, 0, static_cast<NodeId>(n - 1), hops);
        for (bool guided : {true, false}) {
            auto q = query({0}, {static_cast<NodeId>(n - 1)}, k, hops);
            q.guided = guided;
            auto r = k_best_paths(g, q);
            ASSERT_EQ(r.paths.size(), std::min(k, expected.size())) << "round " << round;
            for (std::size_t i = 0; i < r.paths.size(); ++i) {
                EXPECT_DOUBLE_EQ(r.paths[i].cost, expected[i]) << "round " << round << " rank " << i;
                EXPECT_LE(r.paths[i].nodes.size() - 1, hops);
            }
        }
    }
}

}  // namespace
}  // namespace sai::graph
