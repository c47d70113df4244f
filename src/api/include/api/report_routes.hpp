#pragma once
// /api/v1/reports*: generate reports in the background, list them, download
// their files, delete them.

#include "api/router.hpp"
#include "reports/report_service.hpp"

namespace sai::api {

void add_report_routes(Router& router, reports::ReportService& service);

}  // namespace sai::api
