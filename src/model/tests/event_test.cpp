#include "model/event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sai::model {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;  // 2026-11-18

core::Result<Event> map(std::string_view json) {
    return event_from_json(boost::json::parse(json).as_object(), kNow);
}

TEST(EventTest, NestedDottedAndFlatFormsMapToTheSameFields) {
    auto nested = map(R"({"source": {"ip": "10.0.0.5", "port": 22}, "user": {"name": "root"},
                          "event": {"action": "ssh_login", "outcome": "failure"}})").value();
    auto dotted = map(R"({"source.ip": "10.0.0.5", "source.port": 22, "user.name": "root",
                          "event.action": "ssh_login", "event.outcome": "failure"})").value();
    auto flat = map(R"({"source_ip": "10.0.0.5", "source_port": 22, "user": "root", "event_type": "ssh_login",
                        "outcome": "failure"})").value();
    for (const Event* e : {&nested, &dotted, &flat}) {
        EXPECT_EQ(e->source_ip, "10.0.0.5");
        EXPECT_EQ(e->source_port, 22);
        EXPECT_EQ(e->user_name, "root");
        EXPECT_EQ(e->action, "ssh_login");
        EXPECT_EQ(e->outcome, "failure");
    }
}

TEST(EventTest, SeedFlatFormIsFullyUnderstood) {
    auto e = map(R"({"event_type": "login_attempt", "source_ip": "192.168.1.100", "destination_ip": "10.0.0.1",
                     "user": "admin", "host": "web-01", "bytes_transferred": 1024, "login_attempts": 5,
                     "duration": 2.5, "severity": "high", "message": "Failed login",
                     "timestamp": "2026-11-18T10:00:00Z"})").value();
    EXPECT_EQ(e.action, "login_attempt");
    EXPECT_EQ(e.destination_ip, "10.0.0.1");
    EXPECT_EQ(e.host_name, "web-01");
    EXPECT_EQ(e.network_bytes, 1024);
    EXPECT_EQ(e.duration_ns, 2'500'000'000);
    EXPECT_EQ(e.severity, 3);
    EXPECT_EQ(e.message, "Failed login");
    EXPECT_EQ(e.timestamp, 1'794'996'000'000);
    EXPECT_EQ(e.extra, R"({"login_attempts":5})") << "unknown fields are kept";
}

TEST(EventTest, UnknownNestedFieldsAreKeptByDottedPath) {
    auto e = map(R"({"message": "x", "threat": {"indicator": {"type": "ipv4"}}, "custom": [1, 2]})").value();
    auto extra = boost::json::parse(e.extra).as_object();
    EXPECT_EQ(extra.at("threat.indicator.type"), "ipv4");
    EXPECT_EQ(extra.at("custom").as_array().size(), 2u);
    auto out = event_to_json(e);
    EXPECT_EQ(out.at("extra").as_object().at("threat.indicator.type"), "ipv4");
}

TEST(EventTest, IdsAreAssignedOrKept) {
    auto assigned = map(R"({"message": "x"})").value();
    EXPECT_EQ(assigned.id.size(), 36u);
    auto kept = map(R"({"id": "client-42", "message": "x"})").value();
    EXPECT_EQ(kept.id, "client-42");
    EXPECT_FALSE(map(R"({"id": "has space"})"));
}

