#include "alerts/remediation.hpp"

#include "core/crypto.hpp"
#include "core/http_client.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "model/event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

extern char** environ;

namespace sai::alerts {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;
using core::Result;

bool valid_username(std::string_view u) {
    if (u.empty() || u.size() > 64) return false;
    return std::all_of(u.begin(), u.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@';
    });
}

bool valid_hostname(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    return std::all_of(h.begin(), h.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '-' || c == ':';
    });
}

/// Free text that goes into webhook bodies (JSON-escaped there): no control characters.
bool valid_text(std::string_view t) {
    return t.size() <= 4096 && std::none_of(t.begin(), t.end(), [](unsigned char c) { return c < 0x20 && c != '\t'; });
}

std::string pd_severity(model::Severity s) {
    switch (s) {
    case model::Severity::Critical: return "critical";
    case model::Severity::High: return "error";
    case model::Severity::Medium: return "warning";
    default: return "info";
    }
}

std::string summary(const model::Alert* a, std::string_view kind, const std::map<std::string, std::string>& fields) {
    std::string s;
    if (kind == "digest") {
        return "SecurityAI digest: " + (fields.count("count") ? fields.at("count") : std::string("0")) +
               " more alerts on route " + (fields.count("route") ? fields.at("route") : std::string(""));
    }
    if (a) {
        s = "[" + std::string(model::to_string(a->severity)) + "] " + a->title;
        if (!a->entities.ips.empty()) s += " (" + a->entities.ips.front() + ")";
        s += " x" + std::to_string(a->count);
    }
    if (kind != "notification") s = std::string(kind) + ": " + s;
    return s;
}

/// Runs argv without a shell, with a time limit; the exit status or an error.
Result<void> run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
        return make_error(Errc::Unavailable, "cannot run " + argv[0]);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    for (;;) {
        const pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return make_error(Errc::Timeout, argv[0] + " did not finish in time");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return make_error(Errc::Unavailable, argv[0] + " failed with status " + std::to_string(WEXITSTATUS(status)));
    }
    return {};
}

}  // namespace

namespace {

class ClientPoster final : public HttpPoster {
public:
    core::Result<int> post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body, std::chrono::milliseconds timeout) override {
        auto r = client_->post(url, headers, body, timeout);
        if (!r) return r.error();
        return r->status;
    }

private:
    std::unique_ptr<core::HttpClient> client_ = core::make_http_client();
};

}  // namespace

std::unique_ptr<HttpPoster> make_curl_poster() { return std::make_unique<ClientPoster>(); }

std::optional<WebhookTarget::Kind> parse_target_kind(std::string_view text) noexcept {
    if (text == "slack") return WebhookTarget::Kind::Slack;
    if (text == "pagerduty") return WebhookTarget::Kind::PagerDuty;
    if (text == "generic") return WebhookTarget::Kind::Generic;
    return std::nullopt;
}

std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body) {
    std::string data(timestamp);
    data += '.';
    data += body;
    return "sha256=" + core::hex_encode(core::hmac_sha256(secret, data));
}

