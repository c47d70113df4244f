#pragma once
// The root of a storage backend. A backend (SQLite by default, PostgreSQL in
// scale-out mode) owns its connections and migrations; the per-aggregate stores
// (users, events, alerts...) are reached through it as they are added.

#include "core/error.hpp"
#include "storage/alert_store.hpp"
#include "storage/auth_stores.hpp"
#include "storage/event_store.hpp"
#include "storage/graph_store.hpp"
#include "storage/ml_store.hpp"
#include "storage/report_store.hpp"
#include "storage/template_store.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace sai::storage {

/// One schema migration: applied once, in version order, inside a transaction.
struct Migration {
    int version = 0;
    std::string name;
    std::string sql;
};

struct AppliedMigration {
    int version = 0;
    std::string name;
    std::string applied_at;  // RFC 3339
};

/// Implementations are synchronous and may block: callers on an I/O thread go
/// through the server's blocking pool. Thread-safe: implementations synchronise
/// internally. Lives from start-up until close().
class Store {
public:
    virtual ~Store() = default;

    /// "sqlite", "postgres"...
    virtual std::string_view backend() const = 0;
    /// Cheap liveness check: the database is present, readable and migrated.
    virtual core::Result<void> check_health() = 0;
    /// Applies pending migrations; returns those applied now (empty when up to date).
    virtual core::Result<std::vector<AppliedMigration>> migrate() = 0;
    /// Every migration applied so far, oldest first.
    virtual core::Result<std::vector<AppliedMigration>> applied_migrations() = 0;
    /// Flushes and closes connections; later calls fail with Unavailable.
    virtual void close() = 0;

    // The aggregate stores. They live as long as this Store.
    virtual UserStore& users() = 0;
    virtual TokenStore& tokens() = 0;
    virtual ApiKeyStore& api_keys() = 0;
    virtual AuditStore& audit() = 0;
    virtual EventStore& events() = 0;
    virtual AlertStore& alerts() = 0;
    virtual TemplateStore& templates() = 0;
    virtual ReportStore& reports() = 0;
    virtual GraphStore& graph() = 0;
    virtual MlStore& ml() = 0;
};

}  // namespace sai::storage
