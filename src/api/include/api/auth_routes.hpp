#pragma once
// /api/v1/auth/*, /api/v1/users, /api/v1/api-keys and /api/v1/audit.

#include "api/router.hpp"
#include "auth/auth_service.hpp"
#include "storage/auth_stores.hpp"

namespace sai::api {

/// `auth` and `audit` must outlive the router.
void add_auth_routes(Router& router, auth::AuthService& auth, storage::AuditStore& audit);

}  // namespace sai::api