WebhookMessage build_webhook(const WebhookTarget& t, std::string_view kind, const model::Alert* a,
                             const std::map<std::string, std::string>& fields, std::int64_t now_ms) {
    WebhookMessage m;
    m.headers.emplace_back("Content-Type", "application/json");
    bj::object params;
    for (const auto& [k, v] : fields) params[k] = v;
    switch (t.kind) {
    case WebhookTarget::Kind::Slack: {
        std::string text = summary(a, kind, fields);
        if (a && !a->techniques.empty()) text += " — ATT&CK " + a->techniques.front();
        m.body = model::to_json_text(bj::object{{"text", text}});
        break;
    }
    case WebhookTarget::Kind::PagerDuty: {
        bj::object details{{"kind", kind}, {"params", params}};
        if (a) details["alert"] = model::alert_to_json(*a);
        bj::object payload{{"summary", summary(a, kind, fields).substr(0, 1024)},
                           {"source", "securityai"},
                           {"severity", a ? pd_severity(a->severity) : std::string("info")},
                           {"custom_details", std::move(details)}};
        bj::object body{{"routing_key", t.secret}, {"event_action", "trigger"}, {"payload", std::move(payload)}};
        if (a) body["dedup_key"] = a->fingerprint;
        m.body = model::to_json_text(body);
        break;
    }
    case WebhookTarget::Kind::Generic: {
        bj::object body{{"type", kind}, {"params", params}, {"sent_at", core::format_rfc3339_ms(now_ms)}};
        if (a) body["alert"] = model::alert_to_json(*a);
        m.body = model::to_json_text(body);
        const std::string ts = std::to_string(now_ms / 1000);
        m.headers.emplace_back("X-SecurityAI-Timestamp", ts);
        if (!t.secret.empty()) {
            m.headers.emplace_back("X-SecurityAI-Signature", webhook_signature(t.secret, ts, m.body));
        }
        break;
    }
    }
    return m;
}

Result<void> validate(const RemediationConfig& c) {
    auto has_target = [&](const std::string& name) {
        return std::any_of(c.targets.begin(), c.targets.end(), [&](const WebhookTarget& t) { return t.name == name; });
    };
    for (const auto& t : c.targets) {
        if (t.name.empty()) return make_error(Errc::InvalidArgument, "alerts.targets: a target needs a name");
        if (!(t.url.starts_with("http://") || t.url.starts_with("https://"))) {
            return make_error(Errc::InvalidArgument, "alerts.targets." + t.name + ".url must be an http(s) URL");
        }
    }
    for (const auto& p : c.playbooks) {
        if (p.name.empty() || p.actions.empty()) {
            return make_error(Errc::InvalidArgument, "alerts.playbooks: each playbook needs a name and actions");
        }
        for (const auto& a : p.actions) {
            static const std::vector<std::string> kTypes{"block_ip", "disable_user", "webhook", "isolate_host",
                                                         "create_ticket"};
            if (std::find(kTypes.begin(), kTypes.end(), a.type) == kTypes.end()) {
                return make_error(Errc::InvalidArgument, "alerts.playbooks." + p.name + ": unknown action '" + a.type + "'");
            }
            if ((a.type == "webhook" || a.type == "isolate_host" || a.type == "create_ticket")) {
                auto it = a.params.find("target");
                if (it == a.params.end() || !has_target(it->second)) {
                    return make_error(Errc::InvalidArgument,
                                      "alerts.playbooks." + p.name + ": " + a.type + " needs a configured target");
                }
            }
        }
    }
    for (const auto& r : c.routes) {
        if (!has_target(r.target)) {
            return make_error(Errc::InvalidArgument, "alerts.routes." + r.name + ": unknown target '" + r.target + "'");
        }
    }
    if (!c.block_command.empty() && !c.block_command.front().starts_with("/")) {
        return make_error(Errc::InvalidArgument, "alerts.remediation.block_command must start with an absolute path");
    }
    return {};
}

struct RemediationService::Impl {
    storage::AlertStore& store;
    AlertManager& alerts;
    RemediationConfig config;
    std::unique_ptr<HttpPoster> poster;
    DisableUser disable_user;
    Audit audit;
    Clock clock;

    struct Target {
        WebhookTarget spec;
        CircuitBreaker breaker;
        std::atomic<std::uint64_t> sent{0};
        std::atomic<std::uint64_t> failed{0};
        Target(WebhookTarget s, int threshold, std::chrono::milliseconds cooldown)
            : spec(std::move(s)), breaker(threshold, cooldown) {}
    };
    std::map<std::string, std::unique_ptr<Target>> targets;

    std::mutex mutex;
    std::condition_variable cv;
    std::condition_variable idle_cv;
    std::deque<std::function<void()>> work;
    std::size_t in_flight = 0;
    bool stopping = false;
    std::vector<std::thread> threads;

