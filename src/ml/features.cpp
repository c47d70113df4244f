#include "ml/features.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <functional>
#include <unordered_map>

namespace sai::ml {
namespace {

constexpr std::size_t kMaxDistinct = 256;   // ports / hosts remembered per source
constexpr std::size_t kMaxEvents = 512;     // failures / byte records per key
constexpr double kMsPerDay = 86400000.0;
constexpr double kTwoPi = 6.283185307179586;

const std::vector<std::string> kNames = {
    "bytes_out_log", "bytes_in_log", "duration_ms_log", "dst_port", "dst_port_well_known", "src_port_ephemeral",
    "severity", "category_code", "type_code", "action_code", "outcome_failure", "outcome_success", "transport_tcp",
    "transport_udp", "transport_icmp", "hour_sin", "hour_cos", "template_rarity", "login_attempts",
    "failed_logins_user", "failed_logins_source", "distinct_dst_ports_source", "distinct_dst_hosts_source",
    "bytes_out_source_log", "first_seen_user_host", "message_length_log"};

// Fixed vocabularies: the code is the 1-based position, 0 for anything else.
// Appending is a schema change (bump kEventSchemaVersion).
constexpr std::string_view kCategories[] = {"authentication", "network", "process", "file", "web", "intrusion_detection",
                                            "malware", "configuration", "iam", "host", "session", "database",
                                            "threat", "vulnerability", "email", "api", "package", "registry"};
constexpr std::string_view kTypes[] = {"start", "end", "info", "error", "access", "connection", "denied", "allowed",
                                       "creation", "deletion", "change", "user", "group", "protocol", "admin",
                                       "indicator", "installation"};
constexpr std::string_view kActions[] = {"login_attempt", "login", "ssh_login", "logout", "file_access",
                                         "network_connection", "process_start", "privilege_escalation",
                                         "data_transfer", "port_scan", "malware_detected", "config_change",
                                         "dns_query", "http_request", "user_created", "password_change"};

template <std::size_t N>
float code(const std::string_view (&vocabulary)[N], std::string_view value) {
    for (std::size_t i = 0; i < N; ++i) {
        if (vocabulary[i] == value) return static_cast<float>(i + 1);
    }
    return 0.0f;
}

float log1p_of(std::optional<std::int64_t> v) { return v ? static_cast<float>(std::log1p(static_cast<double>(std::max<std::int64_t>(*v, 0)))) : 0.0f; }

/// The seed's flat `login_attempts`, kept by the event mapping in `extra`.
std::int64_t login_attempts(const std::string& extra) {
    constexpr std::string_view kKey = "\"login_attempts\":";
    const auto at = extra.find(kKey);
    if (at == std::string::npos) return 0;
    std::size_t p = at + kKey.size();
    while (p < extra.size() && (extra[p] == ' ' || extra[p] == '"')) ++p;
    std::int64_t n = 0;
    std::from_chars(extra.data() + p, extra.data() + extra.size(), n);
    return std::clamp<std::int64_t>(n, 0, 1000000);
}

bool is_failure(const model::Event& e) {
    return e.outcome == "failure" || e.action.find("fail") != std::string::npos;
}

struct KeyState {
    std::int64_t last_seen = 0;
    std::deque<std::pair<std::int64_t, std::int64_t>> failures;  // (time, count)
    std::deque<std::pair<std::int64_t, std::int64_t>> bytes;     // (time, bytes)
    std::vector<std::pair<std::uint64_t, std::int64_t>> ports;   // (port, last time)
    std::vector<std::pair<std::uint64_t, std::int64_t>> hosts;   // (host hash, last time)
};

void push_bounded(std::deque<std::pair<std::int64_t, std::int64_t>>& q, std::int64_t t, std::int64_t v,
                  std::int64_t window) {
    q.emplace_back(t, v);
    while (!q.empty() && (q.size() > kMaxEvents || q.front().first <= t - window)) q.pop_front();
}

std::int64_t sum_since(const std::deque<std::pair<std::int64_t, std::int64_t>>& q, std::int64_t since) {
    std::int64_t s = 0;
    for (const auto& [t, v] : q) {
        if (t > since) s += v;
    }
    return s;
}

/// Remembers `value` at time t; returns how many distinct values were seen after `since`.
std::size_t touch_distinct(std::vector<std::pair<std::uint64_t, std::int64_t>>& seen, std::uint64_t value,
                           std::int64_t t, std::int64_t since) {
    auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& e) { return e.first == value; });
    if (it != seen.end()) {
        it->second = std::max(it->second, t);
    } else if (seen.size() < kMaxDistinct) {
        seen.emplace_back(value, t);
    } else {
        *std::min_element(seen.begin(), seen.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; }) = {value, t};
    }
    return static_cast<std::size_t>(
        std::count_if(seen.begin(), seen.end(), [&](const auto& e) { return e.second > since; }));
}

