#include "alerts/alert_manager.hpp"

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sai::alerts {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

template <class T>
void keep_newest(std::vector<T>& v, std::size_t max) {
    if (v.size() > max) {
        v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() - max));
    }
}

std::string join_statuses(const std::vector<model::AlertStatus>& statuses) {
    std::string out;
    for (auto s : statuses) {
        out += (out.empty() ? "" : ", ") + std::string(model::to_string(s));
    }
    return out;
}

}  // namespace

std::string fingerprint(const model::Detection& d) {
    std::string key = d.group_key;
    if (key.empty()) {
        if (!d.entities.ips.empty()) {
            key = "ip:" + d.entities.ips.front();
        } else if (!d.entities.users.empty()) {
            key = "user:" + d.entities.users.front();
        } else if (!d.entities.hosts.empty()) {
            key = "host:" + d.entities.hosts.front();
        }
    }
    return core::sha256_hex(d.rule_id + '\x1f' + key);
}

model::Alert alert_from_detection(const model::Detection& d, std::string id, std::int64_t now_ms) {
    model::Alert a;
    a.id = std::move(id);
    a.fingerprint = fingerprint(d);
    a.rule_id = d.rule_id;
    a.title = d.title.empty() ? d.rule_id : d.title;
    a.description = d.description;
    a.source = d.source;
    a.severity = d.severity == model::Severity::Info ? model::Severity::Low : d.severity;
    a.risk = std::clamp(d.risk.value_or(model::default_risk(a.severity)), 0.0, 100.0);
    a.tags = d.tags;
    model::attack_from_tags(d.tags, a.tactics, a.techniques);
    a.entities.merge(d.entities);
    a.event_ids = d.event_ids;
    keep_newest(a.event_ids, model::kMaxEvidenceEvents);
    if (!d.explanation.empty()) {
        a.details.push_back(d.explanation);
    }
    const std::int64_t seen = d.timestamp > 0 ? d.timestamp : now_ms;
    a.first_seen = a.last_seen = seen;
    a.count = 1;
    a.created_at = a.updated_at = now_ms;
    return a;
}

void merge_detection(model::Alert& a, const model::Detection& d, std::int64_t now_ms) {
    const std::int64_t seen = d.timestamp > 0 ? d.timestamp : now_ms;
    a.first_seen = std::min(a.first_seen, seen);
    a.last_seen = std::max(a.last_seen, seen);
    ++a.count;
    for (const auto& id : d.event_ids) {
        if (std::find(a.event_ids.begin(), a.event_ids.end(), id) == a.event_ids.end()) {
            a.event_ids.push_back(id);
        }
    }
    keep_newest(a.event_ids, model::kMaxEvidenceEvents);
    if (!d.explanation.empty()) {
        a.details.push_back(d.explanation);
        keep_newest(a.details, model::kMaxEvidenceDetails);
    }
    a.entities.merge(d.entities);
    const auto severity = d.severity == model::Severity::Info ? model::Severity::Low : d.severity;
    a.severity = std::max(a.severity, severity);
    a.risk = std::max(a.risk, std::clamp(d.risk.value_or(model::default_risk(severity)), 0.0, 100.0));
    a.updated_at = now_ms;
}

struct AlertManager::Impl {
    storage::AlertStore& store;
    AlertManagerOptions options;
    AlertManager::Clock clock;
    std::vector<Listener> listeners;

    // Submitted detections, waiting for the flush thread.
    mutable std::mutex queue_mutex;
    std::condition_variable queue_cv;
    std::vector<model::Detection> queue;
    bool stopping = false;
    bool running = false;
    std::thread thread;

    // Alert state: the open alerts by fingerprint, suppressions, counters.
    mutable std::mutex state_mutex;
    std::unordered_map<std::string, model::Alert> open_by_fingerprint;
    std::vector<model::Suppression> active_suppressions;
    bool suppressions_loaded = false;
    AlertManagerStats counters;

    Impl(storage::AlertStore& s, AlertManagerOptions o, AlertManager::Clock c)
        : store(s), options(o), clock(c ? std::move(c) : AlertManager::Clock(core::now_unix_ms)) {}

    void notify(const std::vector<AlertUpdate>& updates) {
        if (updates.empty()) return;
        for (const auto& l : listeners) {
            try {
                l(updates);
            } catch (const std::exception& e) {
                core::log::warn("alert listener failed", {{"error", e.what()}});
            }
        }
    }

    Result<void> load_suppressions_locked() {
        auto all = store.suppressions();
        if (!all) return all.error();
        active_suppressions = std::move(*all);
        suppressions_loaded = true;
        return {};
    }

