#pragma once
// /api/v1/alerts*, /api/v1/suppressions*, /api/v1/blocklist*, /api/v1/playbooks:
// the analyst's view of alerts, the triage workflow, exceptions and remediation.

#include "alerts/alert_manager.hpp"
#include "alerts/remediation.hpp"
#include "api/router.hpp"
#include "storage/store.hpp"

namespace sai::api {

/// Everything the alert routes use; must outlive the router.
struct AlertServices {
    storage::Store& store;
    alerts::AlertManager& manager;
    alerts::RemediationService& remediation;
};

void add_alert_routes(Router& router, AlertServices& services);

}  // namespace sai::api
