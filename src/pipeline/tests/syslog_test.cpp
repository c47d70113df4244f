#include "pipeline/syslog.hpp"

#include "core/time.hpp"

#include <gtest/gtest.h>

namespace sai::pipeline {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;  // 2026-11-18T06:13:20Z

TEST(SyslogTest, Rfc5424ExampleWithStructuredData) {
    // RFC 5424 §6.5 example 3.
    auto e = parse_syslog(R"(<165>1 2026-11-11T22:14:15.003Z mymachine.example.com evntslog - ID47 )"
                          R"([exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event)",
                          kNow).value();
    EXPECT_EQ(e.host_name, "mymachine.example.com");
    EXPECT_EQ(e.process_name, "evntslog");
    EXPECT_EQ(e.labels.at("syslog.msgid"), "ID47");
    EXPECT_EQ(e.labels.at("sd.exampleSDID@32473.eventID"), "1011");
    EXPECT_EQ(e.labels.at("sd.exampleSDID@32473.eventSource"), "Application");
    EXPECT_EQ(e.labels.at("syslog.facility"), "local4");
    EXPECT_EQ(e.log_level, "notice");
    EXPECT_EQ(e.severity, 1);
    EXPECT_EQ(e.message, "An application event");
    EXPECT_EQ(e.timestamp, 1'794'435'255'003);
}

TEST(SyslogTest, Rfc5424WithNilValuesAndNumericProcid) {
    auto e = parse_syslog("<34>1 2026-11-11T22:14:15Z host su 4242 - - 'su root' failed for lonvick", kNow).value();
    EXPECT_EQ(e.process_pid, 4242);
    EXPECT_EQ(e.log_level, "crit");
    EXPECT_EQ(e.severity, 4);
    EXPECT_EQ(e.labels.at("syslog.facility"), "auth");
    EXPECT_EQ(e.message, "'su root' failed for lonvick");
}

TEST(SyslogTest, Rfc3164WithHostTagAndPid) {
    auto e = parse_syslog("<38>Nov 17 22:14:15 web-01 sshd[1234]: Failed password for root from 10.0.0.5 port 22 ssh2",
                          kNow).value();
    EXPECT_EQ(e.host_name, "web-01");
    EXPECT_EQ(e.process_name, "sshd");
    EXPECT_EQ(e.process_pid, 1234);
    EXPECT_EQ(e.message, "Failed password for root from 10.0.0.5 port 22 ssh2");
    EXPECT_EQ(e.labels.at("syslog.facility"), "auth");
    EXPECT_EQ(e.timestamp, 1'794'953'655'000);  // this year
}

TEST(SyslogTest, Rfc3164FromLoggerWithoutHostname) {
    // util-linux `logger` over UDP sends "<13>Nov 17 22:14:15 user: text" forms too.
    auto e = parse_syslog("<13>Nov 17 22:14:15 alice: hello world", kNow, "127.0.0.1").value();
    EXPECT_EQ(e.process_name, "alice");
    EXPECT_EQ(e.message, "hello world");
    EXPECT_EQ(e.labels.at("syslog.peer"), "127.0.0.1");
}

TEST(SyslogTest, DecemberMessageInJanuaryIsLastYear) {
    const std::int64_t jan2 = 1'798'848'000'000;  // 2027-01-02T00:00:00Z
    auto e = parse_syslog("<13>Dec 31 23:00:00 host app: x", jan2).value();
    EXPECT_EQ(e.timestamp, 1'798'758'000'000);  // 2026-12-31T23:00:00Z
}

TEST(SyslogTest, ASenderClockFarOffIsKeptAsALabelAndTheEventTakesTheReceiveTime) {
    // 2262 and later do not fit a nanosecond clock: still a time, not garbage.
    for (const char* far : {"<34>1 2027-06-01T00:00:00Z host su - - - x", "<34>1 3026-10-11T22:14:15.003Z host su - - - x",
                            "<34>1 1999-12-31T23:59:59Z host su - - - x"}) {
        auto e = parse_syslog(far, kNow);
        ASSERT_TRUE(e) << far;
        EXPECT_EQ(e->timestamp, kNow) << far;
        EXPECT_EQ(e->labels.at("syslog.timestamp_rejected").substr(0, 4), std::string_view(far).substr(6, 4)) << far;
    }
}

TEST(SyslogTest, GarbageIsRejected) {
    for (const char* bad : {"", "hello", "<>x", "<999>1 x", "<12", "<abc>def", "<13>1 2026-11-11T22:14:15Z host"}) {
        EXPECT_FALSE(parse_syslog(bad, kNow)) << bad;
    }
    EXPECT_FALSE(parse_syslog(std::string(kMaxSyslogMessage + 10, 'a'), kNow));
}

TEST(SyslogTest, ALogFileLineWithoutPriIsTakenFromAFileOnly) {
    const char* line = "Nov 17 22:14:15 bastion-01 sshd[1201]: Failed password for root from 203.0.113.5 port 4 ssh2";
    EXPECT_EQ(parse_syslog(line, kNow).error().detail, "not syslog: missing <PRI>");
    auto e = parse_syslog(line, kNow, {}, SyslogSource::File).value();
    EXPECT_EQ(e.host_name, "bastion-01");
    EXPECT_EQ(e.process_name, "sshd");
    EXPECT_EQ(e.process_pid, 1201);
    EXPECT_EQ(e.message, "Failed password for root from 203.0.113.5 port 4 ssh2");
    EXPECT_EQ(core::format_rfc3339_ms(e.timestamp).substr(5, 14), "11-17T22:14:15");
    EXPECT_FALSE(e.severity) << "no <PRI>, no severity";
    EXPECT_TRUE(e.log_level.empty());
    EXPECT_EQ(e.labels.count("syslog.facility"), 0u);
    auto padded = parse_syslog("Nov 17 22:14:15 bastion-01 sudo:    alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/sh",
                               kNow, {}, SyslogSource::File).value();
    EXPECT_EQ(padded.message, "alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/sh");
    // A line with <PRI> reads the same from a file as from the network.
    auto with_pri = parse_syslog("<38>Nov 17 22:14:15 web-01 sshd[1]: x", kNow, {}, SyslogSource::File).value();
    EXPECT_EQ(with_pri.log_level, "info");
    EXPECT_FALSE(parse_syslog("", kNow, {}, SyslogSource::File));
    EXPECT_FALSE(parse_syslog("<999>x", kNow, {}, SyslogSource::File));
}

TEST(SyslogTest, InvalidUtf8IsRepaired) {
    auto e = parse_syslog("<13>app: bad \xff\xfe bytes", kNow).value();
    EXPECT_EQ(e.message, "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
}

TEST(SyslogFramerTest, NewlineAndOctetCountingMixedAcrossReads) {
    SyslogFramer f;
    auto a = f.feed("<13>app: one\n<13>app: two\r\n14 <13>app: th");
    EXPECT_EQ(a.frames, (std::vector<std::string>{"<13>app: one", "<13>app: two"}));
    auto b = f.feed("ree");  // "<13>app: three" is exactly 14 bytes
    EXPECT_EQ(b.frames, (std::vector<std::string>{"<13>app: three"}));
    auto c = f.feed("<13>app: four\n");
    EXPECT_EQ(c.frames, (std::vector<std::string>{"<13>app: four"}));
    EXPECT_EQ(a.errors + b.errors + c.errors, 0u);
    EXPECT_EQ(f.pending(), 0u);
}

TEST(SyslogFramerTest, OversizeFrameIsSkippedAndStreamResyncs) {
    SyslogFramer f;
    auto a = f.feed(std::string(kMaxSyslogMessage + 100, 'x'));
    EXPECT_EQ(a.errors, 1u);
    auto b = f.feed("still the same line\n<13>app: next\n");
    EXPECT_EQ(b.frames, (std::vector<std::string>{"<13>app: next"}));
    auto c = f.feed("99999999 <13>huge\n<13>app: after\n");
    EXPECT_EQ(c.errors, 1u);
    EXPECT_EQ(c.frames, (std::vector<std::string>{"<13>app: after"}));
    EXPECT_EQ(f.pending(), 0u);
}

}  // namespace
}  // namespace sai::pipeline
