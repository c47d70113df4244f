#pragma once
// The synthetic environment of `securityai demo` and of the end-to-end tests:
// a small company (DMZ, application and database tiers, core services, two
// dozen workstations and their users) with a day of ordinary traffic, then an
// attack story in the last minutes:
//   1. 203.0.113.5 scans the DMZ,
//   2. brute-forces SSH on the exposed bastion-01 (root, admin, oracle, deploy),
//   3. gets in as `deploy`,
//   4. moves laterally bastion-01 -> app-02 -> db-01 over SSH with the same account,
//   5. and pulls about 2 GB out of db-01 to itself.
// Events use ECS fields (event.category authentication/network, event.outcome,
// source/destination ip and port, user.name, host.name, byte counts) and
// syslog-style messages ("Failed password for root from 203.0.113.5 port 52311
// ssh2") so rule-based and ML detectors see what they expect. Synthetic data,
// labelled as such (event.dataset "demo.*"); deterministic for a seed.

#include "model/asset.hpp"
#include "model/event.hpp"

#include <cstdint>
#include <vector>

namespace sai::graph {

struct DemoScenario {
    std::vector<model::Asset> assets;
    std::vector<model::Event> normal;  // the past day, oldest first
    std::vector<model::Event> attack;  // the story, oldest first
};

inline constexpr const char* kDemoAttacker = "203.0.113.5";

/// The scenario ending at `now_ms` (the attack's last event a few seconds before it).
DemoScenario make_demo_scenario(std::int64_t now_ms, unsigned seed = 42);

}  // namespace sai::graph