    /// The open alert for `fp` within the window, from memory or the store.
    model::Alert* find_open_locked(const std::string& fp, std::int64_t seen) {
        const std::int64_t window = options.dedup_window.count();
        if (auto it = open_by_fingerprint.find(fp); it != open_by_fingerprint.end()) {
            if (model::is_open(it->second.status) && seen - it->second.last_seen <= window) {
                return &it->second;
            }
            open_by_fingerprint.erase(it);
            return nullptr;
        }
        auto stored = store.find_open(fp, seen - window);
        if (!stored) return nullptr;
        auto [it, _] = open_by_fingerprint.emplace(fp, std::move(*stored));
        return &it->second;
    }

    void trim_cache_locked(std::int64_t now) {
        if (open_by_fingerprint.size() <= options.cache_capacity) return;
        std::vector<std::pair<std::int64_t, std::string>> by_age;
        by_age.reserve(open_by_fingerprint.size());
        for (const auto& [fp, a] : open_by_fingerprint) by_age.emplace_back(a.last_seen, fp);
        std::sort(by_age.begin(), by_age.end());
        const std::size_t excess = open_by_fingerprint.size() - options.cache_capacity / 2;
        for (std::size_t i = 0; i < excess && i < by_age.size(); ++i) {
            open_by_fingerprint.erase(by_age[i].second);  // still in the store: found again by find_open
        }
        (void)now;
    }

    /// Applies `batch`; returns the changed alerts (stored) for the listeners.
    std::vector<AlertUpdate> apply(std::vector<model::Detection>& batch) {
        std::lock_guard lock(state_mutex);
        const std::int64_t now = clock();
        if (!suppressions_loaded) {
            if (auto r = load_suppressions_locked(); !r) {
                core::log::warn("cannot load suppressions", {{"error", r.error().detail}});
            }
        }
        std::map<std::string, std::int64_t> hits;
        std::map<std::string, AlertUpdate> changed;  // by fingerprint
        std::vector<model::AlertChange> history;
        for (auto& d : batch) {
            ++counters.received;
            const model::Suppression* by = nullptr;
            for (const auto& s : active_suppressions) {
                if (s.active(now) && s.matches(d)) {
                    by = &s;
                    break;
                }
            }
            if (by) {
                ++counters.suppressed;
                ++hits[by->id];
                continue;
            }
            const std::string fp = fingerprint(d);
            const std::int64_t seen = d.timestamp > 0 ? d.timestamp : now;
            if (model::Alert* open = find_open_locked(fp, seen)) {
                merge_detection(*open, d, now);
                ++counters.merged;
                auto& entry = changed[fp];
                const bool created = entry.created;
                entry = AlertUpdate{*open, created};
            } else {
                auto alert = alert_from_detection(d, core::new_uuid_v7(), now);
                history.push_back({alert.id, now, "system", "created", "", "new",
                                   "opened by " + alert.source + " " + alert.rule_id});
                ++counters.created;
                changed[fp] = AlertUpdate{alert, true};
                open_by_fingerprint[fp] = std::move(alert);
            }
        }
        std::vector<AlertUpdate> out;
        std::vector<model::Alert> to_save;
        for (auto& [fp, u] : changed) {
            to_save.push_back(u.alert);
            out.push_back(std::move(u));
        }
        if (auto r = store.save(to_save, history); !r) {
            ++counters.store_errors;
            core::log::error("cannot store alerts", {{"error", r.error().detail}, {"alerts", to_save.size()}});
            // Forget what was not stored, so the cache never claims more than the store has.
            for (const auto& a : to_save) open_by_fingerprint.erase(a.fingerprint);
            return {};
        }
        if (!hits.empty()) {
            std::vector<std::pair<std::string, std::int64_t>> list(hits.begin(), hits.end());
            if (auto r = store.add_suppression_hits(list); !r) {
                core::log::warn("cannot count suppression hits", {{"error", r.error().detail}});
            }
            for (auto& s : active_suppressions) {
                if (auto it = hits.find(s.id); it != hits.end()) s.hits += it->second;
            }
        }
        trim_cache_locked(now);
        ++counters.flushes;
        return out;
    }

    void run() {
        std::unique_lock lock(queue_mutex);
        for (;;) {
            queue_cv.wait_for(lock, options.flush_interval, [this] { return stopping; });
            std::vector<model::Detection> batch;
            batch.swap(queue);
            const bool stop_now = stopping;
            lock.unlock();
            if (!batch.empty()) {
                notify(apply(batch));
            }
            lock.lock();
            if (stop_now && queue.empty()) return;
        }
    }

