#pragma once
// /api/v1/logs/templates*: what the log parser has learned (templates with
// counts and first/last seen), straight from the live miner.

#include "api/router.hpp"
#include "pipeline/parse_stage.hpp"

namespace sai::api {

/// `stage` must outlive the router.
void add_log_routes(Router& router, pipeline::ParseStage& stage);

}  // namespace sai::api