TEST(EventTest, TimestampsDefaultToNowAndAreBounded) {
    auto e = map(R"({"message": "x"})").value();
    EXPECT_EQ(e.timestamp, kNow);
    EXPECT_EQ(e.ingested, kNow);
    EXPECT_EQ(map(R"({"@timestamp": 1795000000})").value().timestamp, 1'795'000'000'000) << "epoch seconds";
    EXPECT_EQ(map(R"({"@timestamp": 1795000000123})").value().timestamp, 1'795'000'000'123) << "epoch ms";
    auto future = map(R"({"@timestamp": "2030-01-01T00:00:00Z"})");
    ASSERT_FALSE(future);
    EXPECT_NE(future.error().detail.find("@timestamp"), std::string::npos);
    EXPECT_FALSE(map(R"({"@timestamp": "1990-01-01T00:00:00Z"})"));
    EXPECT_FALSE(map(R"({"@timestamp": "yesterday"})"));
    // Beyond the years a nanosecond clock holds, and numbers beyond any int64: still
    // "in the future" or "before 2000", never wrapped around.
    for (const char* far : {R"({"@timestamp": "3026-01-01T00:00:00Z"})", R"({"@timestamp": "9999-12-31T23:59:59Z"})",
                             R"({"@timestamp": 1e300})"}) {
        auto r = map(far);
        ASSERT_FALSE(r) << far;
        EXPECT_NE(r.error().detail.find("in the future"), std::string::npos) << far << ": " << r.error().detail;
    }
    for (const char* past : {R"({"@timestamp": "0001-01-01T00:00:00Z"})", R"({"@timestamp": -1e300})"}) {
        auto r = map(past);
        ASSERT_FALSE(r) << past;
        EXPECT_NE(r.error().detail.find("before the year 2000"), std::string::npos) << past << ": " << r.error().detail;
    }
}

TEST(EventTest, WrongTypesAndRangesAreRejectedWithTheFieldName) {
    for (const char* bad : {R"({"source.port": 70000})", R"({"source.port": "ssh"})", R"({"source.ip": "999.1.1.1"})",
                            R"({"severity": 9})", R"({"severity": "loud"})", R"({"message": {"a": []}, "x": 1})",
                            R"({"labels": "nope"})", R"({"rule.ids": "r1"})", R"({"network.bytes": -1})"}) {
        auto e = map(bad);
        ASSERT_FALSE(e) << bad;
        EXPECT_EQ(e.error().code, core::Errc::InvalidArgument);
    }
    auto e = map(R"({"source": {"port": 70000}})");
    EXPECT_NE(e.error().detail.find("source.port"), std::string::npos) << e.error().detail;
}

TEST(EventTest, OversizeMessageIsRejected) {
    const std::string big(kMaxMessageBytes + 1, 'a');
    boost::json::object o;
    o["message"] = big;
    auto e = event_from_json(o, kNow);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().detail.find("message"), std::string::npos);
    o["message"] = std::string(kMaxMessageBytes, 'a');
    EXPECT_TRUE(event_from_json(o, kNow));
}

TEST(EventTest, JsonRoundTrip) {
    auto e = map(R"({"source.ip": "2001:DB8::1", "labels": {"env": "prod"}, "event.severity": 2,
                     "message": "hello", "rule.ids": ["r1"], "ml": {"anomaly_score": 0.9}})").value();
    EXPECT_EQ(e.source_ip, "2001:db8::1") << "canonical text";
    auto again = event_from_json(event_to_json(e), kNow + 5).value();
    EXPECT_EQ(again.id, e.id);
    EXPECT_EQ(again.source_ip, e.source_ip);
    EXPECT_EQ(again.labels, e.labels);
    EXPECT_EQ(again.severity, 2);
    EXPECT_EQ(again.rule_ids, e.rule_ids);
    EXPECT_EQ(again.anomaly_score, 0.9);
    EXPECT_EQ(again.timestamp, e.timestamp);
}

/// Every field set to `text` (strings) or a number derived from `n`, when bit i of `mask` is set.
Event event_with_fields(std::uint64_t mask, const std::string& text, std::int64_t n) {
    Event e;
    e.id = "id-" + text;
    e.timestamp = kNow + n;
    e.ingested = kNow;
    std::string* strings[] = {&e.kind, &e.category, &e.type, &e.action, &e.outcome, &e.dataset, &e.message,
                              &e.log_level, &e.host_name, &e.host_ip, &e.source_ip, &e.destination_ip,
                              &e.network_transport, &e.network_protocol, &e.user_name, &e.process_name,
                              &e.url_original, &e.file_path, &e.template_id, &e.log_template, &e.threat_class,
                              &e.ml_explanation};
    std::optional<std::int64_t>* ints[] = {&e.source_port, &e.destination_port, &e.source_bytes, &e.destination_bytes,
                                           &e.network_bytes, &e.process_pid, &e.duration_ns, &e.severity};
    std::optional<double>* doubles[] = {&e.anomaly_score, &e.ml_confidence, &e.risk};
    int bit = 0;
    auto on = [&] { return (mask >> (bit++ % 64)) & 1; };
    for (auto* s : strings) {
        if (on()) *s = text + std::to_string(bit);
    }
    for (auto* i : ints) {
        if (on()) *i = n * bit;
    }
    for (auto* d : doubles) {
        if (on()) *d = 1.0 / static_cast<double>(n + bit);
    }
    if (on()) e.rule_ids = {"r1", text};
    if (on()) e.entities = {{"ipv4", {"10.0.0.1", text}}, {text, {}}};
    if (on()) e.labels = {{"env", text}, {text, "x"}};
    if (on()) e.extra = R"({"winlog": {"event_id": 4625, "ratio": 0.25, "data": [1, "a\u0001"]}, "b": null})";
    return e;
}

