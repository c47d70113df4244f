#include "detection/engine.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sai::detection {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;

model::Event ssh(std::string_view outcome, std::string_view ip, std::int64_t at_ms, std::string_view user = "root") {
    boost::json::object o{{"message", std::string(outcome == "failure" ? "Failed" : "Accepted") + " password"},
                          {"event.outcome", outcome}, {"source.ip", ip}, {"user.name", user},
                          {"process.name", "sshd"}, {"@timestamp", at_ms}};
    return model::event_from_json(o, kNow).value();
}

const char* kBase = R"(
title: SSH failed login
id: ssh-fail
name: ssh_failed
detection:
    sel: {process.name: sshd, event.outcome: failure}
    condition: sel
---
title: SSH login
id: ssh-ok
name: ssh_ok
detection:
    sel: {process.name: sshd, event.outcome: success}
    condition: sel
)";

std::shared_ptr<const CompiledRuleSet> compile(std::string_view correlation) {
    LoadReport report;
    auto set = load_rules_from_yaml(std::string(kBase) + "---\n" + std::string(correlation), report);
    EXPECT_TRUE(report.failed.empty()) << (report.failed.empty() ? "" : report.failed[0].reason);
    return set;
}

std::vector<Detection> run(Engine& engine, const std::vector<model::Event>& events) {
    return engine.evaluate(std::span(events));
}

TEST(CorrelationTest, EventCountThresholdPerGroupWithinTheWindow) {
    Engine engine(compile(R"(
title: SSH brute force
id: bf
correlation:
    type: event_count
    rules: [ssh_failed]
    group-by: [source.ip]
    timespan: 5m
    condition: {gte: 3}
)"));
    const std::int64_t t0 = kNow - 3'600'000;
    // Two failures from .1 then one more after the window: no detection.
    auto ds = run(engine, {ssh("failure", "10.0.0.1", t0), ssh("failure", "10.0.0.1", t0 + 1000),
                           ssh("failure", "10.0.0.1", t0 + 400'000), ssh("failure", "10.0.0.2", t0 + 400'100)});
    EXPECT_TRUE(ds.empty()) << "base rules stay silent; the window is by event time";
    ds = run(engine, {ssh("failure", "10.0.0.1", t0 + 401'000), ssh("failure", "10.0.0.1", t0 + 402'000)});
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].rule->id, "bf");
    EXPECT_TRUE(ds[0].correlation);
    EXPECT_EQ(ds[0].group_key, "source.ip=10.0.0.1");
    EXPECT_EQ(ds[0].event_ids.size(), 3u);
    EXPECT_EQ(ds[0].event_index, 1u);
}

