#pragma once
// Synthetic security events for the scorer and training tests: a steady
// "normal" stream and clearly anomalous events (exfiltration to a rare port
// after failed logins), plus an in-memory EventPageSource.

#include "ml/training_service.hpp"
#include "model/event.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace sai::ml::fixtures {

inline constexpr std::int64_t kStart = 1'790'000'000'000;  // 2026-09, Unix ms

inline constexpr std::int64_t kSpacingMs = 97'000;  // the baseline covers whole days (time-of-day features)

/// Ordinary traffic with some variety: web, ssh and DNS, a few failures.
inline model::Event normal_event(std::size_t i) {
    static const char* kMessages[] = {"connection accepted", "session opened for user", "dns query answered",
                                      "connection closed by peer after idle timeout"};
    static const std::int64_t kPorts[] = {443, 443, 443, 80, 22, 53};
    model::Event e;
    e.id = "n" + std::to_string(100000 + i);
    e.timestamp = kStart + static_cast<std::int64_t>(i) * kSpacingMs;
    e.category = "network";
    e.type = "connection";
    e.action = "allowed";
    e.outcome = i % 13 == 0 ? "failure" : "success";
    e.severity = i % 3 == 0 ? 2 : 1;
    e.source_ip = "10.0.0." + std::to_string(i % 30 + 1);
    e.destination_ip = "10.0.1." + std::to_string(i % 7 + 1);
    e.destination_port = kPorts[i % 6];
    e.source_port = 49152 + static_cast<std::int64_t>((i * 7919) % 16000);
    e.source_bytes = 500 + static_cast<std::int64_t>((i * 7919) % 5000);
    e.destination_bytes = 1000 + static_cast<std::int64_t>((i * 104729) % 20000);
    e.duration_ns = static_cast<std::int64_t>(i % 50 + 1) * 1'000'000;
    e.network_transport = e.destination_port == 53 ? "udp" : "tcp";
    e.user_name = "user" + std::to_string(i % 20);
    e.host_name = "web" + std::to_string(i % 5);
    e.message = kMessages[i % 4];
    return e;
}

inline model::Event anomalous_event(std::size_t i, std::int64_t at) {
    model::Event e;
    e.id = "a" + std::to_string(100000 + i);
    e.timestamp = at;
    e.category = "authentication";
    e.type = "start";
    e.action = "logon";
    e.outcome = "failure";
    e.severity = 4;
    e.source_ip = "203.0.113.66";
    e.destination_ip = "10.9.9." + std::to_string(i % 200);
    e.destination_port = 4444 + static_cast<std::int64_t>(i);
    e.source_port = 1234;
    e.source_bytes = 80'000'000;
    e.destination_bytes = 3;
    e.duration_ns = 900'000'000'000;
    e.network_transport = "udp";
    e.user_name = "intruder";
    e.host_name = "db-secret";
    e.message = "authentication failure for intruder from 203.0.113.66 with an unusually long message text";
    return e;
}

/// Newest first over [from, to), strictly before the cursor, like EventStore::query.
inline EventPageSource page_source(const std::vector<model::Event>& events) {
    auto sorted = std::make_shared<std::vector<model::Event>>(events);
    std::sort(sorted->begin(), sorted->end(), [](const auto& a, const auto& b) {
        return a.timestamp != b.timestamp ? a.timestamp > b.timestamp : a.id > b.id;
    });
    return [sorted](std::int64_t from, std::int64_t to, const std::optional<std::pair<std::int64_t, std::string>>& before,
                    std::size_t limit) -> core::Result<std::vector<model::Event>> {
        std::vector<model::Event> out;
        for (const auto& e : *sorted) {
            if (e.timestamp < from || e.timestamp >= to) continue;
            if (before && std::make_pair(e.timestamp, e.id) >= *before) continue;
            out.push_back(e);
            if (out.size() == limit) break;
        }
        return out;
    };
}

}  // namespace sai::ml::fixtures