TEST(EventTest, TheDocumentTextIsTheSerialisedObject) {
    // Control characters, quotes, backslashes, DEL and multi-byte UTF-8 in values and keys.
    std::string tricky = "q\"b\\s/";
    for (int c = 0; c < 0x20; ++c) tricky += static_cast<char>(c);
    tricky += "\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
    std::uint64_t mask = 0x9e3779b97f4a7c15;
    for (int i = 0; i < 2000; ++i) {
        mask = mask * 6364136223846793005 + 1442695040888963407;  // every subset of fields, in effect
        const auto e = event_with_fields(i == 0 ? ~0ull : mask, i % 3 ? "v" + std::to_string(i) : tricky, i + 1);
        ASSERT_EQ(event_to_json_text(e), to_json_text(event_to_json(e))) << "fields " << mask;
    }
    Event e;
    e.id = "a";
    e.timestamp = kNow;
    e.ingested = kNow;
    e.process_pid = 7;
    e.source_ip = "10.0.0.1";
    e.source_port = 22;
    e.message = "m";
    e.threat_class = "brute_force";
    e.anomaly_score = 0.5;
    EXPECT_EQ(event_to_json_text(e),
              R"({"id":"a","@timestamp":"2026-11-18T11:06:40.000Z","event":{"ingested":"2026-11-18T11:06:40.000Z"},)"
              R"("message":"m","source":{"ip":"10.0.0.1","port":22},"ml":{"threat_class":"brute_force",)"
              R"("anomaly_score":0.5},"process":{"pid":7}})");
}

TEST(EventTest, EntitiesRoundTripAndAreBounded) {
    auto e = map(R"({"message": "x", "entities": {"ipv4": ["10.0.0.1", "10.0.0.2"], "user": ["root"]}})").value();
    EXPECT_EQ(e.entities.at("ipv4"), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
    auto again = event_from_json(event_to_json(e), kNow).value();
    EXPECT_EQ(again.entities, e.entities);
    EXPECT_TRUE(again.extra.empty());
    EXPECT_FALSE(map(R"({"entities": {"ipv4": "10.0.0.1"}})"));
    EXPECT_FALSE(map(R"({"entities": {"ipv4": [1]}})"));
}

TEST(EventTest, CidrRanges) {
    auto r = cidr_range("10.0.0.0/8").value();
    const auto inside = ip_sort_key("10.200.3.4");
    const auto outside = ip_sort_key("11.0.0.1");
    EXPECT_TRUE(r.first <= inside && inside <= r.second);
    EXPECT_FALSE(r.first <= outside && outside <= r.second);
    auto single = cidr_range("192.168.1.1").value();
    EXPECT_EQ(single.first, single.second);
    auto v6 = cidr_range("2001:db8::/32").value();
    const auto v6in = ip_sort_key("2001:db8:1::5");
    EXPECT_TRUE(v6.first <= v6in && v6in <= v6.second);
    EXPECT_FALSE(cidr_range("10.0.0.0/33"));
    EXPECT_FALSE(cidr_range("not-an-ip/8"));
    EXPECT_FALSE(cidr_range("10.0.0.0/"));
}

TEST(EventTest, WindowsEvtxShapeMapsToWinlogbeatPaths) {
    auto e = map(R"({"Event": {"#attributes": {"xmlns": "x"},
        "System": {"Provider": {"#attributes": {"Name": "Microsoft-Windows-Sysmon", "Guid": "5770"}},
                   "EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "ws-01",
                   "TimeCreated": {"#attributes": {"SystemTime": "2026-01-12T07:51:17.415898Z"}},
                   "Execution": {"#attributes": {"ProcessID": 4048, "ThreadID": 4752}},
                   "Security": {"#attributes": {"UserID": "S-1-5-18"}}, "Correlation": null},
        "EventData": {"Image": "C:\\Windows\\System32\\reg.exe", "ProcessId": 376}}})").value();
    auto extra = boost::json::parse(e.extra).as_object();
    EXPECT_EQ(extra.at("winlog.event_id"), 1);
    EXPECT_EQ(extra.at("winlog.channel"), "Microsoft-Windows-Sysmon/Operational");
    EXPECT_EQ(extra.at("winlog.provider_name"), "Microsoft-Windows-Sysmon");
    EXPECT_EQ(extra.at("winlog.event_data.Image"), "C:\\Windows\\System32\\reg.exe");
    EXPECT_EQ(extra.at("winlog.event_data.ProcessId"), 376);
    EXPECT_EQ(extra.at("winlog.process.thread.id"), 4752);
    EXPECT_EQ(extra.at("winlog.user.identifier"), "S-1-5-18");
    EXPECT_EQ(extra.at("event.code"), "1");
    EXPECT_EQ(e.host_name, "ws-01");
    EXPECT_EQ(e.timestamp, 1'768'204'277'415);
}