TEST(CorrelationTest, ValueCountCountsDistinctValues) {
    Engine engine(compile(R"(
title: Password spraying
id: spray
correlation:
    type: value_count
    rules: [ssh_failed]
    group-by: [source.ip]
    timespan: 10m
    condition: {gte: 3, field: user.name}
)"));
    const std::int64_t t0 = kNow - 3'600'000;
    EXPECT_TRUE(run(engine, {ssh("failure", "10.0.0.1", t0, "a"), ssh("failure", "10.0.0.1", t0 + 1, "a"),
                             ssh("failure", "10.0.0.1", t0 + 2, "b")}).empty());
    EXPECT_EQ(run(engine, {ssh("failure", "10.0.0.1", t0 + 3, "c")}).size(), 1u);
}

TEST(CorrelationTest, TemporalOrderedSequenceAndChainedCorrelation) {
    Engine engine(compile(R"(
title: brute force
id: bf
name: bf
correlation:
    type: event_count
    rules: [ssh_failed]
    group-by: [source.ip]
    timespan: 5m
    condition: {gte: 3}
---
title: Successful brute force
id: bf-ok
correlation:
    type: temporal_ordered
    rules: [bf, ssh_ok]
    group-by: [source.ip]
    timespan: 10m
)"));
    const std::int64_t t0 = kNow - 3'600'000;
    EXPECT_TRUE(run(engine, {ssh("success", "10.0.0.1", t0)}).empty()) << "success first: no sequence";
    auto ds = run(engine, {ssh("failure", "10.0.0.1", t0 + 1), ssh("failure", "10.0.0.1", t0 + 2),
                           ssh("failure", "10.0.0.1", t0 + 3), ssh("success", "10.0.0.2", t0 + 4),
                           ssh("success", "10.0.0.1", t0 + 5)});
    ASSERT_EQ(ds.size(), 2u) << "the inner correlation reports too";
    EXPECT_EQ(ds[0].rule->id, "bf");
    EXPECT_EQ(ds[0].event_index, 2u);
    EXPECT_EQ(ds[1].rule->id, "bf-ok");
    EXPECT_EQ(ds[1].event_index, 4u);
    EXPECT_EQ(ds[1].group_key, "source.ip=10.0.0.1");
}

TEST(CorrelationTest, NewValueFiresOnFirstSightingWithinTheLookback) {
    Engine engine(compile(R"(
title: user logs in from a new address
id: nv
correlation:
    type: new_value
    rules: [ssh_ok]
    group-by: [user.name]
    field: source.ip
    timespan: 30d
)"));
    const std::int64_t t0 = kNow - 3'600'000;
    EXPECT_EQ(run(engine, {ssh("success", "10.0.0.1", t0, "alice")}).size(), 1u);
    EXPECT_TRUE(run(engine, {ssh("success", "10.0.0.1", t0 + 1000, "alice")}).empty());
    auto ds = run(engine, {ssh("success", "10.0.0.9", t0 + 2000, "alice")});
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].group_key, "user.name=alice,value=10.0.0.9");
}

TEST(CorrelationTest, GroupsAreBoundedAndExpireByTheInjectedClock) {
    std::int64_t wall = kNow;
    EngineOptions options;
    options.max_groups_per_correlation = 10;
    options.now_ms = [&] { return wall; };
    Engine engine(compile(R"(
title: brute force
id: bf
correlation:
    type: event_count
    rules: [ssh_failed]
    group-by: [source.ip]
    timespan: 5m
    condition: {gte: 1000}
)"), options);
    std::vector<model::Event> events;
    for (int i = 0; i < 50; ++i) events.push_back(ssh("failure", "10.0.1." + std::to_string(i), kNow - 1000));
    run(engine, events);
    EXPECT_EQ(engine.correlation_groups(), 10u);
    wall += 301'000;
    engine.expire();
    EXPECT_EQ(engine.correlation_groups(), 0u);
}

}  // namespace
}  // namespace sai::detection

namespace sai::detection {
namespace {

TEST(CorrelationTest, OneCorrelationAskingToGenerateIsEnough) {
    const char* with_generate = R"(
title: BF
id: bf
correlation: {type: event_count, rules: [ssh_failed], group-by: [source.ip], timespan: 5m, condition: {gte: 3}, generate: true}
)";
    const char* without = R"(
title: Spray
id: spray
correlation: {type: value_count, rules: [ssh_failed], group-by: [source.ip], timespan: 5m, condition: {gte: 3, field: user.name}}
)";
    // Whatever the order of the correlations, the base rule reports on its own.
    for (const auto& order : {std::string(with_generate) + "---\n" + without, std::string(without) + "---\n" + with_generate}) {
        Engine engine(compile(order));
        auto ds = run(engine, {ssh("failure", "10.0.0.9", kNow)});
        ASSERT_EQ(ds.size(), 1u);
        EXPECT_EQ(ds[0].rule->id, "ssh-fail");
    }
    Engine silent(compile(without));
    EXPECT_TRUE(run(silent, {ssh("failure", "10.0.0.9", kNow)}).empty());
}

}  // namespace
}  // namespace sai::detection
