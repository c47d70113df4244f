#pragma once
// The query parameters each route takes, read from the OpenAPI document the server
// serves (docs/openapi.yaml, embedded). A request with a parameter its route does not
// take is refused with 400 and the list of those it does, as Elasticsearch does: a
// misspelt filter (`hots=web-01`) must not silently widen a security search to
// everything.

#include "api/http.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::api {

/// The documented query parameters of (method, pattern), in the document's order;
/// nullopt when the document has no such operation (the documentation pages' assets).
std::optional<std::vector<std::string>> documented_query_params(Method method, std::string_view pattern);

}  // namespace sai::api
