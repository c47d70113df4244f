#include "graph/user_behavior.hpp"

#include <algorithm>
#include <cmath>

namespace sai::graph {
namespace {

constexpr std::size_t kMaxHosts = 64;
constexpr std::size_t kMaxCountries = 32;
constexpr std::size_t kMaxTimeline = 100;
constexpr std::size_t kMaxDeviations = 20;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;
constexpr double kUnusualHourShare = 0.02;

int hour_of(std::int64_t ts) { return static_cast<int>(((ts / 3600000) % 24 + 24) % 24); }

double hour_share(const UserBaseline& b, std::int64_t ts) {
    return static_cast<double>(b.hours[hour_of(ts)]) / static_cast<double>(b.events);
}

template <class Map>
void count(Map& map, const std::string& key, std::size_t cap) {
    if (key.empty()) return;
    auto it = map.find(key);
    if (it != map.end()) {
        ++it->second;
    } else if (map.size() < cap) {
        map.emplace(key, 1);
    }
}

}  // namespace

UserBehavior::UserBehavior(UserBehaviorOptions options) : options_(options) {}

double UserBehavior::observe(const UserActivity& a) {
    if (a.user.empty()) return 0;
    if (!users_.contains(a.user) && users_.size() >= options_.max_users) {
        auto oldest = std::min_element(users_.begin(), users_.end(), [](const auto& x, const auto& y) {
            return x.second.baseline.last_seen < y.second.baseline.last_seen;
        });
        users_.erase(oldest);
    }
    UserProfile& p = users_[a.user];
    p.user = a.user;
    UserBaseline& b = p.baseline;

    std::vector<std::string> reasons;
    double keep = 1.0;
    auto add = [&](const char* reason, double weight) {
        reasons.emplace_back(reason);
        keep *= 1.0 - weight;
    };
    if (b.events >= options_.min_baseline_events) {
        if (hour_share(b, a.ts) < kUnusualHourShare) add("unusual_hour", 0.25);
        if (!a.host.empty() && !b.hosts.contains(a.host)) add("new_host", 0.3);
        if (!a.country.empty() && !b.countries.contains(a.country)) add("new_country", 0.4);
        if (a.bytes > 0 && b.bytes_n >= 10) {
            const double sd = std::sqrt(b.bytes_m2 / static_cast<double>(b.bytes_n - 1));
            if (static_cast<double>(a.bytes) > b.bytes_mean + 3 * std::max(sd, 0.1 * b.bytes_mean + 1)) add("volume", 0.35);
        }
        if (!a.success) add("failed_logon", 0.1);
    }
    const double score = 1.0 - keep;

    // Learn (after scoring, so the event is judged against the past only).
    ++b.events;
    ++b.hours[hour_of(a.ts)];
    if (!a.success) ++b.failures;
    count(b.hosts, a.host, kMaxHosts);
    count(b.countries, a.country, kMaxCountries);
    if (a.bytes > 0) {
        ++b.bytes_n;
        const double x = static_cast<double>(a.bytes);
        const double delta = x - b.bytes_mean;
        b.bytes_mean += delta / static_cast<double>(b.bytes_n);
        b.bytes_m2 += delta * (x - b.bytes_mean);
    }
    if (b.first_seen == 0 || a.ts < b.first_seen) b.first_seen = a.ts;
    b.last_seen = std::max(b.last_seen, a.ts);

    p.timeline.push_back({a, score, reasons});
    if (p.timeline.size() > kMaxTimeline) p.timeline.pop_front();
    if (score >= options_.report_threshold) {
        p.deviations.push_back({a.ts, score, reasons, a.host, a.country, a.event_id});
        if (p.deviations.size() > kMaxDeviations) p.deviations.pop_front();
    }
    p.score = 0;
    for (const auto& d : p.deviations) {
        if (d.ts >= b.last_seen - kDay) p.score = std::max(p.score, d.score);
    }
    return score;
}

std::vector<const UserProfile*> UserBehavior::ranked(std::size_t limit) const {
    std::vector<const UserProfile*> out;
    out.reserve(users_.size());
    for (const auto& [name, p] : users_) out.push_back(&p);
    std::sort(out.begin(), out.end(), [](const UserProfile* a, const UserProfile* b) {
        if (a->score != b->score) return a->score > b->score;
        if (a->baseline.last_seen != b->baseline.last_seen) return a->baseline.last_seen > b->baseline.last_seen;
        return a->user < b->user;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
}

const UserProfile* UserBehavior::find(const std::string& user) const {
    auto it = users_.find(user);
    return it == users_.end() ? nullptr : &it->second;
}

std::optional<double> UserBehavior::unusual_hour(const std::string& user, std::int64_t ts) const {
    auto it = users_.find(user);
    if (it == users_.end()) return std::nullopt;
    const UserBaseline& b = it->second.baseline;
    if (b.events < options_.min_baseline_events || b.last_seen - b.first_seen < options_.min_hour_baseline_days * kDay) {
        return std::nullopt;
    }
    const double share = hour_share(b, ts);
    if (share >= kUnusualHourShare) return std::nullopt;
    return share;
}

}  // namespace sai::graph