    /// The alert by id: the cached copy when it is open, else the store's.
    Result<model::Alert> load_locked(const std::string& id) {
        for (const auto& [fp, a] : open_by_fingerprint) {
            if (a.id == id) return a;
        }
        return store.get(id);
    }

    void remember_locked(const model::Alert& a) {
        if (model::is_open(a.status)) {
            open_by_fingerprint[a.fingerprint] = a;
        } else if (auto it = open_by_fingerprint.find(a.fingerprint); it != open_by_fingerprint.end() &&
                                                                       it->second.id == a.id) {
            open_by_fingerprint.erase(it);
        }
    }
};

AlertManager::AlertManager(storage::AlertStore& store, AlertManagerOptions options, Clock clock)
    : impl_(std::make_unique<Impl>(store, options, std::move(clock))) {}

AlertManager::~AlertManager() { stop(); }

void AlertManager::add_listener(Listener listener) { impl_->listeners.push_back(std::move(listener)); }

void AlertManager::start() {
    std::lock_guard lock(impl_->queue_mutex);
    if (impl_->running) return;
    impl_->running = true;
    impl_->stopping = false;
    impl_->thread = std::thread([this] { impl_->run(); });
}

void AlertManager::stop() {
    {
        std::lock_guard lock(impl_->queue_mutex);
        if (!impl_->running) {
            return;
        }
        impl_->stopping = true;
    }
    impl_->queue_cv.notify_all();
    impl_->thread.join();
    std::lock_guard lock(impl_->queue_mutex);
    impl_->running = false;
}

void AlertManager::submit(std::vector<model::Detection> detections) {
    if (detections.empty()) return;
    std::lock_guard lock(impl_->queue_mutex);
    const std::size_t room =
        impl_->queue.size() < impl_->options.queue_capacity ? impl_->options.queue_capacity - impl_->queue.size() : 0;
    const std::size_t take = std::min(room, detections.size());
    if (take < detections.size()) {
        std::lock_guard state(impl_->state_mutex);
        impl_->counters.dropped += detections.size() - take;
    }
    for (std::size_t i = 0; i < take; ++i) {
        impl_->queue.push_back(std::move(detections[i]));
    }
}

void AlertManager::flush() {
    std::vector<model::Detection> batch;
    {
        std::lock_guard lock(impl_->queue_mutex);
        batch.swap(impl_->queue);
    }
    if (!batch.empty()) {
        impl_->notify(impl_->apply(batch));
    }
}

Result<model::Alert> AlertManager::create_manual(model::Detection d, const std::string& actor) {
    model::Alert alert;
    {
        std::lock_guard lock(impl_->state_mutex);
        const std::int64_t now = impl_->clock();
        d.source = "manual";
        if (d.rule_id.empty()) d.rule_id = "manual";
        alert = alert_from_detection(d, core::new_uuid_v7(), now);
        // Manual alerts never absorb detections: their fingerprint is their own.
        alert.fingerprint = core::sha256_hex("manual\x1f" + alert.id);
        model::AlertChange created{alert.id, now, actor, "created", "", "new", "created manually"};
        if (auto r = impl_->store.save(std::span(&alert, 1), std::span(&created, 1)); !r) return r.error();
        ++impl_->counters.created;
    }
    impl_->notify({AlertUpdate{alert, true}});
    return alert;
}

