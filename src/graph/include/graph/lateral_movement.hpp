#pragma once
// Lateral movement detection (ATT&CK TA0008) over facts the graph stage
// extracts from events, in event-time order:
//   graph.lateral_movement        a user authenticates along a chain of internal
//                                 hosts (A -> B -> C) within `chain_window`
//   graph.new_admin_connection    an internal host connects for the first time to
//                                 another internal host on an admin port (22,
//                                 3389, 445, 5985, 5986, 135), after the learning period
//   graph.fan_out                 one internal host reaches `fan_out_threshold`
//                                 distinct internal hosts within `fan_out_window`
// Each detection carries the path (or the fan-out targets) as evidence in its
// explanation. Single-threaded: owned by GraphService, called under its lock.

#include "model/alert.hpp"

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

namespace sai::graph {

struct LateralMovementOptions {
    std::int64_t chain_window_ms = 30 * 60 * 1000;
    std::size_t min_chain_hosts = 3;  // internal hosts on the chain, the first included
    std::int64_t fan_out_window_ms = 5 * 60 * 1000;
    std::size_t fan_out_threshold = 10;
    std::vector<std::uint16_t> admin_ports{22, 3389, 445, 5985, 5986, 135};
};

/// A successful or failed authentication of `user` on `target` from `source`.
struct AuthFact {
    std::string user;
    std::string source;  // host name or address; "" when unknown
    std::string target;
    bool source_internal = false;
    bool target_internal = true;
    bool success = true;
    std::uint16_t port = 0;
    int target_criticality = 0;  // 0 unknown, else 1..5
    std::int64_t ts = 0;         // Unix ms
    std::string event_id;
};

/// A network connection between two hosts; `first_time` when the graph had
/// never seen this (source, target, port) before and is past its learning period.
struct ConnectionFact {
    std::string source;
    std::string target;
    bool source_internal = false;
    bool target_internal = false;
    std::uint16_t port = 0;
    bool first_time = false;
    int target_criticality = 0;
    std::int64_t ts = 0;
    std::string event_id;
};

bool is_admin_port(const LateralMovementOptions& options, std::uint16_t port);

class LateralMovementDetector {
public:
    explicit LateralMovementDetector(LateralMovementOptions options = {});

    void on_auth(const AuthFact& fact, std::vector<model::Detection>& out);
    void on_connection(const ConnectionFact& fact, std::vector<model::Detection>& out);
    /// Drops state older than the windows (bounded memory); `now_ms` is event time.
    void expire(std::int64_t now_ms);
    std::size_t tracked() const;

private:
    struct Hop {
        std::string from, to;
        std::int64_t ts = 0;
        std::string event_id;
        std::uint16_t port = 0;
    };
    struct Chain {
        std::vector<Hop> hops;  // hosts: hops[0].from, then every hop's `to`
        std::int64_t ts = 0;    // of the last hop
        std::size_t reported = 0;  // chain length (hosts) already reported
        bool origin_internal = false;
    };
    struct FanOut {
        std::deque<std::pair<std::int64_t, std::string>> recent;  // (ts, target), oldest first
        std::unordered_map<std::string, std::uint32_t> targets;    // distinct targets in `recent`
        std::int64_t reported_at = 0;
        std::vector<std::string> event_ids;
    };
    static void drop_oldest(FanOut& fo);

    LateralMovementOptions options_;
    std::unordered_map<std::string, std::unordered_map<std::string, Chain>> chains_;  // user -> host reached -> chain
    std::unordered_map<std::string, FanOut> fan_out_;                                 // source host -> recent targets
};

}  // namespace sai::graph
