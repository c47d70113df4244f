#include "detection/engine.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace sai::detection {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;

model::Event event(std::string_view json) {
    return model::event_from_json(boost::json::parse(json).as_object(), kNow).value();
}

model::Event sysmon(std::string_view event_data, int event_id = 1) {
    return event(R"({"Event": {"System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon"}},
        "EventID": )" + std::to_string(event_id) + R"(, "Channel": "Microsoft-Windows-Sysmon/Operational",
        "Computer": "ws-01"}, "EventData": )" + std::string(event_data) + "}}");
}

std::shared_ptr<const CompiledRuleSet> compile(std::string_view yaml) {
    LoadReport report;
    auto set = load_rules_from_yaml(yaml, report);
    std::string why;
    for (const auto& f : report.failed) why += f.rule_id + ": " + f.reason + "\n";
    EXPECT_TRUE(report.failed.empty()) << why;
    return set;
}

/// Ids of the rules that fire on `e`.
std::vector<std::string> fired(const std::shared_ptr<const CompiledRuleSet>& set, const model::Event& e) {
    Engine engine(set);
    std::vector<std::string> ids;
    for (const auto& d : engine.evaluate(std::span(&e, 1))) ids.push_back(d.rule->id);
    return ids;
}

bool fires(std::string_view detection, const model::Event& e, std::string_view logsource = "{}") {
    auto set = compile("title: t\nid: r\nlogsource: " + std::string(logsource) + "\ndetection:\n" + std::string(detection));
    return !fired(set, e).empty();
}

const char* kCmd = R"({"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd.exe /c whoami -all",
                       "ParentImage": "C:\\Windows\\explorer.exe", "User": "CORP\\alice", "ProcessId": 4242,
                       "Hashes": "SHA256=ABCDEF"})";

TEST(EngineTest, WindowsFieldsAreReachableBySigmaNamesCaseInsensitively) {
    const auto e = sysmon(kCmd);
    EXPECT_TRUE(fires("  sel: {Image|endswith: '\\CMD.EXE', EventID: 1}\n  condition: sel", e,
                      "{product: windows, category: process_creation}"));
    EXPECT_TRUE(fires("  sel: {Channel: 'Microsoft-Windows-Sysmon/Operational', Provider_Name: Microsoft-Windows-Sysmon}\n"
                      "  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel", e, "{product: windows, category: image_load}"))
        << "logsource decides which events a rule sees";
    EXPECT_FALSE(fires("  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel", e, "{product: linux}"));
    EXPECT_FALSE(fires("  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel", e, "{product: windows, service: security}"));
    EXPECT_TRUE(fires("  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel", e, "{product: windows, service: sysmon}"));
}

TEST(EngineTest, WildcardsAndEscapes) {
    const auto e = sysmon(R"({"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "echo a*b?c"})");
    EXPECT_TRUE(fires(R"(  sel: {Image: 'c:\windows\\*\cmd.exe'})" "\n  condition: sel", e))
        << "\\\\* is a backslash then a wildcard";
    EXPECT_TRUE(fires("  sel: {Image: 'C:\\Windows\\System3?\\cmd.exe'}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {Image: 'C:\\Windows\\System3?\\cmd'}\n  condition: sel", e)) << "exact match without *";
    EXPECT_TRUE(fires("  sel: {CommandLine: 'echo a\\*b\\?c'}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {CommandLine: 'echo a\\*bxc'}\n  condition: sel", e)) << "escaped * is literal";
}

TEST(EngineTest, ModifiersContainsAllStartsEndsReCased) {
    const auto e = sysmon(kCmd);
    EXPECT_TRUE(fires("  sel:\n    CommandLine|contains|all: [WHOAMI, '/c']\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel:\n    CommandLine|contains|all: [whoami, '/k']\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel:\n    CommandLine|startswith: [x, CMD.exe]\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel: {CommandLine|re: 'who[a-z]+ -all$'}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {CommandLine|re: 'WHOAMI'}\n  condition: sel", e)) << "re is case-sensitive";
    EXPECT_TRUE(fires("  sel: {CommandLine|re|i: 'WHOAMI'}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {CommandLine|cased|contains: 'WHOAMI'}\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel: {CommandLine|cased|contains: 'whoami'}\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel: {CommandLine|windash|contains: ' -c '}\n  condition: sel", e)) << "/c as -c";
}

