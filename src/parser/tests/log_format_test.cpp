#include "parser/log_format.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sai::parser {
namespace {

std::string field(const LogFormat& f, const HeaderMatch& m, std::string_view name) {
    const int i = f.field_index(name);
    return i < 0 ? "<none>" : std::string(m.values[static_cast<std::size_t>(i)]);
}

/// The Component, pid field and content that `f` finds in `line` ("no match" when none).
std::vector<std::string> component_pid_content(const LogFormat& f, std::string_view line, std::string_view pid = "Pid") {
    HeaderMatch m;
    if (!f.match(line, m)) return {"no match"};
    return {field(f, m, "Component"), field(f, m, pid), std::string(m.content)};
}

TEST(LogFormatTest, SplitsHdfsHeader) {
    auto f = LogFormat::compile("<Date> <Time> <Pid> <Level> <Component>: <Content>").value();
    HeaderMatch m;
    ASSERT_TRUE(f.match("081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating", m));
    EXPECT_EQ(field(f, m, "Pid"), "148");
    EXPECT_EQ(field(f, m, "Component"), "dfs.DataNode$PacketResponder");
    EXPECT_EQ(m.content, "PacketResponder 1 terminating");
}

TEST(LogFormatTest, FieldsEndAtEveryKindOfWhitespace) {
    // Field ends are found 16 bytes at a time: each whitespace character ends a field, at
    // every position in a block and past the last full block; other bytes (0x80 and up,
    // 0x08, 0x0e, 0x1f, '!') do not.
    auto f = LogFormat::compile("<A> <B> <Content>").value();
    const std::string filler = "x\x80\x08\x0e\x1f!y0123456789abcdefghijklmnopqrstuvwxyz";
    for (const char space : std::string(" \t\n\v\f\r")) {
        for (std::size_t size = 1; size <= filler.size(); ++size) {
            const std::string a = filler.substr(0, size);
            const std::string line = a + space + "b" + space + "rest of it";
            HeaderMatch m;
            ASSERT_TRUE(f.match(line, m)) << size;
            EXPECT_EQ(field(f, m, "A"), a) << static_cast<int>(space) << " " << size;
            EXPECT_EQ(field(f, m, "B"), "b");
            EXPECT_EQ(m.content, "rest of it");
        }
    }
}

TEST(LogFormatTest, OptionalGroupPresentAndAbsent) {
    auto f = LogFormat::compile(R"(<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>)").value();
    using V = std::vector<std::string>;
    EXPECT_EQ(component_pid_content(f, "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass; user unknown", "PID"),
              (V{"sshd(pam_unix)", "19939", "check pass; user unknown"}));
    EXPECT_EQ(component_pid_content(f, "Jun 14 15:16:01 combo kernel: Linux version 2.6.5", "PID"),
              (V{"kernel", "", "Linux version 2.6.5"}));
}

TEST(LogFormatTest, FieldBeforeAnOptionalGroupTakesTheSearchsFirstMatch) {
    // The field before "(\[<Pid>\])?: " ends at the first place where either the group or
    // what follows it fits, whichever comes first, as the backtracking search finds it.
    auto f = LogFormat::compile(R"(<Component>(\[<Pid>\])?: <Content>)").value();
    using V = std::vector<std::string>;
    // ": " before "[": the group is absent.
    EXPECT_EQ(component_pid_content(f, "app: text [x]: more"), (V{"app", "", "text [x]: more"}));
    // A "[" without "]": the group cannot be present.
    EXPECT_EQ(component_pid_content(f, "a[b: c"), (V{"a[b", "", "c"}));
    EXPECT_EQ(component_pid_content(f, "s(x)[7]: [y]: z"), (V{"s(x)", "7", "[y]: z"}));
    HeaderMatch m;
    const std::string far = std::string(3000, 'c') + "[9]: tail";  // far: the search itself
    ASSERT_TRUE(f.match(far, m));
    EXPECT_EQ(field(f, m, "Pid"), "9");
    EXPECT_EQ(m.content, "tail");
    // Further than the search gets within its step budget, the line matches no more than it did.
    EXPECT_FALSE(f.match(std::string(8000, 'c') + "[9]: tail", m));
    // When the group and what follows it start alike, the search tries the group first.
    auto g = LogFormat::compile(R"(<A>(\[<B>\])?\[<C>\]<Content>)").value();
    ASSERT_TRUE(g.match("x[1][2]rest", m));
    EXPECT_EQ((V{field(g, m, "A"), field(g, m, "B"), field(g, m, "C"), std::string(m.content)}),
              (V{"x", "1", "2", "rest"}));
    ASSERT_TRUE(g.match("x[2]rest", m));
    EXPECT_EQ((V{field(g, m, "A"), field(g, m, "B"), field(g, m, "C"), std::string(m.content)}),
              (V{"x", "", "2", "rest"}));
}

TEST(LogFormatTest, SpacesMatchAnyRunOfWhitespaceAndLineIsTrimmed) {
    auto f = LogFormat::compile("<Date> <Time>, <Level>                  <Component>    <Content>").value();
    HeaderMatch m;
    ASSERT_TRUE(f.match("2016-09-28 04:30:30, Info  CBS\tLoaded Servicing Stack\r\n", m));
    EXPECT_EQ(field(f, m, "Level"), "Info");
    EXPECT_EQ(field(f, m, "Component"), "CBS");
    EXPECT_EQ(m.content, "Loaded Servicing Stack");
}

TEST(LogFormatTest, EscapedLiterals) {
    auto f = LogFormat::compile(R"(<Time>\|<Component>\|<Pid>\|<Content>)").value();
    HeaderMatch m;
    ASSERT_TRUE(f.match("20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579", m));
    EXPECT_EQ(field(f, m, "Component"), "Step_LSC");
    EXPECT_EQ(m.content, "onStandStepChanged 3579");
}

TEST(LogFormatTest, NonMatchingLineKeepsWholeLineAsContent) {
    auto f = LogFormat::compile(R"(\[<Time>\] \[<Level>\] <Content>)").value();
    HeaderMatch m;
    EXPECT_FALSE(f.match("no brackets here", m));
    EXPECT_EQ(m.content, "no brackets here");
    EXPECT_FALSE(f.match("", m));
}

TEST(LogFormatTest, FormatWithoutContentMinesWholeLine) {
    auto f = LogFormat::compile("<Client> - <User> <Rest>").value();
    HeaderMatch m;
    ASSERT_TRUE(f.match("10.0.0.1 - bob GET /", m));
    EXPECT_EQ(m.content, "10.0.0.1 - bob GET /");
}

TEST(LogFormatTest, RejectsUnsupportedSyntaxWithOffset) {
    for (const char* bad : {"<Date", "<>", "<A><B>", "<A> .* <B>", "(<A>", "<A> (x) <B>", "<A>|<B>", "\\d<A>",
                            "<A> <A>", "trailing\\"}) {
        auto r = LogFormat::compile(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::Errc::InvalidArgument);
        EXPECT_NE(r.error().detail.find("offset"), std::string::npos) << r.error().detail;
    }
}

TEST(LogFormatTest, AmbiguousHostileLineIsBoundedNotCatastrophic) {
    // Many fields separated by the same literal, and a line that almost matches.
    auto f = LogFormat::compile("<A>:<B>:<C>:<D>:<E>:<F>: <Content>").value();
    std::string line(200'000, ':');
    HeaderMatch m;
    EXPECT_FALSE(f.match(line, m));  // returns (step budget) instead of hanging
    EXPECT_EQ(m.content, line);
}

TEST(LogFormatTest, EveryBuiltinCompilesAndIsFound) {
    ASSERT_GE(builtin_formats().size(), 20u);
    for (const auto& b : builtin_formats()) {
        auto f = LogFormat::compile(b.spec, std::string(b.name));
        EXPECT_TRUE(f) << b.name << ": " << (f ? "" : f.error().detail);
        EXPECT_EQ(find_builtin_format(b.name), &b);
    }
    EXPECT_EQ(find_builtin_format("no-such-format"), nullptr);
}

TEST(LogFormatTest, BuiltinsMatchTheirSystems) {
    struct Case {
        const char* format;
        const char* line;
        const char* content;
    };
    const Case cases[] = {
        {"syslog", "sshd[24200]: Invalid user webmaster from 173.234.31.186", "Invalid user webmaster from 173.234.31.186"},
        {"syslog", "kernel: eth0 link up", "eth0 link up"},
        {"auth", "Dec 10 06:55:46 LabSZ sshd[24200]: Connection closed by 1.2.3.4 [preauth]",
         "Connection closed by 1.2.3.4 [preauth]"},
        {"nginx-error", "2024/01/02 10:00:00 [error] 123#0: *1 open() failed", "*1 open() failed"},
        {"apache-access", "127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /a.gif HTTP/1.0\" 200 2326",
         "\"GET /a.gif HTTP/1.0\" 200 2326"},
        {"zookeeper",
         "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:0:2181:FastLeaderElection@774] - "
         "Notification time out: 3200",
         "Notification time out: 3200"},
        {"android", "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogsopening app wtoken",
         "printFreezingDisplayLogsopening app wtoken"},
        {"spark", "17/06/09 20:10:40 INFO executor.Executor: Running task 0.0 in stage 1.0 (TID 8)",
         "Running task 0.0 in stage 1.0 (TID 8)"},
        {"hpc", "460158 node-246 unix.hw state_change.unavailable 1077804742 1 Component State Change: node down",
         "Component State Change: node down"},
        {"thunderbird",
         "- 1131566461 2005.11.09 dn228 Nov 9 12:01:01 dn228/dn228 crond(pam_unix)[2915]: session closed for user root",
         "session closed for user root"},
        {"openstack",
         "nova-api.log.1 2017-05-16 00:00:00.008 25746 INFO nova.api.server [req-38 a b - - -] 10.1.1.1 \"GET /v2 "
         "HTTP/1.1\" status: 200",
         "10.1.1.1 \"GET /v2 HTTP/1.1\" status: 200"},
        {"mac", "Jul  1 09:00:55 host-10 kernel[0]: IOThunderboltSwitch::listenerCallback - port = 11",
         "IOThunderboltSwitch::listenerCallback - port = 11"},
        {"mac", "Jul  1 09:01:05 host-10 com.apple.xpc.launchd[1] (com.apple.mdworker.bundles[123]): Service exited",
         "Service exited"},
    };
    for (const auto& c : cases) {
        auto f = LogFormat::compile(find_builtin_format(c.format)->spec).value();
        HeaderMatch m;
        EXPECT_TRUE(f.match(c.line, m)) << c.format;
        EXPECT_EQ(m.content, c.content) << c.format;
    }
}

}  // namespace
}  // namespace sai::parser
