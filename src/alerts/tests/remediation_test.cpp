#include "alerts/remediation.hpp"

#include "core/crypto.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>

namespace sai::alerts {
namespace {

constexpr std::int64_t kT0 = 1'795'000'000'000;

/// Records every POST and answers with scripted statuses (the last one repeats).
class ScriptedPoster final : public HttpPoster {
public:
    struct Call {
        std::string url;
        std::vector<std::pair<std::string, std::string>> headers;
        std::string body;
    };
    explicit ScriptedPoster(std::vector<int> statuses) : statuses_(std::move(statuses)) {}
    core::Result<int> post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body, std::chrono::milliseconds) override {
        std::lock_guard lock(mutex_);
        calls_.push_back({url, headers, body});
        const int s = statuses_[std::min(next_++, statuses_.size() - 1)];
        if (s == 0) return core::make_error(core::Errc::Timeout, "no answer");
        return s;
    }
    std::vector<Call> calls() {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    std::mutex mutex_;
    std::vector<int> statuses_;
    std::size_t next_ = 0;
    std::vector<Call> calls_;
};

std::string header(const ScriptedPoster::Call& c, std::string_view name) {
    for (const auto& [k, v] : c.headers) {
        if (k == name) return v;
    }
    return {};
}

class RemediationTest : public ::testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        o.synchronous = "normal";
        store_ = storage::SqliteStore::open(o).value();
        manager_ = std::make_unique<AlertManager>(store_->alerts(), AlertManagerOptions{}, [this] { return now_.load(); });
        model::Detection d;
        d.rule_id = "ssh-brute-force";
        d.title = "SSH brute force";
        d.severity = model::Severity::Critical;
        d.entities.ips = {"203.0.113.9"};
        d.entities.users = {"mallory"};
        d.entities.hosts = {"web-1"};
        d.event_ids = {"e1"};
        d.timestamp = kT0;
        manager_->submit({d});
        manager_->flush();
        alert_ = store_->alerts().query({}).value().front();

        config_.targets = {{"soc", WebhookTarget::Kind::Generic, "http://127.0.0.1:9/hook", "s3cret", {}},
                           {"pd", WebhookTarget::Kind::PagerDuty, "http://127.0.0.1:9/pd", "routing-key", {}},
                           {"chat", WebhookTarget::Kind::Slack, "http://127.0.0.1:9/slack", "", {}}};
        config_.playbooks = {{"contain", "block and tell the SOC",
                              {{"block_ip", {{"ttl_minutes", "60"}}}, {"disable_user", {}}, {"webhook", {{"target", "soc"}}}}}};
        config_.backoff = std::chrono::milliseconds(1);
        config_.breaker_threshold = 3;
        config_.breaker_cooldown = std::chrono::milliseconds(30'000);
    }

    std::unique_ptr<RemediationService> service(std::vector<int> statuses) {
        auto poster = std::make_unique<ScriptedPoster>(std::move(statuses));
        poster_ = poster.get();
        auto s = std::make_unique<RemediationService>(
            store_->alerts(), *manager_, config_, std::move(poster),
            [this](const std::string& user, const std::string&) -> core::Result<void> {
                disabled_.push_back(user);
                return {};
            },
            [this](const std::string& actor, const std::string& action, const std::string&, const std::string& outcome,
                   const std::string&) { audit_.push_back(actor + " " + action + " " + outcome); },
            [this] { return now_.load(); });
        s->start(1);
        return s;
    }