TEST(EngineTest, NullExistsFieldrefNumbersAndCidr) {
    const auto e = sysmon(kCmd);
    EXPECT_TRUE(fires("  sel: {Image|endswith: cmd.exe, OriginalFileName: null}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {Image: null}\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel: {Hashes|exists: true, Missing|exists: false}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {Image|fieldref: ParentImage}\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel: {Image|fieldref: Image}\n  condition: sel", e));
    EXPECT_TRUE(fires("  sel: {ProcessId|gte: 4242, ProcessId|lt: 5000}\n  condition: sel", e));
    EXPECT_FALSE(fires("  sel: {ProcessId|gt: 4242}\n  condition: sel", e));
    const auto net = event(R"({"source.ip": "10.1.2.3", "ml": {"anomaly_score": 0.93}, "risk": 80})");
    EXPECT_TRUE(fires("  sel: {source.ip|cidr: ['192.168.0.0/16', '10.0.0.0/8']}\n  condition: sel", net));
    EXPECT_FALSE(fires("  sel: {src_ip|cidr: '10.2.0.0/16'}\n  condition: sel", net));
    EXPECT_TRUE(fires("  sel: {ml.anomaly_score|gte: 0.9, risk|gt: 50}\n  condition: sel", net));
}

TEST(EngineTest, KeywordsSearchTheMessage) {
    const auto e = event(R"({"message": "Failed password for root from 10.0.0.9 port 22 ssh2"})");
    EXPECT_TRUE(fires("  keywords: ['accepted password', 'FAILED PASSWORD']\n  condition: keywords", e));
    EXPECT_FALSE(fires("  keywords: ['accepted password']\n  condition: keywords", e));
    EXPECT_TRUE(fires("  keywords:\n    '|all': [failed, root]\n  condition: keywords", e));
}

/// An event with only `extra`, as `text` has it (any JSON layout, not only the ingest mapping's).
model::Event with_extra(std::string text) {
    model::Event e;
    e.id = "x1";
    e.timestamp = kNow;
    e.extra = std::move(text);
    return e;
}

/// The explanation's values of the one detection of `detection` on `e` ("" when none fired).
std::vector<std::string> explained(std::string_view detection, const model::Event& e) {
    auto set = compile("title: t\nid: r\nlogsource: {}\ndetection:\n" + std::string(detection));
    Engine engine(set);
    const auto ds = engine.evaluate(std::span(&e, 1));
    std::vector<std::string> values;
    for (const auto& d : ds) {
        for (const auto& m : d.matched) {
            for (const auto& f : m.fields) values.push_back(f.value);
        }
    }
    return values;
}