    struct RouteState {
        std::int64_t window_start = 0;
        int sent_in_window = 0;
        std::int64_t last_digest = 0;
        std::vector<std::string> digest;  // "severity title (id)"
        std::size_t digest_dropped = 0;
    };
    std::mutex routes_mutex;
    std::map<std::string, RouteState> route_state;

    Impl(storage::AlertStore& s, AlertManager& a, RemediationConfig c, std::unique_ptr<HttpPoster> p, DisableUser d,
         Audit au, Clock cl)
        : store(s), alerts(a), config(std::move(c)), poster(std::move(p)), disable_user(std::move(d)),
          audit(std::move(au)), clock(cl ? std::move(cl) : Clock(core::now_unix_ms)) {
        for (const auto& t : config.targets) {
            targets.emplace(t.name, std::make_unique<Target>(t, config.breaker_threshold, config.breaker_cooldown));
        }
    }

    bool enqueue(std::function<void()> job) {
        {
            std::lock_guard lock(mutex);
            if (stopping || work.size() >= config.queue_capacity) return false;
            work.push_back(std::move(job));
        }
        cv.notify_one();
        return true;
    }

    void worker() {
        std::unique_lock lock(mutex);
        for (;;) {
            cv.wait_for(lock, std::chrono::seconds(1), [this] { return stopping || !work.empty(); });
            if (work.empty()) {
                if (stopping) return;
                lock.unlock();
                flush_digests(false);
                lock.lock();
                continue;
            }
            auto job = std::move(work.front());
            work.pop_front();
            ++in_flight;
            lock.unlock();
            try {
                job();
            } catch (const std::exception& e) {
                core::log::error("remediation job failed", {{"error", e.what()}});
            }
            lock.lock();
            --in_flight;
            if (work.empty() && in_flight == 0) idle_cv.notify_all();
        }
    }

    /// POSTs with retries and the target's breaker; the outcome as text.
    Result<std::string> deliver(Target& t, const WebhookMessage& m) {
        std::chrono::milliseconds backoff = config.backoff;
        std::string last = "not attempted";
        for (int attempt = 1; attempt <= std::max(1, config.max_attempts); ++attempt) {
            if (!t.breaker.allow(clock())) {
                ++t.failed;
                return make_error(Errc::Unavailable, "circuit open for target " + t.spec.name + " after repeated failures");
            }
            auto status = poster->post(t.spec.url, m.headers, m.body, t.spec.timeout);
            if (status && *status >= 200 && *status < 300) {
                t.breaker.on_success();
                ++t.sent;
                return "HTTP " + std::to_string(*status) + " after " + std::to_string(attempt) + " attempt(s)";
            }
            t.breaker.on_failure(clock());
            last = status ? "HTTP " + std::to_string(*status) : status.error().detail;
            if (status && *status >= 400 && *status < 500 && *status != 429) {
                break;  // the request itself is wrong: retrying will not help
            }
            if (attempt < config.max_attempts) {
                std::this_thread::sleep_for(backoff);
                backoff *= 2;
            }
        }
        ++t.failed;
        return make_error(Errc::Unavailable, "target " + t.spec.name + ": " + last);
    }

