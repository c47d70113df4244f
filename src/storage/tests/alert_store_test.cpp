#include "backends.hpp"

#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::storage {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;

model::Alert alert(int i) {
    model::Alert a;
    a.id = "a" + std::to_string(i);
    a.fingerprint = "fp" + std::to_string(i % 3);
    a.rule_id = i % 2 ? "ssh-brute-force" : "port-scan";
    a.title = i % 2 ? "SSH brute force" : "Port scan";
    a.description = "seen from " + std::to_string(i);
    a.severity = static_cast<model::Severity>(1 + i % 4);
    a.risk = 10.0 * i;
    a.status = i < 3 ? model::AlertStatus::New : model::AlertStatus::Resolved;
    a.tactics = {i % 2 ? "credential-access" : "discovery"};
    a.techniques = {i % 2 ? "T1110" : "T1046"};
    a.entities.hosts = {"web-" + std::to_string(i % 2)};
    a.entities.ips = {"10.0.0." + std::to_string(i)};
    a.event_ids = {"e" + std::to_string(i)};
    a.details = {R"({"matched":{"user.name":"root"}})"};
    a.first_seen = kNow + i * 1000;
    a.last_seen = kNow + i * 2000;
    a.count = i + 1;
    a.created_at = a.updated_at = kNow;
    return a;
}

class AlertStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        SAI_OPEN_BACKEND();
        std::vector<model::Alert> all;
        for (int i = 0; i < 6; ++i) all.push_back(alert(i));
        ASSERT_TRUE(store_->alerts().save(all, {}));
    }
    std::vector<std::string> ids(const AlertQuery& q) {
        std::vector<std::string> out;
        for (const auto& a : store_->alerts().query(q).value()) out.push_back(a.id);
        return out;
    }
    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(AlertStoreTest, RoundTripsEveryField) {
    const auto expected = alert(3);
    const auto got = store_->alerts().get("a3").value();
    EXPECT_EQ(got.fingerprint, expected.fingerprint);
    EXPECT_EQ(got.severity, expected.severity);
    EXPECT_EQ(got.status, expected.status);
    EXPECT_EQ(got.tactics, expected.tactics);
    EXPECT_EQ(got.techniques, expected.techniques);
    EXPECT_EQ(got.entities.hosts, expected.entities.hosts);
    EXPECT_EQ(got.entities.ips, expected.entities.ips);
    EXPECT_EQ(got.event_ids, expected.event_ids);
    EXPECT_EQ(got.details, expected.details);
    EXPECT_EQ(got.count, 4);
    EXPECT_EQ(got.last_seen, kNow + 6000);
    EXPECT_EQ(store_->alerts().get("nope").error().code, core::Errc::NotFound);
}

TEST_P(AlertStoreTest, FiltersAndSorts) {
    AlertQuery q;
    EXPECT_EQ(ids(q), (std::vector<std::string>{"a5", "a4", "a3", "a2", "a1", "a0"}));
    q.statuses = {model::AlertStatus::New};
    EXPECT_EQ(ids(q), (std::vector<std::string>{"a2", "a1", "a0"}));
    q = {};
    q.host = "web-1";
    q.tactic = "credential-access";
    EXPECT_EQ(ids(q), (std::vector<std::string>{"a5", "a3", "a1"}));
    q = {};
    q.ip = "10.0.0.4";
    EXPECT_EQ(ids(q), std::vector<std::string>{"a4"});
    q = {};
    q.text = "PORT";
    q.severity_min = model::Severity::High;
    EXPECT_EQ(ids(q), std::vector<std::string>{"a2"});
    q = {};
    q.sort = AlertQuery::Sort::Risk;
    q.descending = false;
    q.limit = 2;
    q.offset = 1;
    EXPECT_EQ(ids(q), (std::vector<std::string>{"a1", "a2"}));
    q = {};
    q.from_ms = kNow + 8000;
    EXPECT_EQ(ids(q), (std::vector<std::string>{"a5", "a4"}));
    q = {};
    q.rule_id = "port-scan";
    q.technique = "T1046";
    EXPECT_EQ(ids(q), (std::vector<std::string>{"a4", "a2", "a0"}));
}