TEST(EngineTest, ExtraMembersAreReadWithTheirValuesDecoded) {
    const auto e = with_extra(R"( { "Custom.Path" : "C:\\Temp\\a \"b\"\/c\u00e9\ud83d\ude00\n\t\u0001",
        "custom.list": [ "one", -2.5e3, [ "nested" ], {"o": "inner"}, true, null, "two" ],
        "custom.obj": {"x": "inner", "y": [1, "}"]}, "custom.num" : 42, "custom.flag": false, "custom.none": null,
        "custom.plain": "plain \\ value", "custom\u002Eesc": ["a\\b", "c\\d"] } )");
    EXPECT_EQ(explained("  sel: {custom.path|exists: true}\n  condition: sel", e),
              std::vector<std::string>{"C:\\Temp\\a \"b\"/c\xC3\xA9\xF0\x9F\x98\x80\n\t\x01"})
        << "keys compare case-insensitively; escapes, \\u and surrogate pairs decode to UTF-8";
    EXPECT_EQ(explained("  sel: {custom.list: two}\n  condition: sel", e), std::vector<std::string>{"one"})
        << "each scalar of an array is a value of its member";
    EXPECT_FALSE(explained("  sel: {custom.list: '-2.5e3', custom.num: 42, custom.flag: 'false'}\n  condition: sel", e)
                     .empty())
        << "numbers as written, booleans as words";
    EXPECT_FALSE(explained("  sel: {custom.list: 'true'}\n  condition: sel", e).empty());
    EXPECT_FALSE(explained("  sel: {custom.esc: 'c\\d'}\n  condition: sel", e).empty())
        << "an escaped key keeps its path while its escaped values are read";
    EXPECT_FALSE(explained("  keywords: ['plain \\ value']\n  condition: keywords", e).empty()) << "strings are keywords";
    for (const char* absent : {"  keywords: [nested]\n  condition: keywords", "  keywords: [inner]\n  condition: keywords",
                               "  keywords: ['42']\n  condition: keywords",
                               "  sel: {custom.obj|exists: true}\n  condition: sel",
                               "  sel: {custom.obj.x|exists: true}\n  condition: sel",
                               "  sel: {custom.none|exists: true}\n  condition: sel"}) {
        EXPECT_TRUE(explained(absent, e).empty()) << absent << ": nested values, numbers as keywords and null are not read";
    }
    // Malformed: the members before the fault are read, nothing after it.
    for (const char* broken : {R"({"a.b": "v", "c.d": )", R"({"a.b": "v" "c.d": "w"})", R"({"a.b": "v", "c.d": "w\x"})",
                               R"({"a.b": "v", "c.d": "\ud800"})", R"({"a.b": "v", "c.d": "w)"}) {
        const auto bad = with_extra(broken);
        EXPECT_EQ(explained("  sel: {a.b|exists: true}\n  condition: sel", bad), std::vector<std::string>{"v"}) << broken;
        EXPECT_TRUE(explained("  sel: {c.d|exists: true}\n  condition: sel", bad).empty()) << broken;
    }
    EXPECT_TRUE(explained("  sel: {a|exists: true}\n  condition: sel", with_extra(R"(["a", "b"])")).empty());
}

TEST(EngineTest, EachSpellingOfAPathReachesItsFieldFromEventToEvent) {
    // The engine remembers the slots of paths as events spell them: a spelling met before,
    // another case of it, and many other paths sharing its remembered places.
    const auto set =
        compile("title: t\nid: r\ndetection:\n  sel: {custom.path|exists: true}\n  condition: sel\n");
    std::string others = "{";
    for (int i = 0; i < 2000; ++i) {
        others += (i ? ", \"custom.pat" : "\"custom.pat") + std::to_string(i) + "\": \"o\"";
    }
    std::vector<model::Event> batch = {
        with_extra(R"({"Custom.Path": "a"})"), with_extra(R"({"custom.path": "b"})"),
        with_extra(others + "}"),              with_extra(R"({"CUSTOM.PATH": "c"})"),
        with_extra(others + R"(, "custom.PATH": "d"})"), with_extra(R"({"Custom.Path": "e"})")};
    Engine engine(set);
    std::vector<std::string> got;
    for (const auto& d : engine.evaluate(batch)) {
        got.push_back(std::to_string(d.event_index) + d.matched.at(0).fields.at(0).value);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"0a", "1b", "3c", "4d", "5e"}));
}

TEST(EngineTest, Base64OffsetFindsTheEncodedTextAtAnyAlignment) {
    // "Set-MpPreference " base64-encoded at the three alignments inside a longer blob.
    for (const char* blob : {"U2V0LU1wUHJlZmVyZW5jZSAt", "eFNldC1NcFByZWZlcmVuY2UgLQ==", "eHhTZXQtTXBQcmVmZXJlbmNlIC0="}) {
        const auto e = sysmon(std::string(R"({"CommandLine": "powershell -enc )") + blob + "\"}");
        EXPECT_TRUE(fires("  sel: {CommandLine|base64offset|contains: 'Set-MpPreference '}\n  condition: sel", e)) << blob;
    }
}

