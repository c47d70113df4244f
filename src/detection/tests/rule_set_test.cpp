#include "detection/rule_set.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace sai::detection {
namespace {

std::string reasons(const LoadReport& r) {
    std::string out;
    for (const auto& f : r.failed) out += f.file + " " + f.rule_id + ": " + f.reason + "\n";
    return out;
}

TEST(RuleSetTest, BadRulesAreReportedWithoutStoppingTheOthers) {
    LoadReport report;
    auto set = load_rules_from_yaml(R"(
title: good
id: good-1
logsource: {product: linux}
detection:
    sel: {process.name: sshd}
    condition: sel
---
title: unknown modifier
id: bad-mod
detection:
    sel: {Image|sortof: x}
    condition: sel
---
title: missing selection
id: bad-cond
detection:
    sel: {Image: x}
    condition: sel and other
---
title: bad regex
id: bad-re
detection:
    sel: {Image|re: '(unclosed'}
    condition: sel
---
title: bad cidr
id: bad-cidr
detection:
    sel: {source.ip|cidr: '10.0.0.0/99'}
    condition: sel
---
title: expand
id: bad-expand
detection:
    sel: {Image|expand: '%x%'}
    condition: sel
---
title: no detection
id: bad-nodet
)", report, "inline.yml");
    ASSERT_TRUE(set);
    EXPECT_EQ(report.total, 7u);
    EXPECT_EQ(report.compiled, 1u);
    ASSERT_EQ(report.failed.size(), 6u) << reasons(report);
    EXPECT_EQ(report.failed[0].file, "inline.yml");
    EXPECT_EQ(report.failed[0].rule_id, "bad-mod");
    EXPECT_NE(report.failed[0].reason.find("unknown modifier 'sortof'"), std::string::npos);
    EXPECT_NE(report.failed[1].reason.find("unknown selection 'other'"), std::string::npos);
    EXPECT_NE(report.failed[2].reason.find("regular expression"), std::string::npos);
    EXPECT_NE(report.failed[3].reason.find("CIDR"), std::string::npos);
    EXPECT_NE(report.failed[4].reason.find("expand"), std::string::npos);
    EXPECT_EQ(set->find("good-1"), 0u);
}

TEST(RuleSetTest, YamlSyntaxErrorIsLocatedAndOtherFilesStillLoad) {
    const auto dir = std::filesystem::temp_directory_path() / ("sai_rules_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir / "sub");
    std::ofstream(dir / "a.yml") << "title: a\nid: a\ndetection:\n  sel: {x: 1}\n  condition: sel\n";
    std::ofstream(dir / "sub" / "b.yaml") << "title: [unclosed\n";
    std::ofstream(dir / "c.txt") << "not a rule";
    LoadReport report;
    auto set = load_rule_directories({dir}, report);
    const auto before = rule_directories_fingerprint({dir});
    EXPECT_EQ(before, rule_directories_fingerprint({dir})) << "stable while nothing changes";
    std::ofstream(dir / "d.yml") << "title: d\n";
    EXPECT_NE(before, rule_directories_fingerprint({dir})) << "a new rule file changes it";
    std::filesystem::remove_all(dir);
    EXPECT_EQ(set->size(), 1u);
    EXPECT_EQ(report.total, 2u);
    ASSERT_EQ(report.failed.size(), 1u);
    EXPECT_NE(report.failed[0].file.find("b.yaml"), std::string::npos);
    EXPECT_NE(report.failed[0].reason.find("YAML"), std::string::npos);
}

TEST(RuleSetTest, HugeInputsAreRefusedNotCompiled) {
    std::string yaml = "title: big\nid: big\ndetection:\n  sel:\n    Image|contains:\n";
    for (int i = 0; i < 50; ++i) yaml += "      - v" + std::to_string(i) + "\n";
    yaml += "  condition: sel\n";
    CompileOptions options;
    options.max_values_per_field = 10;
    LoadReport report;
    load_rules_from_yaml(yaml, report, "api", options);
    ASSERT_EQ(report.failed.size(), 1u);
    EXPECT_NE(report.failed[0].reason.find("more than 10 values"), std::string::npos);
    LoadReport deep;
    load_rules_from_yaml(std::string(100000, '['), deep);
    EXPECT_EQ(deep.compiled, 0u);
    EXPECT_EQ(deep.failed.size(), 1u);
    // yaml-cpp 0.7 alone loops forever (allocating) on these.
    for (const char* bad : {",itle:", "- a\n,b", "\"x\" ,a"}) {
        LoadReport r;
        load_rules_from_yaml(bad, r);
        ASSERT_EQ(r.failed.size(), 1u) << bad;
        EXPECT_NE(r.failed[0].reason.find("YAML"), std::string::npos);
    }
}

TEST(RuleSetTest, CorrelationReferencingAMissingRuleFails) {
    LoadReport report;
    auto set = load_rules_from_yaml(R"(
title: c
name: corr
correlation:
    type: event_count
    rules: [nowhere]
    group-by: [source.ip]
    timespan: 5m
    condition: {gte: 3}
)", report);
    EXPECT_EQ(set->size(), 0u);
    ASSERT_EQ(report.failed.size(), 1u) << reasons(report);
    EXPECT_NE(report.failed[0].reason.find("'nowhere' not found"), std::string::npos);
}

TEST(RuleSetTest, ReportsMemory) {
    LoadReport report;
    auto set = load_rules_from_yaml("title: a\nid: a\ndetection:\n  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel\n",
                                    report);
    EXPECT_GT(set->memory_bytes(), 0u);
}

}  // namespace
}  // namespace sai::detection
