#pragma once
// Which numbered migrations a SQL backend still has to apply: the same rule for every
// backend, whatever its SQL.

#include "core/error.hpp"
#include "storage/store.hpp"

#include <vector>

namespace sai::storage {

/// Every known migration not applied yet, in version order, even below the current
/// version (a migration numbered in parallel work may land after a later one).
/// Conflict when the database is newer than every known migration, or when some are
/// pending and `allowed` is false (the caller must not migrate).
core::Result<std::vector<const Migration*>> pending_migrations(const std::vector<AppliedMigration>& applied,
                                                               const std::vector<Migration>& known, bool allowed);

}  // namespace sai::storage
