#include "storage/common/migration_plan.hpp"

#include <set>
#include <string>

namespace sai::storage {

core::Result<std::vector<const Migration*>> pending_migrations(const std::vector<AppliedMigration>& applied,
                                                               const std::vector<Migration>& known, bool allowed) {
    const int current = applied.empty() ? 0 : applied.back().version;
    const int newest = known.empty() ? 0 : known.back().version;
    if (current > newest) {
        return core::make_error(core::Errc::Conflict,
                                "database schema version " + std::to_string(current) +
                                    " is newer than this securityai knows (" + std::to_string(newest) +
                                    "); upgrade securityai or restore a matching backup");
    }
    std::set<int> have;
    for (const auto& a : applied) have.insert(a.version);
    std::vector<const Migration*> pending;
    for (const auto& m : known) {
        if (have.contains(m.version)) continue;
        if (!allowed) {
            return core::make_error(core::Errc::Conflict, "database schema is at version " + std::to_string(current) +
                                                              ", " + std::to_string(newest) +
                                                              " is needed: run `securityai migrate`");
        }
        pending.push_back(&m);
    }
    return pending;
}

}  // namespace sai::storage
