#include "graph/lateral_movement.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace sai::graph {
namespace {

namespace bj = boost::json;

constexpr std::size_t kMaxChainHosts = 16;
constexpr std::size_t kMaxHostsPerUser = 256;
constexpr std::size_t kMaxFanOutEntries = 1024;

/// The technique of a remote service by port (T1021 sub-techniques).
std::string technique_for_port(std::uint16_t port) {
    switch (port) {
        case 3389: return "attack.t1021.001";
        case 445: case 139: return "attack.t1021.002";
        case 135: return "attack.t1021.003";
        case 22: return "attack.t1021.004";
        case 5985: case 5986: return "attack.t1021.006";
        default: return "";
    }
}

std::vector<std::string> base_tags(std::uint16_t port) {
    std::vector<std::string> tags{"attack.lateral_movement", "attack.ta0008", "attack.t1021"};
    if (auto t = technique_for_port(port); !t.empty()) tags.push_back(t);
    return tags;
}

}  // namespace

void LateralMovementDetector::drop_oldest(FanOut& fo) {
    auto it = fo.targets.find(fo.recent.front().second);
    if (it != fo.targets.end() && --it->second == 0) fo.targets.erase(it);
    fo.recent.pop_front();
}

bool is_admin_port(const LateralMovementOptions& options, std::uint16_t port) {
    return std::find(options.admin_ports.begin(), options.admin_ports.end(), port) != options.admin_ports.end();
}

LateralMovementDetector::LateralMovementDetector(LateralMovementOptions options) : options_(std::move(options)) {}

void LateralMovementDetector::on_auth(const AuthFact& f, std::vector<model::Detection>& out) {
    if (!f.success || f.user.empty() || f.target.empty() || !f.target_internal || f.source == f.target) return;
    auto& hosts = chains_[f.user];
    Chain chain;
    auto prev = f.source.empty() ? hosts.end() : hosts.find(f.source);
    if (prev != hosts.end() && f.ts - prev->second.ts <= options_.chain_window_ms && f.ts >= prev->second.ts) {
        chain = prev->second;
        // A loop back to a host already on the chain starts over from there.
        auto on_chain = std::find_if(chain.hops.begin(), chain.hops.end(),
                                     [&](const Hop& h) { return h.from == f.target; });
        if (on_chain != chain.hops.end()) {
            chain.hops.erase(on_chain, chain.hops.end());
            chain.reported = 0;
        }
    }
    if (chain.hops.size() >= kMaxChainHosts) chain.hops.erase(chain.hops.begin());
    chain.hops.push_back({f.source, f.target, f.ts, f.event_id, f.port});
    chain.ts = f.ts;

    if (chain.hops.size() == 1) chain.origin_internal = f.source_internal && !f.source.empty();

    // Internal hosts on the chain: every hop's target, and the origin when internal.
    std::vector<std::string> path;
    if (!chain.hops.front().from.empty()) path.push_back(chain.hops.front().from);
    for (const auto& h : chain.hops) path.push_back(h.to);
    const std::size_t internal = chain.hops.size() + (chain.origin_internal ? 1 : 0);

    if (internal >= options_.min_chain_hosts && path.size() > chain.reported) {
        chain.reported = path.size();
        model::Detection d;
        d.rule_id = "graph.lateral_movement";
        d.source = "graph";
        std::string arrow;
        for (const auto& h : path) arrow += (arrow.empty() ? "" : " -> ") + h;
        d.title = "Lateral movement: " + f.user + " authenticated along " + arrow;
        d.description = "The account " + f.user + " logged on to " + std::to_string(chain.hops.size()) +
                        " hosts in a chain, each from the previous one, within " +
                        std::to_string(options_.chain_window_ms / 60000) + " minutes.";
        d.severity = f.target_criticality >= 4 ? model::Severity::Critical : model::Severity::High;
        d.tags = base_tags(f.port);
        d.tags.push_back("attack.t1078");
        d.group_key = "chain:" + f.user + ":" + path.front();
        d.entities.users.push_back(f.user);
        // The outside address the chain started from is an address, not one of our hosts.
        const bool outside_origin =
            !chain.origin_internal && !path.front().empty() && path.front() != chain.hops.front().to;
        if (outside_origin) {
            d.entities.ips.push_back(path.front());
        }
        for (std::size_t i = outside_origin ? 1 : 0; i < path.size(); ++i) {
            if (std::find(d.entities.hosts.begin(), d.entities.hosts.end(), path[i]) == d.entities.hosts.end()) {
                d.entities.hosts.push_back(path[i]);
            }
        }
        bj::array hops;
        for (const auto& h : chain.hops) {
            d.event_ids.push_back(h.event_id);
            hops.push_back(bj::object{{"from", h.from}, {"to", h.to}, {"at_ms", h.ts}, {"port", h.port}, {"event_id", h.event_id}});
        }
        d.timestamp = f.ts;
        d.explanation = model::to_json_text(bj::object{{"detector", "auth_chain"},
                                                 {"user", f.user},
                                                 {"path", bj::array(path.begin(), path.end())},
                                                 {"hops", std::move(hops)},
                                                 {"window_seconds", options_.chain_window_ms / 1000}});
        out.push_back(std::move(d));
    }
    if (hosts.size() >= kMaxHostsPerUser && !hosts.contains(f.target)) {
        auto oldest = std::min_element(hosts.begin(), hosts.end(),
                                       [](const auto& a, const auto& b) { return a.second.ts < b.second.ts; });
        hosts.erase(oldest);
    }
    hosts[f.target] = std::move(chain);
}