    Result<PlannedAction> plan_action(const ActionSpec& spec, const model::Alert& a) {
        PlannedAction p{spec.type, "", "", spec.params};
        for (const auto& [k, v] : spec.params) {
            if (!valid_text(k) || !valid_text(v)) {
                return make_error(Errc::InvalidArgument, "params." + k.substr(0, 64) + ": control characters are not allowed");
            }
        }
        auto param = [&](const char* name) -> std::string {
            auto it = spec.params.find(name);
            return it == spec.params.end() ? std::string() : it->second;
        };
        if (spec.type == "block_ip") {
            std::string ip = param("ip");
            if (ip.empty() && !a.entities.ips.empty()) ip = a.entities.ips.front();
            if (ip.empty()) return make_error(Errc::InvalidArgument, "block_ip: no ip given and the alert names none");
            auto canonical = model::canonical_ip(ip);
            if (!canonical) return make_error(Errc::InvalidArgument, "block_ip: '" + ip.substr(0, 64) + "' is not an IP address");
            std::int64_t ttl = config.default_block_ttl.count();
            if (auto t = param("ttl_minutes"); !t.empty()) {
                char* end = nullptr;
                ttl = std::strtoll(t.c_str(), &end, 10);
                if (*end != '\0' || ttl < 0 || ttl > 525600) {
                    return make_error(Errc::InvalidArgument, "block_ip: ttl_minutes must be 0 (forever) to 525600");
                }
            }
            p.target = *canonical;
            p.params["ttl_minutes"] = std::to_string(ttl);
            p.description = "add " + p.target + " to the blocklist" +
                            (ttl ? " for " + std::to_string(ttl) + " minutes" : std::string(" permanently")) +
                            (config.block_command.empty() ? "" : " and run " + config.block_command.front());
        } else if (spec.type == "disable_user") {
            std::string user = param("user");
            if (user.empty() && !a.entities.users.empty()) user = a.entities.users.front();
            if (!valid_username(user)) return make_error(Errc::InvalidArgument, "disable_user: no valid user name");
            p.target = user;
            p.description = "disable the SecurityAI account " + user;
        } else if (spec.type == "webhook" || spec.type == "isolate_host" || spec.type == "create_ticket") {
            const std::string target = param("target");
            if (!targets.contains(target)) {
                return make_error(Errc::InvalidArgument, spec.type + ": unknown target '" + target.substr(0, 64) + "'");
            }
            p.target = target;
            if (spec.type == "isolate_host") {
                std::string host = param("host");
                if (host.empty() && !a.entities.hosts.empty()) host = a.entities.hosts.front();
                if (!valid_hostname(host)) return make_error(Errc::InvalidArgument, "isolate_host: no valid host name");
                p.params["host"] = host;
                p.description = "ask " + target + " to isolate host " + host;
            } else if (spec.type == "create_ticket") {
                p.description = "open a ticket through " + target;
            } else {
                p.description = "POST the alert to " + target;
            }
        } else {
            return make_error(Errc::InvalidArgument,
                              "unknown action '" + spec.type.substr(0, 64) +
                                  "'; use block_ip, disable_user, webhook, isolate_host or create_ticket");
        }
        return p;
    }

    /// Sends each route's pending digest when its interval has passed (or at once with `force`).
    void flush_digests(bool force) {
        const std::int64_t now = clock();
        struct Due {
            const NotificationRoute* route;
            std::vector<std::string> lines;
            std::size_t dropped;
        };
        std::vector<Due> due;
        {
            std::lock_guard lock(routes_mutex);
            for (const auto& route : config.routes) {
                auto it = route_state.find(route.name);
                if (it == route_state.end() || it->second.digest.empty()) continue;
                auto& st = it->second;
                if (!force && now - st.last_digest < std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         route.digest_interval).count()) {
                    continue;
                }
                due.push_back({&route, std::move(st.digest), st.digest_dropped});
                st.digest.clear();
                st.digest_dropped = 0;
                st.last_digest = now;
            }
        }
        for (auto& d : due) {
            auto& t = *targets.at(d.route->target);
            std::string lines;
            for (std::size_t i = 0; i < d.lines.size() && i < 50; ++i) lines += d.lines[i] + "\n";
            const std::map<std::string, std::string> fields{
                {"route", d.route->name}, {"count", std::to_string(d.lines.size() + d.dropped)}, {"alerts", lines}};
            if (auto r = deliver(t, build_webhook(t.spec, "digest", nullptr, fields, now)); !r) {
                core::log::warn("digest failed", {{"target", t.spec.name}, {"error", r.error().detail}});
            }
        }
    }

    /// Runs one action for real; the outcome text or an error.
    Result<std::string> execute(const PlannedAction& p, const model::Alert& a, const std::string& actor) {
        const std::int64_t now = clock();
        if (p.type == "block_ip") {
            const std::int64_t ttl = std::stoll(p.params.at("ttl_minutes"));
            model::BlockedAddress b{p.target, "alert " + a.id + ": " + a.title, a.id, actor, now,
                                    ttl == 0 ? 0 : now + ttl * 60'000};
            if (auto r = store.block(b); !r) return r.error();
            if (!config.block_command.empty()) {
                std::vector<std::string> argv = config.block_command;
                for (auto& arg : argv) {
                    for (std::size_t pos; (pos = arg.find("{ip}")) != std::string::npos;) arg.replace(pos, 4, p.target);
                }
                if (auto r = run_command(argv, std::chrono::seconds(10)); !r) {
                    return make_error(r.error().code, "blocklisted, but the block command failed: " + r.error().detail);
                }
            }
            return std::string("blocked");
        }
        if (p.type == "disable_user") {
            if (!disable_user) return make_error(Errc::Unavailable, "account management is not available");
            if (auto r = disable_user(p.target, actor); !r) return r.error();
            return std::string("disabled");
        }
        auto& t = *targets.at(p.target);
        std::map<std::string, std::string> fields = p.params;
        fields.erase("target");
        return deliver(t, build_webhook(t.spec, p.type == "webhook" ? "remediation" : p.type, &a, fields, now));
    }
};