TEST(EngineTest, FiltersListsOfMapsAndTheExplanation) {
    auto set = compile(R"(
title: Whoami
id: w1
level: high
tags: [attack.discovery, attack.t1033]
logsource: {product: windows, category: process_creation}
detection:
    selection_img:
        - Image|endswith: '\whoami.exe'
        - CommandLine|contains: 'whoami'
    filter_main:
        ParentImage|endswith: '\services.exe'
    condition: selection_img and not 1 of filter_*
)");
    Engine engine(set);
    const auto e = sysmon(kCmd);
    auto ds = engine.evaluate(std::span(&e, 1));
    ASSERT_EQ(ds.size(), 1u);
    EXPECT_EQ(ds[0].rule->id, "w1");
    EXPECT_EQ(ds[0].rule->level, "high");
    EXPECT_EQ(ds[0].rule->tags, (std::vector<std::string>{"attack.discovery", "attack.t1033"}));
    EXPECT_EQ(ds[0].event_ids, std::vector<std::string>{e.id});
    ASSERT_EQ(ds[0].matched.size(), 1u);
    EXPECT_EQ(ds[0].matched[0].name, "selection_img");
    EXPECT_EQ(ds[0].matched[0].fields[0].field, "CommandLine");
    EXPECT_EQ(ds[0].matched[0].fields[0].value, "cmd.exe /c whoami -all");
    const auto services = sysmon(R"({"CommandLine": "whoami", "ParentImage": "C:\\Windows\\services.exe"})");
    EXPECT_TRUE(engine.evaluate(std::span(&services, 1)).empty());
    EXPECT_EQ(set->counters(0).matches.load(), 1u);
    EXPECT_EQ(set->counters(0).evaluations.load(), 2u);
}

TEST(EngineTest, NestedConditionsOverSeveralSelectionsAndAlternatives) {
    // Conditions are evaluated from a flat encoding that skips the rest of an And/Or once
    // decided and the rest of an alternative once one test fails: each shape once.
    const auto e = sysmon(kCmd);
    const std::string sels = "  a: {Image|endswith: '\\cmd.exe'}\n"
                             "  b: {CommandLine|contains: nothing_here}\n"
                             "  c:\n"
                             "    - {Image|endswith: '\\cmd.exe', ParentImage|endswith: '\\svchost.exe'}\n"
                             "    - {User|contains: alice, ProcessId: 4242}\n"
                             "  d: {User|contains: bob}\n";
    EXPECT_TRUE(fires(sels + "  condition: a and (b or c) and not d", e));
    EXPECT_TRUE(fires(sels + "  condition: (a or b) and not d", e)) << "or decided by its first child";
    EXPECT_FALSE(fires(sels + "  condition: (d and a) or b", e)) << "and decided by its first child";
    EXPECT_FALSE(fires(sels + "  condition: a and (b or d)", e));
    EXPECT_TRUE(fires(sels + "  condition: (b and c) or (not b and not (d or b) and c)", e));
    EXPECT_FALSE(fires(sels + "  condition: not (a or b) or d", e));
    EXPECT_FALSE(fires(sels + "  condition: a and not c", e));
    EXPECT_TRUE(fires(sels + "  condition: all of a* and 1 of c* and not 1 of d*", e));
    EXPECT_FALSE(fires(sels + "  condition: all of them", e));

    // The explanation reports the alternative of c that held (the second: its first fails
    // on its second test) and only the selections that hold.
    auto set = compile("title: t\nid: r\nlogsource: {}\ndetection:\n" + sels + "  condition: (b or c) and a\n");
    Engine engine(set);
    auto ds = engine.evaluate(std::span(&e, 1));
    ASSERT_EQ(ds.size(), 1u);
    ASSERT_EQ(ds[0].matched.size(), 2u);
    EXPECT_EQ(ds[0].matched[0].name, "a");
    EXPECT_EQ(ds[0].matched[1].name, "c");
    ASSERT_EQ(ds[0].matched[1].fields.size(), 2u);
    EXPECT_EQ(ds[0].matched[1].fields[0].field, "User");
    EXPECT_EQ(ds[0].matched[1].fields[1].value, "4242");
}

