#pragma once
// Per-user behaviour: a baseline (usual hours, hosts, countries, data volume)
// learnt from the user's authentication and network events, and deviations
// from it, each scored 0..1 (unusual hour, new host, new country, volume far
// above the mean, failed logon). A user's score is the highest deviation of the
// last day (event time). Bounded: at most `max_users` users (the least recently
// seen are forgotten), 64 hosts and 32 countries per baseline, 100 timeline
// entries and 20 deviations per user. Single-threaded (GraphService's lock).

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sai::graph {

struct UserActivity {
    std::string user;
    std::int64_t ts = 0;  // Unix ms
    std::string host;
    std::string source_ip;
    std::string country;  // "" when unknown or internal
    std::uint64_t bytes = 0;
    bool success = true;
    std::string event_id;
};

struct Deviation {
    std::int64_t ts = 0;
    double score = 0;
    std::vector<std::string> reasons;  // "unusual_hour", "new_host", "new_country", "volume", "failed_logon"
    std::string host;
    std::string country;
    std::string event_id;
};

struct TimelineEntry {
    UserActivity activity;
    double score = 0;
    std::vector<std::string> reasons;
};

struct UserBaseline {
    std::array<std::uint64_t, 24> hours{};  // events per UTC hour of day
    std::unordered_map<std::string, std::uint64_t> hosts;
    std::unordered_map<std::string, std::uint64_t> countries;
    std::uint64_t events = 0;
    std::uint64_t failures = 0;
    double bytes_mean = 0;  // Welford, per event with bytes
    double bytes_m2 = 0;
    std::uint64_t bytes_n = 0;
    std::int64_t first_seen = 0;
    std::int64_t last_seen = 0;
};

struct UserProfile {
    std::string user;
    UserBaseline baseline;
    std::deque<Deviation> deviations;  // newest last
    std::deque<TimelineEntry> timeline;
    double score = 0;  // highest deviation in the last 24 h of this user's events
};

struct UserBehaviorOptions {
    std::size_t max_users = 50'000;
    std::uint64_t min_baseline_events = 20;  // no deviations are scored before this
    int min_hour_baseline_days = 7;          // unusual_hour() needs this much history: working hours take days to learn
    double report_threshold = 0.3;           // deviations kept from this score up
};

class UserBehavior {
public:
    explicit UserBehavior(UserBehaviorOptions options = {});
    /// Scores the activity against the user's baseline, then learns from it. Returns the score.
    double observe(const UserActivity& activity);
    /// Riskiest first (score, then most recent).
    std::vector<const UserProfile*> ranked(std::size_t limit) const;
    const UserProfile* find(const std::string& user) const;
    /// When the user has a mature baseline (min_baseline_events over at least
    /// min_hour_baseline_days) and the UTC hour of `ts` holds under 2% of their past
    /// activity: that share (0 for an hour never seen). nullopt otherwise. Does not learn.
    std::optional<double> unusual_hour(const std::string& user, std::int64_t ts) const;
    std::size_t size() const { return users_.size(); }

private:
    UserBehaviorOptions options_;
    std::unordered_map<std::string, UserProfile> users_;
};

}  // namespace sai::graph