TEST_P(AlertStoreTest, FindOpenWithinTheWindowOnly) {
    EXPECT_EQ(store_->alerts().find_open("fp1", kNow).value().id, "a1");  // a4 has fp1 too but is resolved
    EXPECT_EQ(store_->alerts().find_open("fp1", kNow + 2001).error().code, core::Errc::NotFound);
    EXPECT_EQ(store_->alerts().find_open("fp9", 0).error().code, core::Errc::NotFound);
}

TEST_P(AlertStoreTest, HistoryInOrder) {
    std::vector<model::AlertChange> changes{{"a1", kNow, "alice", "status", "new", "acknowledged", ""},
                                            {"a1", kNow + 1, "bob", "comment", "", "", "on it"}};
    ASSERT_TRUE(store_->alerts().save({}, changes));
    const auto h = store_->alerts().history("a1").value();
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h[0].to, "acknowledged");
    EXPECT_EQ(h[1].comment, "on it");
    EXPECT_TRUE(store_->alerts().history("a2").value().empty());
}

TEST_P(AlertStoreTest, BlocklistExtendsAndExpires) {
    auto& s = store_->alerts();
    ASSERT_TRUE(s.block({"203.0.113.1", "r", "a1", "alice", kNow, kNow + 1000}));
    ASSERT_TRUE(s.block({"203.0.113.1", "r2", "a2", "bob", kNow, kNow + 500}));  // shorter: the later expiry stays
    ASSERT_TRUE(s.block({"203.0.113.2", "r", "a1", "alice", kNow, 0}));
    auto list = s.blocklist(kNow + 900).value();
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0].expires_at, kNow + 1000);
    EXPECT_EQ(s.blocklist(kNow + 1001).value().size(), 1u);  // the permanent one
    ASSERT_TRUE(s.unblock("203.0.113.2"));
    EXPECT_EQ(s.unblock("203.0.113.2").error().code, core::Errc::NotFound);
}

TEST_P(AlertStoreTest, SuppressionsAndLabels) {
    auto& s = store_->alerts();
    model::Suppression x;
    x.id = "s1";
    x.scope = model::Suppression::Scope::Tag;
    x.value = "attack.t1046";
    x.reason = "scanner";
    x.created_at = kNow;
    ASSERT_TRUE(s.add_suppression(x));
    const std::vector<std::pair<std::string, std::int64_t>> hits{{"s1", 3}};
    ASSERT_TRUE(s.add_suppression_hits(hits));
    auto all = s.suppressions().value();
    ASSERT_EQ(all.size(), 1u);
    EXPECT_EQ(all[0].scope, model::Suppression::Scope::Tag);
    EXPECT_EQ(all[0].hits, 3);
    ASSERT_TRUE(s.delete_suppression("s1"));
    EXPECT_EQ(s.delete_suppression("s1").error().code, core::Errc::NotFound);

    std::vector<model::AlertLabel> labels{{"e1", "a1", "benign", "false_positive", kNow}};
    ASSERT_TRUE(s.add_labels(labels));
    labels[0].label = "malicious";
    ASSERT_TRUE(s.add_labels(labels));
    auto got = s.labels(0, 10).value();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].label, "malicious");
}

class TemplateStoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override { SAI_OPEN_BACKEND(); }
    testkit::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_P(TemplateStoreTest, SavesLoadsAndDeletes) {
    auto& store = store_;
    std::vector<TemplateRecord> t{{"t1", "openssh", "Failed password for <*> from <*> port <*> ssh2", 10, kNow, kNow + 5},
                                  {"t2", "syslog", "session opened for user <*>", 2, kNow, kNow}};
    ASSERT_TRUE(store->templates().save_templates(t));
    t[0].count = 11;
    ASSERT_TRUE(store->templates().save_templates(std::span(t).first(1)));
    auto loaded = store->templates().load_templates().value();
    ASSERT_EQ(loaded.size(), 2u);
    EXPECT_EQ(loaded[0].count, 11);
    EXPECT_EQ(loaded[1].text, "session opened for user <*>");
    const std::vector<std::string> gone{"t2"};
    ASSERT_TRUE(store->templates().delete_templates(gone));
    EXPECT_EQ(store->templates().load_templates().value().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, AlertStoreTest, testing_backends::kBackends, testing_backends::backend_name);
INSTANTIATE_TEST_SUITE_P(Backends, TemplateStoreTest, testing_backends::kBackends, testing_backends::backend_name);

}  // namespace
}  // namespace sai::storage