void LateralMovementDetector::on_connection(const ConnectionFact& f, std::vector<model::Detection>& out) {
    if (!f.source_internal || !f.target_internal || f.source == f.target) return;
    if (f.first_time && is_admin_port(options_, f.port)) {
        model::Detection d;
        d.rule_id = "graph.new_admin_connection";
        d.source = "graph";
        d.title = "First connection from " + f.source + " to " + f.target + " on admin port " + std::to_string(f.port);
        d.description = "Two internal hosts that had never talked before connected on a remote administration port.";
        d.severity = f.target_criticality >= 4 ? model::Severity::High : model::Severity::Medium;
        d.tags = base_tags(f.port);
        d.group_key = "admin:" + f.source + "->" + f.target + ":" + std::to_string(f.port);
        d.entities.hosts = {f.source, f.target};
        d.event_ids = {f.event_id};
        d.timestamp = f.ts;
        d.explanation = model::to_json_text(bj::object{{"detector", "new_admin_connection"},
                                                 {"path", bj::array{f.source, f.target}},
                                                 {"port", f.port},
                                                 {"first_seen_ms", f.ts}});
        out.push_back(std::move(d));
    }

    auto& fo = fan_out_[f.source];
    fo.recent.emplace_back(f.ts, f.target);
    ++fo.targets[f.target];
    if (fo.event_ids.size() >= model::kMaxEvidenceEvents) fo.event_ids.erase(fo.event_ids.begin());
    fo.event_ids.push_back(f.event_id);
    while (!fo.recent.empty() && (fo.recent.front().first < f.ts - options_.fan_out_window_ms ||
                                  fo.recent.size() > kMaxFanOutEntries)) {
        drop_oldest(fo);
    }
    if (fo.targets.size() >= options_.fan_out_threshold && f.ts - fo.reported_at > options_.fan_out_window_ms) {
        fo.reported_at = f.ts;
        std::vector<std::string> sorted;
        for (const auto& [target, n] : fo.targets) sorted.push_back(target);
        std::sort(sorted.begin(), sorted.end());
        model::Detection d;
        d.rule_id = "graph.fan_out";
        d.source = "graph";
        d.title = "Fan-out: " + f.source + " reached " + std::to_string(sorted.size()) + " internal hosts in " +
                  std::to_string(options_.fan_out_window_ms / 60000) + " minutes";
        d.description = "One host suddenly connected to many internal hosts: internal scanning or spreading.";
        d.severity = model::Severity::High;
        d.tags = base_tags(0);
        d.tags.push_back("attack.discovery");
        d.tags.push_back("attack.t1046");
        d.group_key = "fanout:" + f.source;
        d.entities.hosts.push_back(f.source);
        for (std::size_t i = 0; i < sorted.size() && d.entities.hosts.size() < model::kMaxAlertEntities; ++i) {
            d.entities.hosts.push_back(sorted[i]);
        }
        d.event_ids = fo.event_ids;
        d.timestamp = f.ts;
        d.explanation = model::to_json_text(bj::object{{"detector", "fan_out"},
                                                 {"source", f.source},
                                                 {"targets", bj::array(sorted.begin(), sorted.end())},
                                                 {"window_seconds", options_.fan_out_window_ms / 1000},
                                                 {"threshold", options_.fan_out_threshold}});
        out.push_back(std::move(d));
        fo.event_ids.clear();
    }
}

void LateralMovementDetector::expire(std::int64_t now_ms) {
    for (auto u = chains_.begin(); u != chains_.end();) {
        auto& hosts = u->second;
        for (auto h = hosts.begin(); h != hosts.end();) {
            h = now_ms - h->second.ts > options_.chain_window_ms ? hosts.erase(h) : std::next(h);
        }
        u = hosts.empty() ? chains_.erase(u) : std::next(u);
    }
    for (auto it = fan_out_.begin(); it != fan_out_.end();) {
        auto& fo = it->second;
        while (!fo.recent.empty() && fo.recent.front().first < now_ms - options_.fan_out_window_ms) drop_oldest(fo);
        it = fo.recent.empty() ? fan_out_.erase(it) : std::next(it);
    }
}

std::size_t LateralMovementDetector::tracked() const {
    std::size_t n = fan_out_.size();
    for (const auto& [u, hosts] : chains_) n += hosts.size();
    return n;
}

}  // namespace sai::graph
