#pragma once
// /api/v1/rules*: the Sigma rules the detection stage runs. Rules added through
// the API are YAML files in the API rules directory (<data_dir>/rules), so they
// reload like any other; built-in and configured rule files are read-only here.

#include "api/router.hpp"
#include "pipeline/detect_stage.hpp"
#include "storage/store.hpp"

#include <filesystem>

namespace sai::api {

struct RuleServices {
    pipeline::DetectStage& stage;
    std::filesystem::path api_dir;  // where POST/PUT write and DELETE removes
    storage::Store& store;          // events for POST /rules/test over a time range
};

void add_rule_routes(Router& router, RuleServices& services);

}  // namespace sai::api