Result<model::Alert> AlertManager::change_status(const std::string& id, const StatusChange& change,
                                                 const std::string& actor) {
    model::Alert alert;
    {
        std::lock_guard lock(impl_->state_mutex);
        auto loaded = impl_->load_locked(id);
        if (!loaded) return loaded.error();
        alert = std::move(*loaded);
        const auto from = alert.status;
        const bool verdict = change.to == model::AlertStatus::Resolved || change.to == model::AlertStatus::FalsePositive;
        if (change.to != from) {
            const auto allowed = model::allowed_transitions(from);
            if (std::find(allowed.begin(), allowed.end(), change.to) == allowed.end()) {
                return make_error(Errc::Conflict, "cannot move an alert from " + std::string(model::to_string(from)) +
                                                      " to " + std::string(model::to_string(change.to)) +
                                                      "; allowed: " + join_statuses(allowed));
            }
            if (verdict && change.comment.empty()) {
                return make_error(Errc::InvalidArgument,
                                  "comment: a " + std::string(model::to_string(change.to)) + " verdict needs a reason");
            }
        } else if (!change.assignee && change.comment.empty()) {
            return make_error(Errc::Conflict, "the alert is already " + std::string(model::to_string(from)));
        }
        const std::int64_t now = impl_->clock();
        std::vector<model::AlertChange> changes;
        if (change.to != from) {
            alert.status = change.to;
            alert.verdict_reason = verdict ? change.comment : "";
            changes.push_back({alert.id, now, actor, change.to == model::AlertStatus::New ? "reopened" : "status",
                               std::string(model::to_string(from)), std::string(model::to_string(change.to)),
                               change.comment});
        } else if (!change.comment.empty()) {
            changes.push_back({alert.id, now, actor, "comment", "", "", change.comment});
        }
        if (change.assignee && *change.assignee != alert.assignee) {
            changes.push_back({alert.id, now, actor, "assigned", alert.assignee, *change.assignee, ""});
            alert.assignee = *change.assignee;
        }
        alert.updated_at = now;
        if (auto r = impl_->store.save(std::span(&alert, 1), changes); !r) return r.error();
        if (verdict && change.to != from) {
            // Verdicts become training labels for the threat classifier.
            const std::string label = change.to == model::AlertStatus::FalsePositive ? "benign"
                                      : alert.severity >= model::Severity::High      ? "malicious"
                                                                                    : "suspicious";
            std::vector<model::AlertLabel> labels;
            for (const auto& event_id : alert.event_ids) {
                labels.push_back({event_id, alert.id, label, std::string(model::to_string(change.to)), now});
            }
            if (auto r = impl_->store.add_labels(labels); !r) {
                core::log::warn("cannot store verdict labels", {{"alert_id", alert.id}, {"error", r.error().detail}});
            }
        }
        impl_->remember_locked(alert);
    }
    impl_->notify({AlertUpdate{alert, false}});
    return alert;
}

Result<model::AlertChange> AlertManager::comment(const std::string& id, const std::string& text,
                                                 const std::string& actor) {
    std::lock_guard lock(impl_->state_mutex);
    auto alert = impl_->load_locked(id);
    if (!alert) return alert.error();
    model::AlertChange c{alert->id, impl_->clock(), actor, "comment", "", "", text};
    if (auto r = impl_->store.save({}, std::span(&c, 1)); !r) return r.error();
    return c;
}

Result<void> AlertManager::record(model::AlertChange change) {
    if (change.at == 0) change.at = impl_->clock();
    return impl_->store.save({}, std::span(&change, 1));
}

Result<model::Suppression> AlertManager::add_suppression(model::Suppression s) {
    std::lock_guard lock(impl_->state_mutex);
    if (s.id.empty()) s.id = core::new_uuid_v7();
    if (s.created_at == 0) s.created_at = impl_->clock();
    if (auto r = impl_->store.add_suppression(s); !r) return r.error();
    if (auto r = impl_->load_suppressions_locked(); !r) return r.error();
    return s;
}

Result<void> AlertManager::delete_suppression(const std::string& id) {
    std::lock_guard lock(impl_->state_mutex);
    if (auto r = impl_->store.delete_suppression(id); !r) return r;
    return impl_->load_suppressions_locked();
}

Result<std::vector<model::Suppression>> AlertManager::suppressions() {
    std::lock_guard lock(impl_->state_mutex);
    if (auto r = impl_->load_suppressions_locked(); !r) return r.error();
    return impl_->active_suppressions;
}

Result<SuppressionPreview> AlertManager::preview(const model::Suppression& s, int days) {
    SuppressionPreview out;
    storage::AlertQuery q;
    q.from_ms = impl_->clock() - std::int64_t{days} * 24 * 3600 * 1000;
    q.limit = 1000;
    if (s.scope == model::Suppression::Scope::Rule) q.rule_id = s.value;
    for (std::size_t page = 0; page < 100; ++page) {
        q.offset = page * q.limit;
        auto alerts = impl_->store.query(q);
        if (!alerts) return alerts.error();
        for (const auto& a : *alerts) {
            if (!s.matches(a)) continue;
            ++out.alerts;
            out.detections += a.count;
            if (out.sample_ids.size() < 20) out.sample_ids.push_back(a.id);
        }
        if (alerts->size() < q.limit) break;
    }
    return out;
}

AlertManagerStats AlertManager::stats() const {
    AlertManagerStats s;
    {
        std::lock_guard lock(impl_->state_mutex);
        s = impl_->counters;
        s.cached_alerts = impl_->open_by_fingerprint.size();
    }
    std::lock_guard lock(impl_->queue_mutex);
    s.queue_depth = impl_->queue.size();
    return s;
}

}  // namespace sai::alerts