TEST(EngineTest, RequiredSelectionsAreDecidedByTheMarksOfEveryAlternative) {
    // A candidate is false at once when a selection its condition requires has no match
    // among the atoms marking it (each alternative's most selective test): every
    // alternative, `all` tests and `1 of` must set the mark, or these rules stop firing.
    auto set = compile(R"(
title: t
id: r
logsource: {product: windows, category: process_creation}
detection:
    sel_img:
        Image|endswith: '\cmd.exe'
    sel_cli:
        - CommandLine|contains|all: [' /c ', 'foo bar']
        - {CommandLine|contains: 'whoami', User|contains: [alice, carol]}
    condition: sel_img and 1 of sel_cli*
)");
    Engine engine(set);
    const auto first = sysmon(R"({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "cmd.exe /c foo bar"})");
    const auto second =
        sysmon(R"({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "whoami /all", "User": "CORP\\alice"})");
    const auto half = sysmon(R"({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "cmd.exe /c foo"})");
    const auto other = sysmon(R"({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "whoami", "User": "bob"})");
    const auto none = sysmon(R"({"Image": "C:\\Windows\\cmd.exe", "CommandLine": "dir"})");
    const std::vector<model::Event> events{first, second, half, other, none};
    auto ds = engine.evaluate(events);
    ASSERT_EQ(ds.size(), 2u);
    EXPECT_EQ(ds[0].event_index, 0u);
    EXPECT_EQ(ds[1].event_index, 1u);
    ASSERT_EQ(ds[1].matched.size(), 2u);
    EXPECT_EQ(ds[1].matched[1].fields[1].value, "CORP\\alice");
    // A candidate decided by its marks still counts as evaluated.
    EXPECT_EQ(set->counters(0).evaluations.load(), 5u);
}

TEST(EngineTest, NegatedRulesStillSeeEventsWithoutTheirFields) {
    const auto e = event(R"({"message": "hello", "user": {"name": "bob"}})");
    EXPECT_TRUE(fires("  filter: {user.name: root}\n  condition: not filter", e));
    EXPECT_FALSE(fires("  filter: {user.name: bob}\n  condition: not filter", e));
}

TEST(EngineTest, EachKindOfEventMeetsExactlyTheRulesOfItsLogsource) {
    // Rules are compiled in partitions by logsource; an event of a kind no partition
    // covers alone (a channel of a service the tables do not name) scans several.
    std::string yaml;
    for (const auto& [id, logsource] : std::vector<std::pair<std::string, std::string>>{
             {"pc", "{product: windows, category: process_creation}"},
             {"reg", "{product: windows, category: registry_set}"},
             {"sysmon", "{product: windows, service: sysmon}"},
             {"foo", "{product: windows, service: foo-bar}"},
             {"any", "{}"},
             {"linux", "{product: linux}"},
             {"zeek", "{product: zeek}"}}) {
        yaml += "title: " + id + "\nid: " + id + "\nlogsource: " + logsource +
                "\ndetection:\n  sel: {Image|endswith: '\\cmd.exe'}\n  condition: sel\n---\n";
    }
    const auto set = compile(yaml);
    auto sorted = [](std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    };
    using Ids = std::vector<std::string>;
    EXPECT_EQ(sorted(fired(set, sysmon(kCmd))), (Ids{"any", "pc", "sysmon"}));
    EXPECT_EQ(sorted(fired(set, sysmon(kCmd, 13))), (Ids{"any", "reg", "sysmon"}));
    const auto foo = event(R"({"Event": {"System": {"Provider": {"#attributes": {"Name": "Foo-Bar"}}, "EventID": 1,
        "Channel": "Microsoft-Windows-Foo-Bar/Operational"}, "EventData": {"Image": "C:\\cmd.exe"}}})");
    EXPECT_EQ(sorted(fired(set, foo)), (Ids{"any", "foo"}));
    EXPECT_EQ(sorted(fired(set, event(R"({"process": {"executable": "C:\\x\\cmd.exe"}, "event": {"module": "zeek"}})"))),
              (Ids{"any", "zeek"}));
    EXPECT_EQ(sorted(fired(set, event(R"({"process": {"executable": "C:\\x\\cmd.exe"}})"))), (Ids{"any", "linux", "zeek"}));
}

