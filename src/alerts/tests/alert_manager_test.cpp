#include "alerts/alert_manager.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

#include <atomic>

namespace sai::alerts {
namespace {

constexpr std::int64_t kT0 = 1'795'000'000'000;

class AlertManagerTest : public ::testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        o.synchronous = "normal";
        store_ = storage::SqliteStore::open(o).value();
        manager_ = std::make_unique<AlertManager>(store_->alerts(), AlertManagerOptions{},
                                                  [this] { return now_.load(); });
        manager_->add_listener([this](const std::vector<AlertUpdate>& u) {
            for (const auto& x : u) updates_.push_back(x);
        });
    }

    model::Detection brute_force(const std::string& ip, int i, std::int64_t at) {
        model::Detection d;
        d.rule_id = "ssh-brute-force";
        d.title = "SSH brute force";
        d.severity = model::Severity::High;
        d.tags = {"attack.credential_access", "attack.t1110.001"};
        d.entities.ips = {ip};
        d.entities.users = {"user" + std::to_string(i % 7)};
        d.entities.hosts = {"web-1"};
        d.event_ids = {"event-" + ip + "-" + std::to_string(i)};
        d.timestamp = at;
        d.explanation = R"({"selection":{"event.outcome":"failure"}})";
        return d;
    }

    model::Alert only_alert() {
        storage::AlertQuery q;
        auto all = store_->alerts().query(q).value();
        EXPECT_EQ(all.size(), 1u);
        return all.empty() ? model::Alert{} : all.front();
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
    std::atomic<std::int64_t> now_{kT0};
    std::unique_ptr<AlertManager> manager_;
    std::vector<AlertUpdate> updates_;
};

TEST_F(AlertManagerTest, TwoHundredDetectionsFromOneAddressAreOneAlert) {
    for (int i = 0; i < 200; ++i) {
        manager_->submit({brute_force("203.0.113.9", i, kT0 + i * 100)});
        if (i % 50 == 49) manager_->flush();
    }
    manager_->flush();
    const auto a = only_alert();
    EXPECT_EQ(a.count, 200);
    EXPECT_EQ(a.first_seen, kT0);
    EXPECT_EQ(a.last_seen, kT0 + 199 * 100);
    EXPECT_EQ(a.event_ids.size(), model::kMaxEvidenceEvents);
    EXPECT_EQ(a.event_ids.back(), "event-203.0.113.9-199");  // newest kept
    EXPECT_LE(a.details.size(), model::kMaxEvidenceDetails);
    EXPECT_EQ(a.tactics, std::vector<std::string>{"credential-access"});
    EXPECT_EQ(a.techniques, std::vector<std::string>{"T1110.001"});
    EXPECT_EQ(a.entities.users.size(), 7u);
    EXPECT_EQ(a.severity, model::Severity::High);
    EXPECT_EQ(manager_->stats().created, 1u);
    EXPECT_EQ(manager_->stats().merged, 199u);
    ASSERT_FALSE(updates_.empty());
    EXPECT_TRUE(updates_.front().created);
    EXPECT_FALSE(updates_.back().created);
}

TEST_F(AlertManagerTest, OtherSourcesAndLateDetectionsOpenNewAlerts) {
    manager_->submit({brute_force("203.0.113.9", 0, kT0), brute_force("198.51.100.7", 0, kT0)});
    manager_->flush();
    // Past the one-hour window: a new alert for the same source.
    manager_->submit({brute_force("203.0.113.9", 1, kT0 + 2 * 3600 * 1000)});
    manager_->flush();
    storage::AlertQuery q;
    EXPECT_EQ(store_->alerts().query(q).value().size(), 3u);
}

TEST_F(AlertManagerTest, DeduplicatesAcrossRestartsThroughTheStore) {
    manager_->submit({brute_force("203.0.113.9", 0, kT0)});
    manager_->flush();
    AlertManager second(store_->alerts(), AlertManagerOptions{}, [this] { return now_.load(); });
    second.submit({brute_force("203.0.113.9", 1, kT0 + 1000)});
    second.flush();
    EXPECT_EQ(only_alert().count, 2);
}

TEST_F(AlertManagerTest, ClosedAlertsDoNotAbsorbNewDetections) {
    manager_->submit({brute_force("203.0.113.9", 0, kT0)});
    manager_->flush();
    const auto a = only_alert();
    ASSERT_TRUE(manager_->change_status(a.id, {model::AlertStatus::Resolved, "blocked at the firewall", {}}, "alice"));
    manager_->submit({brute_force("203.0.113.9", 1, kT0 + 1000)});
    manager_->flush();
    storage::AlertQuery q;
    EXPECT_EQ(store_->alerts().query(q).value().size(), 2u);
}

TEST_F(AlertManagerTest, WorkflowAllowsTheDocumentedTransitionsOnly) {
    manager_->submit({brute_force("203.0.113.9", 0, kT0)});
    manager_->flush();
    const std::string id = only_alert().id;
    using S = model::AlertStatus;
    ASSERT_TRUE(manager_->change_status(id, {S::Acknowledged, "", std::string("alice")}, "alice"));
    ASSERT_TRUE(manager_->change_status(id, {S::Investigating, "looking", {}}, "alice"));
    auto back = manager_->change_status(id, {S::Acknowledged, "", {}}, "alice");
    ASSERT_FALSE(back);
    EXPECT_EQ(back.error().code, core::Errc::Conflict);
    EXPECT_NE(back.error().detail.find("allowed: resolved, false_positive"), std::string::npos);
    auto no_reason = manager_->change_status(id, {S::FalsePositive, "", {}}, "alice");
    ASSERT_FALSE(no_reason);
    EXPECT_EQ(no_reason.error().code, core::Errc::InvalidArgument);
    ASSERT_TRUE(manager_->change_status(id, {S::FalsePositive, "pentest from our red team", {}}, "alice"));
    auto reopened = manager_->change_status(id, {S::New, "red team was not scheduled", {}}, "bob");
    ASSERT_TRUE(reopened);
    EXPECT_EQ(reopened->status, S::New);
    EXPECT_TRUE(reopened->verdict_reason.empty());

    const auto history = store_->alerts().history(id).value();
    std::vector<std::string> actions;
    for (const auto& h : history) actions.push_back(h.action + ":" + h.to);
    EXPECT_EQ(actions, (std::vector<std::string>{"created:new", "status:acknowledged", "assigned:alice",
                                                 "status:investigating", "status:false_positive", "reopened:new"}));
    EXPECT_EQ(history[4].comment, "pentest from our red team");
    EXPECT_EQ(history[4].actor, "alice");
}

TEST_F(AlertManagerTest, VerdictsBecomeLabels) {
    manager_->submit({brute_force("203.0.113.9", 0, kT0), brute_force("203.0.113.9", 1, kT0 + 1)});
    manager_->flush();
    const std::string id = only_alert().id;
    ASSERT_TRUE(manager_->change_status(id, {model::AlertStatus::FalsePositive, "backup job", {}}, "alice"));
    auto labels = store_->alerts().labels(0, 100).value();
    ASSERT_EQ(labels.size(), 2u);
    EXPECT_EQ(labels[0].label, "benign");
    EXPECT_EQ(labels[0].verdict, "false_positive");
    ASSERT_TRUE(manager_->change_status(id, {model::AlertStatus::New, "", {}}, "alice"));
    ASSERT_TRUE(manager_->change_status(id, {model::AlertStatus::Resolved, "confirmed attack", {}}, "alice"));
    labels = store_->alerts().labels(0, 100).value();
    ASSERT_EQ(labels.size(), 2u);  // replaced, not duplicated
    EXPECT_EQ(labels[0].label, "malicious");
}

TEST_F(AlertManagerTest, SuppressionsDropDetectionsAndPreviewCountsPastAlerts) {
    manager_->submit({brute_force("203.0.113.9", 0, kT0), brute_force("198.51.100.7", 0, kT0)});
    manager_->flush();
    model::Suppression s;
    s.scope = model::Suppression::Scope::Rule;
    s.value = "ssh-brute-force";
    s.entity = "198.51.100.7";
    s.reason = "our vulnerability scanner";
    auto preview = manager_->preview(s, 7);
    ASSERT_TRUE(preview);
    EXPECT_EQ(preview->alerts, 1);
    EXPECT_EQ(preview->detections, 1);

    s.expires_at = kT0 + 3600 * 1000;
    auto added = manager_->add_suppression(s);
    ASSERT_TRUE(added);
    manager_->submit({brute_force("198.51.100.7", 1, kT0 + 10), brute_force("198.51.100.7", 2, kT0 + 20)});
    manager_->flush();
    EXPECT_EQ(manager_->stats().suppressed, 2u);
    EXPECT_EQ(manager_->suppressions().value().front().hits, 2);
    storage::AlertQuery q;
    q.ip = "198.51.100.7";
    EXPECT_EQ(store_->alerts().query(q).value().front().count, 1);

    now_ = kT0 + 2 * 3600 * 1000;  // expired: detections count again
    manager_->submit({brute_force("198.51.100.7", 3, now_)});
    manager_->flush();
    EXPECT_EQ(manager_->stats().suppressed, 2u);
    ASSERT_TRUE(manager_->delete_suppression(added->id));
    EXPECT_EQ(manager_->delete_suppression(added->id).error().code, core::Errc::NotFound);
}

TEST_F(AlertManagerTest, QueueIsBoundedAndCountsDrops) {
    AlertManagerOptions o;
    o.queue_capacity = 10;
    AlertManager small(store_->alerts(), o, [this] { return now_.load(); });
    std::vector<model::Detection> many;
    for (int i = 0; i < 25; ++i) many.push_back(brute_force("192.0.2." + std::to_string(i), i, kT0));
    small.submit(std::move(many));
    EXPECT_EQ(small.stats().dropped, 15u);
    EXPECT_EQ(small.stats().queue_depth, 10u);
    small.flush();
    EXPECT_EQ(small.stats().created, 10u);
}

TEST_F(AlertManagerTest, FlushThreadStoresWithoutExplicitFlush) {
    manager_->start();
    manager_->submit({brute_force("203.0.113.9", 0, kT0)});
    for (int i = 0; i < 200 && manager_->stats().created == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    manager_->stop();
    EXPECT_EQ(only_alert().count, 1);
}

TEST_F(AlertManagerTest, ManualAlertsAndComments) {
    model::Detection d;
    d.title = "Phishing report from finance";
    d.severity = model::Severity::Medium;
    d.entities.users = {"carol"};
    auto a = manager_->create_manual(d, "alice");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->source, "manual");
    ASSERT_TRUE(manager_->comment(a->id, "asked carol for the headers", "alice"));
    const auto h = store_->alerts().history(a->id).value();
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[1].action, "comment");
    EXPECT_EQ(manager_->comment("missing", "x", "alice").error().code, core::Errc::NotFound);
}

