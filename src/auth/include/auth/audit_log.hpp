#pragma once
// The tamper-evident audit log. Entries are hash-chained: each stores
// SHA-256(previous hash || its own canonical content), so editing or deleting any
// entry breaks verification from that point on.
//
// record() never blocks on the store: entries go to a bounded queue that one
// writer thread drains in order. The store links each entry to the chain's end
// inside its write transaction, so the server and CLI commands can share a log.
// flush() waits until everything recorded so far is stored.

#include "core/error.hpp"
#include "storage/auth_stores.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace sai::auth {

struct AuditEvent {
    std::string actor = "anonymous";
    std::string role;
    std::string client_ip;
    std::string request_id;
    std::string action;
    std::string target;
    std::string outcome = "success";  // success, failure, denied
    std::string detail;
};

/// The hash of an entry given its predecessor's hash (64 zeros for the first).
std::string audit_hash(const storage::AuditRecord& record);
inline const std::string kAuditGenesis(64, '0');

struct AuditVerification {
    bool ok = true;
    std::int64_t entries = 0;
    std::int64_t first_broken_seq = 0;  // 0 when ok
    std::string reason;
};

/// Walks the whole chain. Store errors are errors; a broken chain is a result.
core::Result<AuditVerification> verify_audit_chain(storage::AuditStore& store);

/// Owned by the composition root; outlives every caller of record().
class AuditLog {
public:
    /// Appends to the chain found in `store`.
    static core::Result<std::unique_ptr<AuditLog>> open(storage::AuditStore& store, std::size_t queue_capacity = 65536);
    ~AuditLog();  // flushes

    /// Thread-safe, non-blocking unless the queue is full (then it waits: audit
    /// entries are never dropped).
    void record(AuditEvent event);
    /// Blocks until every entry recorded before the call is stored.
    void flush();
    std::int64_t written() const;

private:
    struct Impl;
    explicit AuditLog(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::auth
