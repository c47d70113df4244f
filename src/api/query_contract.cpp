#include "api/query_contract.hpp"

#include "api/system_routes.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>

namespace sai::api {
namespace bj = boost::json;
namespace {

const bj::object& openapi_document() {
    static const bj::object doc = [] {
        bj::error_code ec;
        bj::value v = bj::parse(openapi_json(), ec);
        return ec || !v.is_object() ? bj::object{} : std::move(v.as_object());
    }();
    return doc;
}

/// A parameter object, following one `$ref` into `#/components/parameters/`.
const bj::object* resolve_parameter(const bj::value& p) {
    const auto* obj = p.if_object();
    if (!obj) return nullptr;
    const auto ref = obj->find("$ref");
    if (ref == obj->end()) return obj;
    const auto* text = ref->value().if_string();
    constexpr std::string_view kPrefix = "#/components/parameters/";
    if (!text || !text->starts_with(kPrefix)) return nullptr;
    const auto* components = openapi_document().if_contains("components");
    const auto* params = components && components->is_object() ? components->as_object().if_contains("parameters")
                                                                : nullptr;
    const auto* target = params && params->is_object()
                             ? params->as_object().if_contains(text->subview(kPrefix.size()))
                             : nullptr;
    return target ? target->if_object() : nullptr;
}

void add_query_params(const bj::value* parameters, std::vector<std::string>& out) {
    const auto* list = parameters ? parameters->if_array() : nullptr;
    if (!list) return;
    for (const auto& p : *list) {
        const auto* param = resolve_parameter(p);
        if (!param) continue;
        const auto* in = param->if_contains("in");
        const auto* name = param->if_contains("name");
        if (in && name && in->is_string() && name->is_string() && in->as_string() == "query" &&
            std::find(out.begin(), out.end(), name->as_string()) == out.end()) {
            out.emplace_back(name->as_string());
        }
    }
}

}  // namespace

std::optional<std::vector<std::string>> documented_query_params(Method method, std::string_view pattern) {
    const auto* paths = openapi_document().if_contains("paths");
    const auto* path = paths && paths->is_object() ? paths->as_object().if_contains(pattern) : nullptr;
    if (!path || !path->is_object()) return std::nullopt;
    std::string verb(to_string(method));
    std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return std::tolower(c); });
    const auto* op = path->as_object().if_contains(verb);
    if (!op || !op->is_object()) return std::nullopt;
    std::vector<std::string> names;
    add_query_params(op->as_object().if_contains("parameters"), names);
    add_query_params(path->as_object().if_contains("parameters"), names);
    return names;
}

}  // namespace sai::api