    std::vector<std::string> remediation_history() {
        std::vector<std::string> out;
        for (const auto& h : store_->alerts().history(alert_.id).value()) {
            if (h.action == "remediation") out.push_back(h.to);
        }
        return out;
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
    std::atomic<std::int64_t> now_{kT0};
    std::unique_ptr<AlertManager> manager_;
    model::Alert alert_;
    RemediationConfig config_;
    ScriptedPoster* poster_ = nullptr;
    std::vector<std::string> disabled_;
    std::vector<std::string> audit_;
};

TEST_F(RemediationTest, DryRunPlansAndChangesNothing) {
    auto s = service({200});
    auto plan = s->remediate(alert_.id, {std::string("contain"), {}, true}, "alice");
    ASSERT_TRUE(plan) << plan.error().detail;
    ASSERT_EQ(plan->actions.size(), 3u);
    EXPECT_EQ(plan->actions[0].target, "203.0.113.9");
    EXPECT_EQ(plan->actions[0].description, "add 203.0.113.9 to the blocklist for 60 minutes");
    EXPECT_EQ(plan->actions[1].target, "mallory");
    EXPECT_EQ(plan->actions[2].target, "soc");
    s->drain();
    EXPECT_TRUE(s->blocklist().value().empty());
    EXPECT_TRUE(disabled_.empty());
    EXPECT_TRUE(poster_->calls().empty());
    EXPECT_TRUE(remediation_history().empty());
    EXPECT_TRUE(audit_.empty());
}

TEST_F(RemediationTest, PlaybookRunsEveryActionAndRecordsThem) {
    auto s = service({200});
    ASSERT_TRUE(s->remediate(alert_.id, {std::string("contain"), {}, false}, "alice"));
    s->drain();
    const auto blocked = s->blocklist().value();
    ASSERT_EQ(blocked.size(), 1u);
    EXPECT_EQ(blocked[0].ip, "203.0.113.9");
    EXPECT_EQ(blocked[0].expires_at, kT0 + 60 * 60'000);
    EXPECT_EQ(disabled_, std::vector<std::string>{"mallory"});
    EXPECT_EQ(remediation_history(), (std::vector<std::string>{"started", "succeeded", "succeeded", "succeeded"}));
    EXPECT_EQ(audit_.size(), 4u);
    now_ = kT0 + 61 * 60'000;  // expired
    EXPECT_TRUE(s->blocklist().value().empty());
}

TEST_F(RemediationTest, GenericWebhookIsSignedWithHmac) {
    auto s = service({204});
    ASSERT_TRUE(s->remediate(alert_.id, {{}, ActionSpec{"webhook", {{"target", "soc"}}}, false}, "alice"));
    s->drain();
    const auto calls = poster_->calls();
    ASSERT_EQ(calls.size(), 1u);
    const std::string ts = header(calls[0], "X-SecurityAI-Timestamp");
    EXPECT_EQ(ts, std::to_string(kT0 / 1000));
    const std::string expected = "sha256=" + core::hex_encode(core::hmac_sha256("s3cret", ts + "." + calls[0].body));
    EXPECT_EQ(header(calls[0], "X-SecurityAI-Signature"), expected);
    EXPECT_EQ(webhook_signature("s3cret", ts, calls[0].body), expected);
    const auto body = boost::json::parse(calls[0].body).as_object();
    EXPECT_EQ(body.at("alert").at("id").as_string(), alert_.id);
}

TEST_F(RemediationTest, PagerDutyUsesTheFingerprintAsDedupKey) {
    auto s = service({202});
    ASSERT_TRUE(s->remediate(alert_.id, {{}, ActionSpec{"create_ticket", {{"target", "pd"}}}, false}, "alice"));
    s->drain();
    const auto body = boost::json::parse(poster_->calls().at(0).body).as_object();
    EXPECT_EQ(body.at("dedup_key").as_string(), alert_.fingerprint);
    EXPECT_EQ(body.at("routing_key").as_string(), "routing-key");
    EXPECT_EQ(body.at("event_action").as_string(), "trigger");
    EXPECT_EQ(body.at("payload").at("severity").as_string(), "critical");
}

TEST_F(RemediationTest, RetriesServerErrorsThenGivesUp) {
    config_.max_attempts = 3;
    auto s = service({500, 503, 200});
    ASSERT_TRUE(s->remediate(alert_.id, {{}, ActionSpec{"webhook", {{"target", "soc"}}}, false}, "alice"));
    s->drain();
    EXPECT_EQ(poster_->calls().size(), 3u);
    EXPECT_EQ(remediation_history(), (std::vector<std::string>{"started", "succeeded"}));
}

TEST_F(RemediationTest, ClientErrorsAreNotRetried) {
    auto s = service({400});
    ASSERT_TRUE(s->remediate(alert_.id, {{}, ActionSpec{"webhook", {{"target", "soc"}}}, false}, "alice"));
    s->drain();
    EXPECT_EQ(poster_->calls().size(), 1u);
    EXPECT_EQ(remediation_history(), (std::vector<std::string>{"started", "failed"}));
}

TEST_F(RemediationTest, BreakerOpensAfterFailuresAndHalfOpensLater) {
    config_.max_attempts = 1;
    auto s = service({0, 0, 0, 200});  // three timeouts, then a healthy target
    for (int i = 0; i < 5; ++i) {
        ASSERT_TRUE(s->remediate(alert_.id, {{}, ActionSpec{"webhook", {{"target", "soc"}}}, false}, "alice"));
        s->drain();
    }
    EXPECT_EQ(poster_->calls().size(), 3u);  // the last two never reached the target
    auto status = s->targets();
    auto soc = std::find_if(status.begin(), status.end(), [](const TargetStatus& t) { return t.name == "soc"; });
    EXPECT_EQ(soc->breaker, CircuitBreaker::State::Open);
    now_ = kT0 + 31'000;  // cooldown over: one trial goes through and closes the breaker
    ASSERT_TRUE(s->remediate(alert_.id, {{}, ActionSpec{"webhook", {{"target", "soc"}}}, false}, "alice"));
    s->drain();
    EXPECT_EQ(poster_->calls().size(), 4u);
    status = s->targets();
    soc = std::find_if(status.begin(), status.end(), [](const TargetStatus& t) { return t.name == "soc"; });
    EXPECT_EQ(soc->breaker, CircuitBreaker::State::Closed);
}

TEST_F(RemediationTest, RejectsBadParametersBeforeDoingAnything) {
    auto s = service({200});
    auto bad_ip = s->remediate(alert_.id, {{}, ActionSpec{"block_ip", {{"ip", "1.2.3.4; rm -rf /"}}}, false}, "alice");
    ASSERT_FALSE(bad_ip);
    EXPECT_EQ(bad_ip.error().code, core::Errc::InvalidArgument);
    auto bad_user = s->remediate(alert_.id, {{}, ActionSpec{"disable_user", {{"user", "$(reboot)"}}}, false}, "alice");
    EXPECT_EQ(bad_user.error().code, core::Errc::InvalidArgument);
    auto unknown = s->remediate(alert_.id, {std::string("nope"), {}, false}, "alice");
    EXPECT_EQ(unknown.error().code, core::Errc::NotFound);
    auto action = s->remediate(alert_.id, {{}, ActionSpec{"format_disk", {}}, false}, "alice");
    EXPECT_EQ(action.error().code, core::Errc::InvalidArgument);
    auto target = s->remediate(alert_.id, {{}, ActionSpec{"webhook", {{"target", "elsewhere"}}}, false}, "alice");
    EXPECT_EQ(target.error().code, core::Errc::InvalidArgument);
    EXPECT_EQ(s->remediate("missing", {std::string("contain"), {}, false}, "alice").error().code, core::Errc::NotFound);
    s->drain();
    EXPECT_TRUE(s->blocklist().value().empty());
    EXPECT_TRUE(remediation_history().empty());
}

TEST_F(RemediationTest, NotificationsAreRateLimitedIntoADigest) {
    config_.routes = {{"critical-to-chat", "chat", model::Severity::High, {}, {}, 2, std::chrono::seconds(60)}};
    auto s = service({200});
    std::vector<AlertUpdate> updates;
    for (int i = 0; i < 5; ++i) {
        model::Alert a = alert_;
        a.id = "a" + std::to_string(i);
        a.title = "alert " + std::to_string(i);
        updates.push_back({a, true});
    }
    model::Alert low = alert_;
    low.severity = model::Severity::Low;
    updates.push_back({low, true});      // below the route's severity
    updates.push_back({alert_, false});  // an update, not a new alert
    s->on_alerts(updates);
    s->drain();
    EXPECT_EQ(poster_->calls().size(), 2u);
    s->flush_digests();
    const auto calls = poster_->calls();
    ASSERT_EQ(calls.size(), 3u);
    EXPECT_NE(calls[2].body.find("digest: 3 more alerts"), std::string::npos) << calls[2].body;
}

TEST(RemediationConfigTest, LoadsTomlAndLocatesErrors) {
    testkit::TempDir dir;
    const auto file = (dir.path() / "c.toml").string();
    std::ofstream(file) << R"(
[alerts.remediation]
block_command = ["/usr/sbin/nft", "add", "element", "inet", "filter", "blocked", "{ {ip} }"]
max_attempts = 4

[[alerts.targets]]
name = "soc"
kind = "generic"
url = "https://hooks.example.com/soc"
secret = "k"

[[alerts.playbooks]]
name = "contain"
[[alerts.playbooks.actions]]
type = "block_ip"
ttl_minutes = 30
[[alerts.playbooks.actions]]
type = "webhook"
target = "soc"

[[alerts.routes]]
target = "soc"
severity_min = "critical"
max_per_minute = 5
)";
    auto c = load_remediation_config(file);
    ASSERT_TRUE(c) << c.error().detail;
    EXPECT_EQ(c->max_attempts, 4);
    EXPECT_EQ(c->block_command.back(), "{ {ip} }");
    ASSERT_EQ(c->playbooks.size(), 1u);
    EXPECT_EQ(c->playbooks[0].actions[0].params.at("ttl_minutes"), "30");
    EXPECT_EQ(c->routes[0].severity_min, model::Severity::Critical);

    std::ofstream(file) << "[[alerts.playbooks]]\nname = \"x\"\n[[alerts.playbooks.actions]]\ntype = \"webhook\"\ntarget = \"none\"\n";
    auto bad = load_remediation_config(file);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().detail.find("alerts.playbooks.x"), std::string::npos) << bad.error().detail;

    std::ofstream(file) << "[[alerts.targets]]\nname = \"t\"\nurl = \"ftp://x\"\n";
    EXPECT_NE(load_remediation_config(file).error().detail.find("http(s)"), std::string::npos);
}

TEST(CircuitBreakerTest, OpensHalfOpensAndCloses) {
    CircuitBreaker b(2, std::chrono::milliseconds(1000));
    EXPECT_TRUE(b.allow(0));
    b.on_failure(0);
    EXPECT_TRUE(b.allow(1));
    b.on_failure(1);
    EXPECT_FALSE(b.allow(2));
    EXPECT_EQ(b.state(500), CircuitBreaker::State::Open);
    EXPECT_TRUE(b.allow(1001));   // the trial
    EXPECT_FALSE(b.allow(1002));  // only one at a time
    b.on_failure(1003);           // trial failed: open again
    EXPECT_FALSE(b.allow(1500));
    EXPECT_TRUE(b.allow(2004));
    b.on_success();
    EXPECT_EQ(b.state(2005), CircuitBreaker::State::Closed);
    EXPECT_TRUE(b.allow(2005));
}

}  // namespace
}  // namespace sai::alerts
