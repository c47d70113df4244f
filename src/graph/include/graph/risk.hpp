#pragma once
// Risk of a node, 0..100, from what is known about it: open alerts (count and
// worst severity), the highest anomaly score of its events, the asset's
// criticality and its position in the graph (PageRank, recomputed in the
// background). Each factor only ever raises the score: risk is non-decreasing
// in every input (tested), so more alerts or a higher criticality never lower it.

#include "graph/entity_graph.hpp"

#include <utility>
#include <vector>

namespace sai::graph {

struct RiskInputs {
    int open_alerts = 0;
    int worst_severity = -1;  // -1 none, 0 info .. 4 critical (model::Severity)
    double anomaly = 0;       // 0..1
    int criticality = 0;      // 0 unknown, 1..5
    double centrality = 0;    // 0..1
};

/// 100 * (1 - product over factors of (1 - weight * factor)).
double node_risk(const RiskInputs& inputs) noexcept;
/// The inputs of a node as the graph knows them (open alerts: its alert links).
RiskInputs risk_inputs(const EntityGraph& graph, NodeId id);

/// PageRank (Boost.Graph, 20 iterations, damping 0.85) over `edges` of a graph
/// with `node_count` nodes, scaled so the highest is 1. Pure: runs outside any lock.
std::vector<float> centrality(std::size_t node_count, const std::vector<std::pair<NodeId, NodeId>>& edges);

}  // namespace sai::graph
