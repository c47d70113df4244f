// `securityai demo`: sends the synthetic environment of graph/demo_scenario.hpp
// (assets, a day of ordinary traffic, then the attack story) to a running
// server, so a new user sees events, alerts, a lateral-movement detection and
// an attack path within a minute.

#include "app.hpp"
#include "core/time.hpp"
#include "core/log.hpp"
#include "graph/demo_scenario.hpp"
#include "model/event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>
#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

namespace sai::app {
namespace {

namespace bj = boost::json;

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

/// A minimal JSON-over-HTTP client (libcurl), one connection reused.
class Client {
public:
    explicit Client(std::string base) : base_(std::move(base)), curl_(curl_easy_init()) {}
    ~Client() { curl_easy_cleanup(curl_); }
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void set_credential(const std::string& header) { credential_ = header; }

    struct Reply {
        long status = 0;
        std::string body;
    };
    /// Retries 429/503 with backoff (ingestion is idempotent by event id).
    core::Result<Reply> send(const char* method, const std::string& path, const std::string& body,
                             const char* content_type = "application/json") {
        for (int attempt = 0;; ++attempt) {
            Reply reply;
            curl_slist* headers = curl_slist_append(nullptr, (std::string("Content-Type: ") + content_type).c_str());
            if (!credential_.empty()) headers = curl_slist_append(headers, credential_.c_str());
            curl_easy_reset(curl_);
            const std::string url = base_ + path;
            curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
            curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
            curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
            if (!body.empty()) {
                curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
                curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
            }
            curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect_body);
            curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply.body);
            curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 120L);
            const CURLcode rc = curl_easy_perform(curl_);
            curl_slist_free_all(headers);
            curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
            if (rc != CURLE_OK) {
                return core::make_error(core::Errc::Unavailable,
                                        "cannot reach " + url + ": " + curl_easy_strerror(rc));
            }
            if ((reply.status == 429 || reply.status == 503) && attempt < 30) {
                std::this_thread::sleep_for(std::chrono::milliseconds(200 * (attempt + 1)));
                continue;
            }
            return reply;
        }
    }

private:
    std::string base_;
    CURL* curl_;
    std::string credential_;
};

std::string ndjson(std::vector<model::Event>::const_iterator begin, std::vector<model::Event>::const_iterator end) {
    std::string body;
    for (auto it = begin; it != end; ++it) {
        body += model::event_to_json_text(*it);
        body += '\n';
    }
    return body;
}

core::Result<void> send_events(Client& client, const std::vector<model::Event>& events, std::size_t batch) {
    for (std::size_t i = 0; i < events.size(); i += batch) {
        const auto end = events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + batch));
        auto r = client.send("POST", "/api/v1/monitor/events", ndjson(events.begin() + static_cast<std::ptrdiff_t>(i), end),
                             "application/x-ndjson");
        if (!r) return r.error();
        if (r->status != 202) {
            return core::make_error(core::Errc::InvalidArgument, "ingest answered " + std::to_string(r->status) + ": " +
                                                                     r->body.substr(0, 300));
        }
    }
    return {};
}

void say(bool quiet, const std::string& text) {
    if (!quiet) std::fprintf(stderr, "  %s\n", text.c_str());
}

}  // namespace

int demo(const DemoCommand& cmd) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    if (cmd.duration_seconds < 0 || cmd.duration_seconds > 600) return fail("--duration must be 0 to 600 seconds", 2);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    std::string base = cmd.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    Client client(base);

    const std::string api_key = !cmd.api_key.empty() ? cmd.api_key : core::process_env("SECURITYAI_API_KEY").value_or("");
    if (!api_key.empty()) {
        client.set_credential("X-API-Key: " + api_key);
    } else {
        const std::string password =
            !cmd.password.empty() ? cmd.password : core::process_env("SECURITYAI_ADMIN_PASSWORD").value_or("");
        if (password.empty()) {
            return fail("demo needs --api-key, or --password (default: env SECURITYAI_ADMIN_PASSWORD) for --username", 2);
        }
        auto login = client.send("POST", "/api/v1/auth/login",
                                 model::to_json_text(bj::object{{"username", cmd.username}, {"password", password}}));
        if (!login) return fail(login.error().detail);
        if (login->status != 200) return fail("login as " + cmd.username + " failed (" + std::to_string(login->status) + ")");
        boost::system::error_code ec;
        auto v = bj::parse(login->body, ec);
        if (ec || !v.is_object() || !v.as_object().contains("access_token")) return fail("unexpected login answer");
        client.set_credential("Authorization: Bearer " + std::string(v.at("access_token").as_string()));
    }

    const bool quiet = cmd.quiet || isatty(STDERR_FILENO) == 0;
    auto scenario = graph::make_demo_scenario(core::now_unix_ms(), cmd.seed);
    const auto stamp = core::now_unix_ms();
    for (auto& e : scenario.normal) model::ensure_identity(e, stamp);
    for (auto& e : scenario.attack) model::ensure_identity(e, stamp);

    std::size_t created = 0, existing = 0;
    for (const auto& a : scenario.assets) {
        auto body = model::asset_to_json(a);
        for (const char* generated : {"id", "created_at", "updated_at", "discovered"}) body.erase(generated);
        auto r = client.send("POST", "/api/v1/assets", model::to_json_text(body));
        if (!r) return fail(r.error().detail);
        if (r->status == 201) {
            ++created;
        } else if (r->status == 409) {
            ++existing;  // a previous demo run
        } else {
            return fail("creating asset " + a.name + " failed (" + std::to_string(r->status) + "): " + r->body.substr(0, 300));
        }
    }
    say(quiet, std::to_string(created) + " assets created, " + std::to_string(existing) + " already there");
    if (auto r = send_events(client, scenario.normal, 1000); !r) return fail(r.error().detail);
    say(quiet, std::to_string(scenario.normal.size()) + " events of an ordinary day sent");

    // The story, paced over --duration seconds so it unfolds live on the dashboards.
    const std::size_t steps = 12;
    const std::size_t per_step = (scenario.attack.size() + steps - 1) / steps;
    for (std::size_t i = 0; i < scenario.attack.size(); i += per_step) {
        const auto end = std::min(scenario.attack.size(), i + per_step);
        std::vector<model::Event> part(scenario.attack.begin() + static_cast<std::ptrdiff_t>(i),
                                       scenario.attack.begin() + static_cast<std::ptrdiff_t>(end));
        if (auto r = send_events(client, part, part.size()); !r) return fail(r.error().detail);
        if (cmd.duration_seconds > 0 && end < scenario.attack.size()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(cmd.duration_seconds * 1000 / static_cast<int>(steps)));
        }
    }
    say(quiet, std::to_string(scenario.attack.size()) + " attack events sent: scan, SSH brute force on bastion-01, "
               "lateral movement bastion-01 -> app-02 -> db-01, 2 GiB out to " + std::string(graph::kDemoAttacker));
    say(quiet, "look at: GET /api/v1/alerts?rule=graph.lateral_movement");
    say(quiet, "         GET /api/v1/visualize/attack-paths?source=host:bastion-01&target=host:db-01");
    say(quiet, "         GET /api/v1/visualize/threat-map, /network-topology, /user-behavior");
    std::printf("demo: %zu assets, %zu events sent to %s\n", scenario.assets.size(),
                scenario.normal.size() + scenario.attack.size(), base.c_str());
    return 0;
}

}  // namespace sai::app