RemediationService::RemediationService(storage::AlertStore& store, AlertManager& alerts, RemediationConfig config,
                                       std::unique_ptr<HttpPoster> poster, DisableUser disable_user, Audit audit,
                                       Clock clock)
    : impl_(std::make_unique<Impl>(store, alerts, std::move(config), std::move(poster), std::move(disable_user),
                                   std::move(audit), std::move(clock))) {}

RemediationService::~RemediationService() { stop(); }

void RemediationService::start(int workers) {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = false;
    for (int i = 0; i < std::max(1, workers); ++i) {
        impl_->threads.emplace_back([this] { impl_->worker(); });
    }
}

void RemediationService::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->cv.notify_all();
    for (auto& t : impl_->threads) {
        if (t.joinable()) t.join();
    }
    impl_->threads.clear();
}

void RemediationService::drain() {
    std::unique_lock lock(impl_->mutex);
    impl_->idle_cv.wait(lock, [this] { return (impl_->work.empty() && impl_->in_flight == 0) || impl_->threads.empty(); });
}

Result<RemediationPlan> RemediationService::remediate(const std::string& alert_id, const RemediationRequest& request,
                                                      const std::string& actor) {
    auto alert = impl_->store.get(alert_id);
    if (!alert) return alert.error();
    std::vector<ActionSpec> specs;
    RemediationPlan plan;
    plan.alert_id = alert_id;
    plan.dry_run = request.dry_run;
    if (request.playbook) {
        auto it = std::find_if(impl_->config.playbooks.begin(), impl_->config.playbooks.end(),
                               [&](const Playbook& p) { return p.name == *request.playbook; });
        if (it == impl_->config.playbooks.end()) {
            return make_error(Errc::NotFound, "no playbook named '" + request.playbook->substr(0, 64) + "'");
        }
        plan.playbook = it->name;
        specs = it->actions;
    } else if (request.action) {
        specs.push_back(*request.action);
    } else {
        return make_error(Errc::InvalidArgument, "give a playbook or an action");
    }
    for (const auto& spec : specs) {
        auto p = impl_->plan_action(spec, *alert);
        if (!p) return p.error();
        plan.actions.push_back(std::move(*p));
    }
    plan.execution_id = core::new_uuid_v7();
    if (request.dry_run) {
        return plan;
    }
    std::string summary;
    for (const auto& p : plan.actions) summary += (summary.empty() ? "" : "; ") + p.description;
    if (auto r = impl_->alerts.record({alert_id, 0, actor, "remediation", "", "started",
                                       "execution " + plan.execution_id + ": " + summary});
        !r) {
        return r.error();
    }
    impl_->audit(actor, "alert.remediate", alert_id, "started", summary);
    const bool queued = impl_->enqueue([impl = impl_.get(), plan, a = *alert, actor] {
        for (const auto& p : plan.actions) {
            auto result = impl->execute(p, a, actor);
            const std::string outcome = result ? "succeeded" : "failed";
            const std::string detail = p.type + " " + p.target + ": " + (result ? *result : result.error().detail);
            if (auto r = impl->alerts.record({a.id, 0, actor, "remediation", "", outcome,
                                              "execution " + plan.execution_id + ": " + detail});
                !r) {
                core::log::warn("cannot record remediation", {{"alert_id", a.id}, {"error", r.error().detail}});
            }
            impl->audit(actor, "alert.remediate." + p.type, a.id, outcome, detail);
        }
    });
    if (!queued) {
        return make_error(Errc::Unavailable, "the remediation queue is full; retry later");
    }
    return plan;
}

