#pragma once
// Who may call which route: the declarative RBAC policy of the whole API. The
// table itself is in access_policy.cpp, in one place, so a reviewer sees every
// route's minimum role at a glance.

#include "api/http.hpp"
#include "model/identity.hpp"

#include <string_view>

namespace sai::api {

/// Which token bucket a route draws from.
enum class RateClass { None, Api, Ingest };

struct Access {
    bool is_public = false;                 // no credentials needed
    model::Role min_role = model::Role::Admin;
    RateClass rate = RateClass::Api;
    bool audit = true;  // audit state-changing calls generically (false: the service audits them itself)
};

/// The policy of (method, pattern). A route missing from the table is admin-only:
/// protected by default. `listed` tells whether the table names it.
Access access_for(Method method, std::string_view pattern, bool* listed = nullptr);

}  // namespace sai::api
