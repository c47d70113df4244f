#pragma once
// The k cheapest simple paths from any of a set of sources to any of a set of
// targets, with at most `max_hops` edges: Yen's algorithm over a hop-bounded
// Dijkstra on (node, hops) states. Step costs must be positive (they are
// -ln(probability) of an attacker taking the step, so the cheapest path is the
// most likely one). Parallel steps between two nodes count as one step at the
// cheapest cost. A deadline bounds the work: the result says when it cut the
// search short, and holds the paths found until then (still in rank order).
//
// Every inner search is an A* guided by the exact cost to the nearest target in the
// graph without bans or hop limit (one reverse Dijkstra per query, over the steps the
// forward walk from the sources within max_hops recorded), which is a consistent lower
// bound, and pruned by the reverse hop distance: still exact, far fewer states.
//
// `G` provides:
//   std::size_t node_capacity() const;                     // ids are < this
//   template <class F> void for_each_step(NodeId u, F f) const;          // f(NodeId v, double cost)

#include "graph/entity_graph.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <queue>
#include <set>
#include <unordered_set>
#include <vector>

namespace sai::graph {

struct PathQuery {
    std::vector<NodeId> sources;
    std::vector<NodeId> targets;
    std::size_t k = 5;
    std::size_t max_hops = 6;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    /// Build the A* guide first. Pays off for a far-away single target; for many
    /// sources and targets the unguided search is usually faster (measured in bench_graph).
    bool guided = true;
};

struct RankedPath {
    std::vector<NodeId> nodes;  // source first, target last
    double cost = 0;            // sum of step costs
};

struct PathResult {
    std::vector<RankedPath> paths;  // cheapest first, at most k
    bool truncated = false;         // the deadline stopped the search
    std::size_t expansions = 0;     // states settled, all searches together
};

namespace detail {

inline std::uint64_t pair_key(NodeId a, NodeId b) { return (static_cast<std::uint64_t>(a) << 32) | b; }

/// Scratch space of one query, reused by every inner search (no clearing: stamps).
struct SearchScratch {
    std::vector<std::uint32_t> stamp;
    std::vector<std::uint8_t> best_hops;  // fewest hops a settled state of the node had
    std::vector<std::uint32_t> target_stamp;
    std::vector<std::uint32_t> pushed_stamp;  // the cheapest state pushed per node, for push-side dominance
    std::vector<double> pushed_cost;
    std::vector<std::uint8_t> pushed_hops;
    std::uint32_t current = 0;
    std::uint32_t target_current = 0;
};

struct Settled {
    NodeId node;
    std::uint32_t parent;  // index into the settled vector; npos for roots
};

}  // namespace detail

/// See the header comment. `sources` and `targets` may overlap; a path has at least one step.
template <class G>
PathResult k_best_paths(const G& g, const PathQuery& q) {
    using detail::Settled;
    constexpr std::uint32_t kRoot = std::numeric_limits<std::uint32_t>::max();
    PathResult result;
    const std::size_t n = g.node_capacity();
    if (q.k == 0 || q.max_hops == 0 || q.sources.empty() || q.targets.empty()) return result;

    detail::SearchScratch s;
    s.stamp.assign(n, 0);
    s.best_hops.assign(n, 0);
    s.target_stamp.assign(n, 0);
    s.pushed_stamp.assign(n, 0);
    s.pushed_cost.assign(n, 0);
    s.pushed_hops.assign(n, 0);
    s.target_current = 1;
    for (NodeId t : q.targets) {
        if (t < n) s.target_stamp[t] = 1;
    }
    std::vector<Settled> settled;
    std::uint32_t checks = 0;
    auto out_of_time = [&] {
        if (checks++ % 256 != 0) return false;  // the first call looks at the clock too
        return std::chrono::steady_clock::now() >= q.deadline;
    };

    // The guide: nodes reachable from the sources within max_hops, then from the
    // targets backwards over those nodes the cheapest cost (h) and fewest hops (d).
    constexpr std::uint8_t kFar = 0xff;
    constexpr double kInf = std::numeric_limits<double>::infinity();
    std::vector<std::uint8_t> reach(n, kFar), to_target(n, q.guided ? kFar : 0);
    std::vector<double> h(n, q.guided ? kInf : 0.0);
    // The guide may use 80% of the budget (with it the searches take a millisecond or
    // two; without it they rarely finish); past that the search goes on unguided.
    const auto now = std::chrono::steady_clock::now();
    const auto guide_deadline = q.deadline == std::chrono::steady_clock::time_point::max() ? q.deadline
                                                                                          : now + (q.deadline - now) * 4 / 5;
    std::uint32_t guide_checks = 0;
    auto guide_late = [&] { return guide_checks++ % 1024 == 0 && std::chrono::steady_clock::now() >= guide_deadline; };
    bool abandoned = false;
    if (q.guided) {
        std::vector<NodeId> frontier, next;
        // Every step out of a node the forward walk expands: exactly the steps a path
        // within max_hops can take. The backward passes run over these (as in-lists),
        // not over every in-edge of the graph (most come from nodes no source reaches).
        struct Step {
            NodeId u, v;
            double cost;
        };
        std::vector<Step> steps;
        for (NodeId v : q.sources) {
            if (v < n && reach[v] == kFar) {
                reach[v] = 0;
                frontier.push_back(v);
            }
        }
        for (std::size_t hop = 1; hop <= q.max_hops && !frontier.empty(); ++hop) {
            next.clear();
            for (NodeId u : frontier) {
                if (guide_late()) {
                    abandoned = true;
                    break;
                }
                g.for_each_step(u, [&](NodeId v, double cost) {
                    steps.push_back({u, v, cost});
                    if (reach[v] == kFar) {
                        reach[v] = static_cast<std::uint8_t>(hop);
                        next.push_back(v);
                    }
                });
            }
            if (abandoned) break;
            frontier.swap(next);
        }
        // The recorded steps as in-lists (counting sort by head).
        std::vector<std::uint32_t> in_begin(n + 1, 0);
        std::vector<std::pair<NodeId, double>> in_steps(steps.size());
        if (!abandoned) {
            for (const Step& st : steps) ++in_begin[st.v + 1];
            for (std::size_t v = 0; v < n; ++v) in_begin[v + 1] += in_begin[v];
            std::vector<std::uint32_t> fill(in_begin.begin(), in_begin.end() - 1);
            for (const Step& st : steps) in_steps[fill[st.v]++] = {st.u, st.cost};
        }
        using Entry = std::pair<double, NodeId>;
        std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap;
        frontier.clear();
        for (NodeId t : q.targets) {
            if (abandoned) break;
            if (t < n && reach[t] != kFar && h[t] == kInf) {
                h[t] = 0;
                to_target[t] = 0;
                heap.push({0, t});
                frontier.push_back(t);
            }
        }
        while (!heap.empty() && !abandoned) {
            const auto [c, v] = heap.top();
            heap.pop();
            if (c > h[v]) continue;
            if (guide_late()) {
                abandoned = true;
                break;
            }
            for (std::uint32_t i = in_begin[v]; i < in_begin[v + 1]; ++i) {
                const NodeId u = in_steps[i].first;
                const double cost = in_steps[i].second;
                if (c + cost < h[u]) {
                    h[u] = c + cost;
                    heap.push({h[u], u});
                }
            }
        }
        for (std::size_t hop = 1; hop <= q.max_hops && !frontier.empty() && !abandoned; ++hop) {
            next.clear();
            for (NodeId v : frontier) {
                for (std::uint32_t i = in_begin[v]; i < in_begin[v + 1]; ++i) {
                    const NodeId u = in_steps[i].first;
                    if (to_target[u] == kFar) {
                        to_target[u] = static_cast<std::uint8_t>(hop);
                        next.push_back(u);
                    }
                }
            }
            frontier.swap(next);
        }
    }

    if (abandoned) {
        std::fill(h.begin(), h.end(), 0.0);
        std::fill(to_target.begin(), to_target.end(), std::uint8_t{0});
    }

    // Cheapest path from `starts` (with `start_hops` already used) to a target,
    // avoiding banned nodes and banned first steps out of specific nodes.
    auto search = [&](const std::vector<NodeId>& starts, std::size_t start_hops, double start_cost,
                      const std::unordered_set<NodeId>& banned_nodes,
                      const std::unordered_set<std::uint64_t>& banned_steps, double cost_limit,
                      bool& timed_out) -> std::optional<RankedPath> {
        struct Item {
            double cost;  // f = g + h
            double g;     // cost so far
            NodeId node;
            std::uint8_t hops;
            std::uint32_t parent;
            bool operator>(const Item& o) const { return cost > o.cost; }
        };
        auto hopeless = [&](NodeId v, std::size_t hops) {
            return h[v] == kInf || to_target[v] == kFar || hops + to_target[v] > q.max_hops;
        };
        ++s.current;
        settled.clear();
        std::priority_queue<Item, std::vector<Item>, std::greater<>> heap;
        for (NodeId v : starts) {
            if (v < n && !banned_nodes.contains(v) && !hopeless(v, start_hops)) {
                heap.push({start_cost + h[v], start_cost, v, static_cast<std::uint8_t>(start_hops), kRoot});
            }
        }
        while (!heap.empty()) {
            if (out_of_time()) {
                timed_out = true;
                return std::nullopt;
            }
            const Item it = heap.top();
            heap.pop();
            // Everything left costs more than a path that could still make the top k.
            if (it.cost > cost_limit) return std::nullopt;
            // A settled state of this node with no more hops dominates this one. A
            // start that is also a target must stay reachable from the other starts,
            // so its root state dominates nothing.
            if (s.stamp[it.node] == s.current && s.best_hops[it.node] <= it.hops) continue;
            if (it.parent != kRoot || s.target_stamp[it.node] != s.target_current) {
                s.stamp[it.node] = s.current;
                s.best_hops[it.node] = it.hops;
            }
            const auto index = static_cast<std::uint32_t>(settled.size());
            settled.push_back({it.node, it.parent});
            ++result.expansions;
            if (it.parent != kRoot && s.target_stamp[it.node] == s.target_current) {
                RankedPath p;
                p.cost = it.g;
                for (std::uint32_t i = index; i != kRoot; i = settled[i].parent) p.nodes.push_back(settled[i].node);
                std::reverse(p.nodes.begin(), p.nodes.end());
                return p;
            }
            if (it.hops >= q.max_hops) continue;
            g.for_each_step(it.node, [&](NodeId v, double cost) {
                if (banned_nodes.contains(v)) return;
                if (it.parent == kRoot && banned_steps.contains(detail::pair_key(it.node, v))) return;
                if (s.stamp[v] == s.current && s.best_hops[v] <= it.hops + 1) return;
                const double c = it.g + cost;
                const auto hops = static_cast<std::uint8_t>(it.hops + 1);
                if (hopeless(v, hops) || c + h[v] > cost_limit) return;
                // A pushed state no dearer and with no more hops dominates this one.
                if (s.pushed_stamp[v] == s.current && s.pushed_cost[v] <= c && s.pushed_hops[v] <= hops) return;
                if (s.pushed_stamp[v] != s.current || c < s.pushed_cost[v]) {
                    s.pushed_stamp[v] = s.current;
                    s.pushed_cost[v] = c;
                    s.pushed_hops[v] = hops;
                }
                heap.push({c + h[v], c, v, hops, index});
            });
        }
        return std::nullopt;
    };

    auto step_cost = [&](NodeId u, NodeId v) {
        double best = std::numeric_limits<double>::infinity();
        g.for_each_step(u, [&](NodeId w, double c) {
            if (w == v) best = std::min(best, c);
        });
        return best;
    };

    bool timed_out = false;
    // Sources are searched together: the first step out of the virtual root.
    std::vector<NodeId> sources = q.sources;
    std::sort(sources.begin(), sources.end());
    sources.erase(std::unique(sources.begin(), sources.end()), sources.end());
    constexpr double kNoLimit = std::numeric_limits<double>::infinity();
    auto first = search(sources, 0, 0, {}, {}, kNoLimit, timed_out);
    if (!first) {
        result.truncated = timed_out;
        return result;
    }
    result.paths.push_back(std::move(*first));
    std::set<std::pair<double, std::vector<NodeId>>> candidates;
    std::set<std::vector<NodeId>> seen{result.paths.front().nodes};

    while (result.paths.size() < q.k && !timed_out) {
        const RankedPath prev = result.paths.back();
        double root_cost = 0;
        // Spur at i = -1 (a different source) and at every node but the last.
        for (std::ptrdiff_t i = -1; i + 1 < static_cast<std::ptrdiff_t>(prev.nodes.size()) && !timed_out; ++i) {
            std::unordered_set<NodeId> banned_nodes;
            std::unordered_set<std::uint64_t> banned_steps;
            std::vector<NodeId> starts;
            if (i < 0) {
                // Paths starting at another source: ban the sources already used first.
                std::unordered_set<NodeId> used;
                for (const auto& p : result.paths) used.insert(p.nodes.front());
                for (NodeId v : sources) {
                    if (!used.contains(v)) starts.push_back(v);
                }
                if (starts.empty()) continue;
            } else {
                const auto root_end = prev.nodes.begin() + i + 1;
                for (auto it = prev.nodes.begin(); it + 1 != root_end; ++it) banned_nodes.insert(*it);
                for (const auto& p : result.paths) {
                    if (p.nodes.size() > static_cast<std::size_t>(i + 1) &&
                        std::equal(prev.nodes.begin(), root_end, p.nodes.begin())) {
                        banned_steps.insert(detail::pair_key(p.nodes[i], p.nodes[i + 1]));
                    }
                }
                if (i > 0) root_cost += step_cost(prev.nodes[i - 1], prev.nodes[i]);
                starts.push_back(prev.nodes[i]);
            }
            // Targets on the root would end the path early: a spur path may not revisit them anyway.
            // With enough candidates already, a spur path dearer than the last one that can
            // still be ranked is useless: the search may stop at that cost (exact pruning).
            double limit = kNoLimit;
            const std::size_t needed = q.k - result.paths.size();
            if (candidates.size() >= needed) limit = std::next(candidates.begin(), static_cast<std::ptrdiff_t>(needed - 1))->first;
            auto spur = search(starts, i < 0 ? 0 : static_cast<std::size_t>(i), i < 0 ? 0 : root_cost, banned_nodes,
                               banned_steps, limit, timed_out);
            if (!spur) continue;
            std::vector<NodeId> total(prev.nodes.begin(), prev.nodes.begin() + (i < 0 ? 0 : i));
            total.insert(total.end(), spur->nodes.begin(), spur->nodes.end());
            if (seen.insert(total).second) candidates.emplace(spur->cost, std::move(total));
        }
        if (candidates.empty()) break;
        auto best = candidates.begin();
        result.paths.push_back({best->second, best->first});
        candidates.erase(best);
    }
    result.truncated = timed_out;
    return result;
}

}  // namespace sai::graph
