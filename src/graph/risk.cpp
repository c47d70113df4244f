#include "graph/risk.hpp"

#include <boost/graph/compressed_sparse_row_graph.hpp>
#include <boost/graph/page_rank.hpp>

#include <algorithm>

namespace sai::graph {

double node_risk(const RiskInputs& in) noexcept {
    const double alerts = in.worst_severity < 0 ? 0.0
                                                : std::min(1.0, 0.3 + 0.15 * in.worst_severity +
                                                                    0.05 * std::min(in.open_alerts - 1, 4));
    const double anomaly = std::clamp(in.anomaly, 0.0, 1.0);
    const double criticality = in.criticality <= 0 ? 0.0 : std::clamp((in.criticality - 1) / 4.0, 0.0, 1.0);
    const double position = std::clamp(in.centrality, 0.0, 1.0);
    const double keep = (1 - 0.8 * alerts) * (1 - 0.5 * anomaly) * (1 - 0.3 * criticality) * (1 - 0.3 * position);
    return 100.0 * (1.0 - keep);
}

RiskInputs risk_inputs(const EntityGraph& graph, NodeId id) {
    const Node& n = graph.node(id);
    RiskInputs in;
    in.open_alerts = n.open_alerts;
    in.worst_severity = n.alert_severity;
    in.anomaly = n.anomaly;
    in.criticality = n.criticality;
    in.centrality = n.centrality;
    return in;
}

std::vector<float> centrality(std::size_t node_count, const std::vector<std::pair<NodeId, NodeId>>& edges) {
    std::vector<float> out(node_count, 0.0f);
    if (node_count == 0 || edges.empty()) return out;
    using Csr = boost::compressed_sparse_row_graph<boost::directedS>;
    std::vector<std::pair<std::size_t, std::size_t>> sorted(edges.begin(), edges.end());
    std::sort(sorted.begin(), sorted.end());
    Csr g(boost::edges_are_sorted, sorted.begin(), sorted.end(), node_count);
    std::vector<double> rank(node_count, 0.0);
    boost::graph::page_rank(g, boost::make_iterator_property_map(rank.begin(), get(boost::vertex_index, g)),
                            boost::graph::n_iterations(20), 0.85, node_count);
    const double top = *std::max_element(rank.begin(), rank.end());
    if (top <= 0) return out;
    for (std::size_t i = 0; i < node_count; ++i) out[i] = static_cast<float>(rank[i] / top);
    return out;
}

}  // namespace sai::graph
