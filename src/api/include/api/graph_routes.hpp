#pragma once
// /api/v1/assets* and /api/v1/visualize/*: the asset inventory and the graph
// views (network topology, threat map, user behaviour, attack paths), shaped
// for D3 / Cytoscape: `nodes`, `edges` and a `summary`.

#include "api/router.hpp"
#include "graph/graph_service.hpp"

namespace sai::api {

/// `service` must outlive the router.
void add_graph_routes(Router& router, graph::GraphService& service);

}  // namespace sai::api