TEST(AttackTags, SplitsTacticsAndTechniques) {
    std::vector<std::string> tactics, techniques;
    const std::vector<std::string> tags{"attack.lateral_movement", "attack.t1021.004", "attack.T1078", "attack.g0016",
                                        "cve.2021-44228", "attack.s0002"};
    model::attack_from_tags(tags, tactics, techniques);
    EXPECT_EQ(tactics, std::vector<std::string>{"lateral-movement"});
    EXPECT_EQ(techniques, (std::vector<std::string>{"T1021.004", "T1078"}));
}

TEST(AttackTags, ATacticTaggedByIdAndByNameIsListedOnce) {
    std::vector<std::string> tactics, techniques;
    const std::vector<std::string> tags{"attack.lateral_movement", "attack.ta0008", "attack.TA0011", "attack.ta0099"};
    model::attack_from_tags(tags, tactics, techniques);
    EXPECT_EQ(tactics, (std::vector<std::string>{"lateral-movement", "command-and-control", "ta0099"}));
}

TEST(Fingerprint, UsesGroupKeyThenFirstAddress) {
    model::Detection a;
    a.rule_id = "r";
    a.entities.ips = {"10.0.0.1"};
    a.entities.users = {"x"};
    model::Detection b = a;
    b.entities.users = {"y"};
    EXPECT_EQ(fingerprint(a), fingerprint(b));
    b.group_key = "custom";
    EXPECT_NE(fingerprint(a), fingerprint(b));
    b = a;
    b.rule_id = "other";
    EXPECT_NE(fingerprint(a), fingerprint(b));
}

}  // namespace
}  // namespace sai::alerts