void RemediationService::on_alerts(const std::vector<AlertUpdate>& updates) {
    auto& impl = *impl_;
    if (impl.config.routes.empty()) return;
    const std::int64_t now = impl.clock();
    for (const auto& u : updates) {
        if (!u.created) continue;
        const auto& a = u.alert;
        for (const auto& route : impl.config.routes) {
            if (a.severity < route.severity_min) continue;
            if (!route.rules.empty() && std::find(route.rules.begin(), route.rules.end(), a.rule_id) == route.rules.end()) {
                continue;
            }
            if (!route.tags.empty() && std::none_of(route.tags.begin(), route.tags.end(), [&](const std::string& t) {
                    return std::find(a.tags.begin(), a.tags.end(), t) != a.tags.end();
                })) {
                continue;
            }
            bool send_now = false;
            {
                std::lock_guard lock(impl.routes_mutex);
                auto& st = impl.route_state[route.name];
                if (now - st.window_start >= 60'000) {
                    st.window_start = now;
                    st.sent_in_window = 0;
                }
                if (st.sent_in_window < route.max_per_minute) {
                    ++st.sent_in_window;
                    send_now = true;
                } else if (st.digest.size() < 1000) {
                    if (st.last_digest == 0) st.last_digest = now;
                    st.digest.push_back(std::string(model::to_string(a.severity)) + " " + a.title + " (" + a.id + ")");
                } else {
                    ++st.digest_dropped;
                }
            }
            if (send_now) {
                auto* target = impl.targets.at(route.target).get();
                impl.enqueue([&impl, target, a] {
                    auto r = impl.deliver(*target, build_webhook(target->spec, "notification", &a, {}, impl.clock()));
                    if (!r) core::log::warn("notification failed", {{"target", target->spec.name}, {"error", r.error().detail}});
                });
            }
        }
    }
}

void RemediationService::flush_digests() { impl_->flush_digests(true); }

core::Result<std::vector<model::BlockedAddress>> RemediationService::blocklist() {
    return impl_->store.blocklist(impl_->clock());
}

core::Result<void> RemediationService::unblock(const std::string& ip, const std::string& actor) {
    auto canonical = model::canonical_ip(ip);
    if (!canonical) return make_error(Errc::InvalidArgument, "not an IP address");
    if (auto r = impl_->store.unblock(*canonical); !r) return r;
    impl_->audit(actor, "blocklist.remove", *canonical, "success", "");
    return {};
}

const RemediationConfig& RemediationService::config() const { return impl_->config; }

std::vector<TargetStatus> RemediationService::targets() const {
    std::vector<TargetStatus> out;
    const auto now = impl_->clock();
    for (const auto& [name, t] : impl_->targets) {
        const char* kind = t->spec.kind == WebhookTarget::Kind::Slack       ? "slack"
                           : t->spec.kind == WebhookTarget::Kind::PagerDuty ? "pagerduty"
                                                                            : "generic";
        out.push_back({name, kind, t->breaker.state(now), t->sent.load(), t->failed.load()});
    }
    return out;
}

}  // namespace sai::alerts
