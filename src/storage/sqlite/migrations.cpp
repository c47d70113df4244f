// The embedded store's schema, one numbered migration per change. Never edit a
// released migration: add a new one.

#include "storage/sqlite/sqlite_store.hpp"

namespace sai::storage {

std::span<const Migration> sqlite_migrations() {
    static const std::vector<Migration> kMigrations = {
        {1, "instance settings",
         R"sql(
CREATE TABLE settings (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
INSERT INTO settings (key, value, updated_at)
VALUES ('instance_id', lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
)sql"},
    };
    return kMigrations;
}

}  // namespace sai::storage