TEST(EngineTest, ABatchGivesEachEventTheDetectionsItGetsAlone) {
    // The engine loads a batch by chunks and scans each database for a whole chunk in a
    // row: every event must still get its own detections, explanations (values decoded
    // per event: each its own Image) and their order.
    const auto set = compile(R"(
title: whoami
id: pc
logsource: {product: windows, category: process_creation}
detection:
    sel: {CommandLine|contains: whoami}
    condition: sel
---
title: run number
id: num
logsource: {product: windows, category: process_creation}
detection:
    sel: {CommandLine|re: 'run [0-9]*7$'}
    img: {Image|endswith: '\cmd.exe'}
    condition: sel and img
---
title: no parent
id: null
logsource: {product: windows, category: process_creation}
detection:
    sel: {CommandLine|contains: run}
    filter: {ParentImage: null}
    condition: sel and not filter
---
title: registry
id: reg
logsource: {product: windows, category: registry_set}
detection:
    sel: {TargetObject|contains: '\Run\'}
    condition: sel
---
title: keyword
id: kw
detection:
    keywords: [needle]
    condition: keywords
---
title: root
id: root
logsource: {product: linux}
detection:
    sel: {user.name: root}
    condition: sel
)");
    std::vector<model::Event> batch;
    for (int i = 0; i < 200; ++i) {
        const auto n = std::to_string(i);
        switch (i % 4) {
            case 0: {
                // Long escaped values: the chunk's decoded texts fill more than one block of
                // the engine's arena; one `extra`, longer than ingest allows, more than a block alone.
                const std::string filler(20'000, 'x');
                batch.push_back(sysmon(R"({"Description": "\\\\)" + filler +
                                       R"(", "Image": "C:\\Windows\\cmd.exe", "CommandLine": "whoami run )" +
                                       n + R"(", "ParentImage": "C:\\p)" + n + R"(.exe"})"));
                if (i == 40) {
                    auto& extra = batch.back().extra;
                    extra.replace(extra.find(filler), filler.size(), std::string(300'000, 'x'));
                }
                break;
            }
            case 1:
                batch.push_back(sysmon(R"({"TargetObject": "HKLM\\Software\\Run\\)" + n + R"("})", 13));
                break;
            case 2:
                batch.push_back(event(R"({"user": {"name": ")" + std::string(i % 8 == 2 ? "root" : "alice") +
                                      R"("}, "message": "a needle )" + n + R"("})"));
                break;
            default: {
                // An event of many values: the chunk holding it ends early.
                std::string many =
                    R"({"Image": "C:\\d)" + n + R"(\\cmd.exe", "CommandLine": "run )" + n + R"(", "Tags": [)";
                for (int v = 0; v < (i == 99 ? 5000 : 3); ++v) {
                    many += (v ? ",\"t" : "\"t") + std::to_string(v) + "\"";
                }
                batch.push_back(sysmon(many + "]}"));
            }
        }
    }
    Engine engine(set);
    const auto together = engine.evaluate(batch);
    std::vector<Detection> alone;
    for (std::size_t i = 0; i < batch.size(); ++i) {
        for (auto d : engine.evaluate(std::span(&batch[i], 1))) {
            d.event_index = i;
            alone.push_back(std::move(d));
        }
    }
    auto text = [](const std::vector<Detection>& ds) {
        std::vector<std::string> out;
        for (const auto& d : ds) {
            std::string line = d.rule->id + " #" + std::to_string(d.event_index) + " " + d.event_ids.at(0);
            for (const auto& m : d.matched) {
                for (const auto& f : m.fields) line += " " + m.name + "." + f.field + "=" + f.value;
            }
            out.push_back(line);
        }
        return out;
    };
    // 50 each of pc, null (case 0), reg, kw; 25 root; num on the 10 "run ...7" of case 3.
    EXPECT_EQ(together.size(), 235u);
    EXPECT_EQ(text(together), text(alone));
    EXPECT_EQ(set->counters(set->find("pc")).evaluations.load(), 100u) << "50 events, twice";
}

TEST(EngineTest, AValueRepeatedInABatchTakesTheMatchesOfItsOwnTextAndField) {
    // A chunk scans a text once per database: values of one length and the same first and
    // last eight bytes (one place in the engine's table of scans, more than it probes) must
    // each get their own matches, and one text in two fields each field's.
    const auto set = compile(R"(
title: image
id: img
logsource: {product: windows, category: process_creation}
detection:
    sel: {Image|contains: '\mid-a\'}
    condition: sel
---
title: parent
id: parent
logsource: {product: windows, category: process_creation}
detection:
    sel: {ParentImage|contains: '\mid-b\'}
    condition: sel
)");
    auto path = [](int k) {
        return std::string(R"(C:\\Windows\\mid-)") + static_cast<char>('a' + k) + R"(\\tool.exe)";
    };
    std::vector<model::Event> batch;
    for (int i = 0; i < 100; ++i) {
        batch.push_back(
            sysmon(R"({"Image": ")" + path(i % 20) + R"(", "ParentImage": ")" + path(i * 7 % 20) + R"("})"));
    }
    Engine engine(set);
    std::vector<std::string> together, alone;
    for (const auto& d : engine.evaluate(batch)) {
        together.push_back(d.rule->id + " #" + std::to_string(d.event_index));
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        for (const auto& d : engine.evaluate(std::span(&batch[i], 1))) {
            alone.push_back(d.rule->id + " #" + std::to_string(i));
        }
    }
    // Image mid-a on events 0, 20, ...; ParentImage mid-b on 3, 23, ... (7 * 3 = 21).
    const std::vector<std::string> expected{"img #0",  "parent #3",  "img #20", "parent #23", "img #40",
                                            "parent #43", "img #60", "parent #63", "img #80", "parent #83"};
    EXPECT_EQ(together, expected);
    EXPECT_EQ(together, alone);
}

TEST(EngineTest, SwapInstallsANewRuleSetWhileOthersEvaluate) {
    auto a = compile("title: a\nid: a\ndetection:\n  sel: {user.name: root}\n  condition: sel\n");
    auto b = compile("title: b\nid: b\ndetection:\n  sel: {user.name: root}\n  condition: sel\n");
    Engine engine(a);
    const auto e = event(R"({"user": {"name": "root"}})");
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::thread reader([&] {
        while (!stop) {
            auto ds = engine.evaluate(std::span(&e, 1));
            if (ds.size() != 1 || (ds[0].rule->id != "a" && ds[0].rule->id != "b")) ++bad;
        }
    });
    for (int i = 0; i < 200; ++i) engine.swap(i % 2 ? a : b);
    stop = true;
    reader.join();
    EXPECT_EQ(bad.load(), 0);
    engine.swap(b);
    EXPECT_EQ(engine.evaluate(std::span(&e, 1)).at(0).rule->id, "b");
}

TEST(EngineTest, HugeFieldsAreBoundedWork) {
    auto set = compile("title: a\nid: a\ndetection:\n  sel: {message|contains: needle}\n  condition: sel\n");
    Engine engine(set);
    auto e = event(R"({"message": "x"})");
    e.message = std::string(60000, 'a') + "needle";
    EXPECT_EQ(engine.evaluate(std::span(&e, 1)).size(), 1u);
}

}  // namespace
}  // namespace sai::detection