/// Keeps a map under `cap` entries: drops idle entries, then the oldest half.
template <class Map, class LastSeen>
void bound(Map& map, std::size_t cap, std::int64_t idle_before, LastSeen last_seen) {
    if (map.size() <= cap) return;
    std::erase_if(map, [&](const auto& kv) { return last_seen(kv.second) < idle_before; });
    if (map.size() <= cap * 3 / 4) return;
    std::vector<std::int64_t> times;
    times.reserve(map.size());
    for (const auto& kv : map) times.push_back(last_seen(kv.second));
    auto mid = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), mid, times.end());
    const std::int64_t cut = *mid;
    std::erase_if(map, [&](const auto& kv) { return last_seen(kv.second) < cut; });
}

}  // namespace

struct FeatureExtractor::State {
    std::unordered_map<std::string, KeyState> users;
    std::unordered_map<std::string, KeyState> sources;
    std::unordered_map<std::uint64_t, std::int64_t> pairs;  // hash(user, host) -> last seen
    std::unordered_map<std::string, double> templates;      // template id -> (decayed) count
    double template_total = 0;
};

FeatureExtractor::FeatureExtractor(FeatureExtractorOptions options)
    : options_(options), state_(std::make_unique<State>()) {}
FeatureExtractor::~FeatureExtractor() = default;

const std::vector<std::string>& FeatureExtractor::feature_names() { return kNames; }

std::vector<float> FeatureExtractor::extract(const model::Event& event) {
    std::vector<float> out(kNames.size());
    extract(event, out);
    return out;
}

std::size_t FeatureExtractor::tracked_keys() const {
    std::lock_guard lock(mutex_);
    return state_->users.size() + state_->sources.size();
}