TEST(EventTest, WindowsXmlDataArrayAndEventIdWithQualifiers) {
    auto e = map(R"({"Event": {"System": {"EventID": {"#text": 4688, "#attributes": {"Qualifiers": ""}},
                                          "Channel": "Security"},
        "EventData": {"Data": [{"#attributes": {"Name": "NewProcessName"}, "#text": "C:\\x.exe"},
                               {"#attributes": {"Name": "Empty"}}]},
        "UserData": {"EventXML": {"Param1": "p"}}}})").value();
    auto extra = boost::json::parse(e.extra).as_object();
    EXPECT_EQ(extra.at("winlog.event_id"), 4688);
    EXPECT_EQ(extra.at("winlog.event_data.NewProcessName"), "C:\\x.exe");
    EXPECT_EQ(extra.at("winlog.event_data.Empty"), "");
    EXPECT_EQ(extra.at("winlog.user_data.Param1"), "p");
}

TEST(EventTest, WinlogbeatShapeIsKeptUnderTheSamePaths) {
    auto e = map(R"({"winlog": {"event_id": "4625", "channel": "Security",
                                "event_data": {"TargetUserName": "admin"}}})").value();
    auto extra = boost::json::parse(e.extra).as_object();
    EXPECT_EQ(extra.at("winlog.event_id"), "4625");
    EXPECT_EQ(extra.at("winlog.event_data.TargetUserName"), "admin");
}

TEST(EventTest, LargeScriptBlocksFitButExtraIsStillBounded) {
    const std::string block(30'000, 'x');
    auto e = map(R"({"Event": {"System": {"EventID": 4104, "Channel": "Microsoft-Windows-PowerShell/Operational"},
                     "EventData": {"ScriptBlockText": ")" + block + "\"}}}");
    ASSERT_TRUE(e) << e.error().detail;
    EXPECT_EQ(boost::json::parse(e->extra).as_object().at("winlog.event_data.ScriptBlockText").as_string(), block);
    auto huge = map(R"({"custom": ")" + std::string(70'000, 'x') + "\"}");
    ASSERT_FALSE(huge);
    EXPECT_NE(huge.error().detail.find("extra"), std::string::npos);
}

TEST(EventTest, AnEventKeyWithoutWindowsSystemIsAnOrdinaryField) {
    auto e = map(R"({"Event": {"name": "x"}})").value();
    EXPECT_EQ(boost::json::parse(e.extra).as_object().at("Event.name"), "x");
}

}  // namespace
}  // namespace sai::model
