#pragma once
// Test data for the report tests: a temporary SQLite store with events, alerts
// (with workflow history), audit entries and verdict labels at known times.

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "model/alert.hpp"
#include "model/event.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sai::reports::testing {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kStart = 1'795'000'000'000 - 1'795'000'000'000 % kDay;  // midnight UTC
constexpr std::int64_t kEnd = kStart + 3 * kDay;

inline std::string uuid_at(std::int64_t ms) {
    return core::new_uuid_v7(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)));
}

/// Counts of what seed() stored, for assertions.
struct Seeded {
    std::int64_t events = 0;
    std::int64_t failed_logins = 0;
    std::int64_t alerts = 0;
    std::int64_t critical = 0;
    std::int64_t acknowledged = 0;  // alerts acknowledged 10 minutes after creation
    std::int64_t resolved = 0;      // of those, resolved 70 minutes after creation
    std::int64_t audit = 0;
    std::string incident_id;  // an alert with history, evidence and a remediation
};

inline std::unique_ptr<storage::SqliteStore> open_store(const std::filesystem::path& dir) {
    storage::SqliteOptions o;
    o.data_dir = dir;
    o.synchronous = "normal";
    return storage::SqliteStore::open(o).value();
}

inline Seeded seed(storage::Store& store, int alerts = 40, int events = 3000) {
    Seeded s;
    std::vector<model::Event> batch;
    for (int i = 0; i < events; ++i) {
        model::Event e;
        e.timestamp = kStart + static_cast<std::int64_t>(i) * (3 * kDay) / events;
        e.id = uuid_at(e.timestamp);
        e.ingested = e.timestamp;
        e.category = i % 3 == 0 ? "authentication" : i % 3 == 1 ? "network" : "process";
        e.outcome = i % 6 == 0 ? "failure" : "success";
        e.host_name = "host-" + std::to_string(i % 7);
        e.user_name = "user-" + std::to_string(i % 5);
        e.source_ip = "10.0.0." + std::to_string(i % 200);
        e.message = "event number " + std::to_string(i);
        s.failed_logins += e.category == "authentication" && e.outcome == "failure";
        batch.push_back(std::move(e));
        if (batch.size() == 1000) {
            EXPECT_TRUE(store.events().insert_batch(batch));
            batch.clear();
        }
    }
    EXPECT_TRUE(store.events().insert_batch(batch));
    s.events = events;

    std::vector<model::Alert> list;
    std::vector<model::AlertChange> changes;
    for (int i = 0; i < alerts; ++i) {
        model::Alert a;
        a.first_seen = kStart + kHour + static_cast<std::int64_t>(i) * (2 * kDay) / alerts;
        a.last_seen = a.first_seen + 5 * kMinute;
        a.created_at = a.first_seen;
        a.updated_at = a.last_seen;
        a.id = uuid_at(a.created_at);
        a.rule_id = "rule-" + std::to_string(i % 4);
        a.fingerprint = core::sha256_hex(a.id);
        a.title = "Brute force against host-" + std::to_string(i % 6) + ", \"quoted\" <b>bold</b>";
        a.description = "Many failed logins";
        a.severity = static_cast<model::Severity>(i % 5);
        a.risk = model::default_risk(a.severity);
        a.tactics = {i % 2 ? "credential-access" : "initial-access"};
        a.techniques = {"T1110"};
        a.entities.hosts = {"host-" + std::to_string(i % 6)};
        a.entities.users = {"user-" + std::to_string(i % 3)};
        a.entities.ips = {"203.0.113." + std::to_string(i)};
        a.event_ids = {batch.empty() ? uuid_at(a.first_seen) : batch.front().id};
        a.count = 1 + i;
        changes.push_back({a.id, a.created_at, "system", "created", "", "new", ""});
        s.critical += a.severity == model::Severity::Critical;
        if (i % 2 == 0) {
            changes.push_back({a.id, a.created_at + 10 * kMinute, "alice", "status", "new", "acknowledged", ""});
            a.status = model::AlertStatus::Acknowledged;
            ++s.acknowledged;
            if (i % 4 == 0) {
                changes.push_back({a.id, a.created_at + 70 * kMinute, "alice", "status", "acknowledged", "resolved",
                                   "contained"});
                a.status = model::AlertStatus::Resolved;
                a.verdict_reason = "contained";
                ++s.resolved;
            }
        }
        list.push_back(std::move(a));
    }
    if (!list.empty()) {
        auto& incident = list.front();
        s.incident_id = incident.id;
        // One evidence event that exists (the newest), one that retention removed.
        auto first = store.events().query({.from_ms = kStart, .to_ms = kEnd, .limit = 1}).value();
        incident.event_ids = {first.front().id, uuid_at(kStart - kDay)};
        changes.push_back({incident.id, incident.created_at + 20 * kMinute, "alice", "remediation", "",
                           "succeeded", "block_ip 203.0.113.0 for 60 minutes"});
    }
    EXPECT_TRUE(store.alerts().save(list, changes));
    s.alerts = alerts;

    // Audit entries, hash-chained with a stand-in seal (the real one lives in auth/).
    auto seal = [](const storage::AuditRecord& r) { return core::sha256_hex(r.prev_hash + r.action + r.ts); };
    for (int i = 0; i < 30; ++i) {
        storage::AuditRecord r;
        r.ts = core::format_rfc3339(core::TimePoint(std::chrono::milliseconds(kStart + 2 * kHour + i * kHour)));
        r.actor = i % 3 ? "user:alice" : "user:admin";
        r.role = i % 3 ? "analyst" : "admin";
        r.client_ip = "127.0.0.1";
        r.request_id = "req-" + std::to_string(i);
        r.action = i % 5 == 0 ? "auth.login" : "PUT /api/v1/alerts/{id}/status";
        r.target = "alert-" + std::to_string(i);
        r.outcome = i % 10 == 9 ? "denied" : "success";
        EXPECT_TRUE(store.audit().append(r, std::string(64, '0'), seal));
    }
    s.audit = 30;

    std::vector<model::AlertLabel> labels;
    for (int i = 0; i < 12; ++i) {
        labels.push_back({"ev-" + std::to_string(i), s.incident_id, i % 3 == 0 ? "benign" : "malicious", "resolved",
                          kStart + kHour * (i / 2)});  // pairs share a time: paging must not lose or repeat them
    }
    EXPECT_TRUE(store.alerts().add_labels(labels));
    return s;
}

}  // namespace sai::reports::testing