void FeatureExtractor::extract(const model::Event& e, std::span<float> out) {
    const std::int64_t t = e.timestamp;
    std::size_t i = 0;
    auto put = [&](double v) { out[i++] = static_cast<float>(v); };
    put(log1p_of(e.source_bytes ? e.source_bytes : e.network_bytes));
    put(log1p_of(e.destination_bytes));
    put(e.duration_ns ? std::log1p(static_cast<double>(*e.duration_ns) / 1e6) : 0.0);
    put(e.destination_port ? static_cast<double>(*e.destination_port) : -1.0);
    put(e.destination_port && *e.destination_port < 1024 ? 1.0 : 0.0);
    put(e.source_port && *e.source_port >= 49152 ? 1.0 : 0.0);
    put(e.severity ? static_cast<double>(*e.severity) : -1.0);
    put(code(kCategories, e.category));
    put(code(kTypes, e.type));
    put(code(kActions, e.action));
    const bool failure = is_failure(e);
    put(failure ? 1.0 : 0.0);
    put(e.outcome == "success" ? 1.0 : 0.0);
    put(e.network_transport == "tcp" ? 1.0 : 0.0);
    put(e.network_transport == "udp" ? 1.0 : 0.0);
    put(e.network_transport == "icmp" || e.network_transport == "ipv6-icmp" ? 1.0 : 0.0);
    const double day = std::fmod(static_cast<double>(t), kMsPerDay) / kMsPerDay;
    put(std::sin(kTwoPi * day));
    put(std::cos(kTwoPi * day));
    const std::int64_t attempts = login_attempts(e.extra);

    std::lock_guard lock(mutex_);
    State& s = *state_;
    // Template rarity: bits of surprise of this template among those seen.
    double rarity = 0;
    if (!e.template_id.empty()) {
        if (s.templates.size() >= options_.max_templates && !s.templates.count(e.template_id)) {
            // Full: halve every count (old templates fade) and drop those below one.
            s.template_total = 0;
            for (auto& kv : s.templates) {
                kv.second /= 2;
                s.template_total += kv.second;
            }
            std::erase_if(s.templates, [](const auto& kv) { return kv.second < 1; });
        }
        const double count = s.templates[e.template_id] += 1;
        s.template_total += 1;
        rarity = -std::log2(count / s.template_total);
    }
    put(rarity);
    put(static_cast<double>(attempts));

    const std::int64_t failures = failure ? std::max<std::int64_t>(1, attempts) : 0;
    double user_failures = 0, source_failures = 0, ports = 0, hosts = 0, source_bytes = 0;
    const std::int64_t max_window =
        std::max({options_.failed_login_window_ms, options_.scan_window_ms, options_.bytes_window_ms});
    if (!e.user_name.empty()) {
        KeyState& u = s.users[e.user_name];
        u.last_seen = std::max(u.last_seen, t);
        if (failures) push_bounded(u.failures, t, failures, options_.failed_login_window_ms);
        user_failures = static_cast<double>(sum_since(u.failures, t - options_.failed_login_window_ms));
        bound(s.users, options_.max_keys, t - max_window, [](const KeyState& k) { return k.last_seen; });
    }
    if (!e.source_ip.empty()) {
        KeyState& src = s.sources[e.source_ip];
        src.last_seen = std::max(src.last_seen, t);
        if (failures) push_bounded(src.failures, t, failures, options_.failed_login_window_ms);
        source_failures = static_cast<double>(sum_since(src.failures, t - options_.failed_login_window_ms));
        const std::int64_t scan_since = t - options_.scan_window_ms;
        if (e.destination_port) {
            ports = static_cast<double>(
                touch_distinct(src.ports, static_cast<std::uint64_t>(*e.destination_port), t, scan_since));
        }
        const std::string& target = !e.destination_ip.empty() ? e.destination_ip : e.host_name;
        if (!target.empty()) {
            hosts = static_cast<double>(touch_distinct(src.hosts, std::hash<std::string>{}(target), t, scan_since));
        }
        const auto sent = e.source_bytes ? e.source_bytes : e.network_bytes;
        if (sent && *sent > 0) push_bounded(src.bytes, t, *sent, options_.bytes_window_ms);
        source_bytes = static_cast<double>(sum_since(src.bytes, t - options_.bytes_window_ms));
        bound(s.sources, options_.max_keys, t - max_window, [](const KeyState& k) { return k.last_seen; });
    }
    double first_seen = 0;
    if (!e.user_name.empty() && !e.host_name.empty()) {
        const std::uint64_t key = std::hash<std::string>{}(e.user_name) * 0x9E3779B97F4A7C15ull ^
                                  std::hash<std::string>{}(e.host_name);
        auto [it, added] = s.pairs.try_emplace(key, t);
        it->second = std::max(it->second, t);
        first_seen = added ? 1.0 : 0.0;
        // Pairs stay remembered far longer than any window: evict only the oldest half.
        bound(s.pairs, options_.max_pairs, std::numeric_limits<std::int64_t>::min(), [](std::int64_t v) { return v; });
    }
    put(user_failures);
    put(source_failures);
    put(ports);
    put(hosts);
    put(std::log1p(source_bytes));
    put(first_seen);
    put(std::log1p(static_cast<double>(e.message.size())));
}

std::string format_explanation(std::span<const FeatureContribution> contributions) {
    std::string out;
    char number[32];
    for (const auto& c : contributions) {
        if (!out.empty()) out += ", ";
        out += c.name.empty() ? "f" + std::to_string(c.feature) : c.name;
        std::snprintf(number, sizeof number, "=%+.3f", c.value);
        out += number;
    }
    return out;
}

}  // namespace sai::ml
