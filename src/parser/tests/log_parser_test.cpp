#include "parser/log_parser.hpp"

#include <gtest/gtest.h>

namespace sai::parser {
namespace {

TEST(ParserConfigTest, ReadsParserTableAndFormats) {
    auto c = ParserConfig::from_toml(R"toml(
[http]
port = 8000

[parser]
similarity = 0.6
depth = 5
max_children = 50
max_templates = 1000
settled_after = 0
masks = ["@uuid"]
entities = false

[[parser.formats]]
name = "myapp"
format = "<Date> <Time> <Level> <Content>"
masks = ['req-[0-9a-f]+']
similarity = 0.8

[[parser.formats]]
name = "hdfs"
masks = ['blk_-?\d+']
)toml");
    ASSERT_TRUE(c) << c.error().detail;
    EXPECT_DOUBLE_EQ(c->defaults.similarity, 0.6);
    EXPECT_EQ(c->defaults.depth, 5u);
    EXPECT_EQ(c->defaults.max_children, 50u);
    EXPECT_EQ(c->defaults.settled_after, 0u);
    EXPECT_EQ(c->limits.max_templates, 1000u);
    EXPECT_FALSE(c->entities);
    ASSERT_EQ(c->formats.size(), 2u);
    EXPECT_EQ(c->formats[0].name, "myapp");
    EXPECT_DOUBLE_EQ(c->formats[0].options.similarity, 0.8);
    EXPECT_EQ(c->formats[0].options.depth, 5u) << "inherits [parser]";
    EXPECT_EQ(c->formats[0].options.masks, (std::vector<std::string>{"@uuid", "req-[0-9a-f]+"}));
    EXPECT_EQ(c->formats[1].spec, find_builtin_format("hdfs")->spec);
}

TEST(ParserConfigTest, NoParserTableGivesDefaults) {
    auto c = ParserConfig::from_toml("[http]\nport = 1\n");
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->formats.empty());
    EXPECT_TRUE(c->entities);
}

TEST(ParserConfigTest, BadConfigurationsAreLocatedErrors) {
    const std::pair<const char*, const char*> cases[] = {
        {"[parser]\nsimilarity = 'high'\n", "parser.similarity"},
        {"[parser]\nsimilarty = 0.5\n", "parser.similarty"},
        {"[parser]\nmasks = [1]\n", "parser.masks"},
        {"[[parser.formats]]\nformat = '<Content>'\n", "parser.formats[0].name"},
        {"[[parser.formats]]\nname = 'x'\n", "parser.formats[0].format"},
        {"[[parser.formats]]\nname = 'x'\nformat = '<A> .* <B>'\n", "parser.formats[0].format"},
        {"[parser\n", "config:"},
        {"parser = 3\n", "parser"},
    };
    for (const auto& [text, where] : cases) {
        auto c = ParserConfig::from_toml(text);
        ASSERT_FALSE(c) << text;
        EXPECT_EQ(c.error().code, core::Errc::InvalidArgument);
        EXPECT_NE(c.error().detail.find(where), std::string::npos) << c.error().detail;
    }
    EXPECT_EQ(ParserConfig::load_file("/nonexistent/parser.toml").error().code, core::Errc::NotFound);
}

TEST(LogParserTest, ParsesBuiltinConfiguredAndAdHocFormats) {
    auto config = ParserConfig::from_toml(R"toml(
[[parser.formats]]
name = "myapp"
format = '<Date> <Time> <Level> <Content>'
masks = ['req-[0-9a-f]+']
)toml")
                      .value();
    auto parser = LogParser::create(config).value();
    ParsedLine p;

    ASSERT_TRUE(parser->parse("openssh",
                              "Dec 10 06:55:46 LabSZ sshd[24200]: Failed password for root from 1.2.3.4 port 22 ssh2",
                              5, p));
    EXPECT_TRUE(p.header_matched);
    EXPECT_EQ(p.match.content, "Failed password for root from 1.2.3.4 port 22 ssh2");
    EXPECT_EQ(p.tmpl.template_text, "Failed password for root from <*> port <*> ssh2");
    EXPECT_TRUE(p.tmpl.is_new);
    EXPECT_EQ(p.entities.outcome, "failure");
    EXPECT_EQ(p.entities.first(EntityType::User)->value, "root");
    EXPECT_EQ(p.entities.first(EntityType::Pid)->value, "24200");

    ASSERT_TRUE(parser->parse("myapp", "2024-01-01 10:00:00 INFO handled req-9f3a in 3 ms", 5, p));
    EXPECT_EQ(p.tmpl.template_text, "handled <*> in <*> ms");

    ASSERT_TRUE(parser->parse("<Level>: <Content>", "WARN: disk 93% full", 5, p));
    EXPECT_EQ(p.header->fields().front(), "Level");
    EXPECT_EQ(p.tmpl.template_text, "disk <*> full");

    ASSERT_TRUE(parser->parse("hdfs", "not an hdfs line", 5, p));
    EXPECT_FALSE(p.header_matched);
    EXPECT_EQ(p.tmpl.template_text, "not an hdfs line");

    EXPECT_EQ(parser->parse("nosuch", "x", 5, p).error().code, core::Errc::NotFound);
    EXPECT_EQ(parser->parse("<A> (", "x", 5, p).error().code, core::Errc::InvalidArgument);
}

TEST(LogParserTest, AppliesResultsToAnEventWithoutOverwriting) {
    auto parser = LogParser::create({}).value();
    ParsedLine p;
    ASSERT_TRUE(parser->parse("syslog", "sshd[811]: Accepted password for alice from 10.1.2.3 port 5022 ssh2", 9, p));
    model::Event e;
    apply_to_event(p, e);
    EXPECT_EQ(e.template_id, p.tmpl.template_id);
    EXPECT_EQ(e.log_template, "Accepted password for alice from <*> port <*> ssh2");
    EXPECT_EQ(e.labels["log.template_new"], "true");
    EXPECT_EQ(e.source_ip, "10.1.2.3");
    EXPECT_EQ(e.user_name, "alice");
    EXPECT_EQ(e.outcome, "success");
    EXPECT_EQ(e.process_name, "sshd");
    EXPECT_EQ(e.process_pid, 811);
    EXPECT_EQ(e.category, "authentication");

    model::Event given;
    given.user_name = "bob";
    given.source_ip = "192.0.2.1";
    given.category = "network";
    ASSERT_TRUE(parser->parse("syslog", "sshd[811]: Accepted password for carol from 10.1.2.4 port 5022 ssh2", 9, p));
    apply_to_event(p, given);
    EXPECT_EQ(given.user_name, "bob");
    EXPECT_EQ(given.source_ip, "192.0.2.1");
    EXPECT_EQ(given.labels.count("log.template_new"), 0u) << "second line of a known template";
    EXPECT_EQ(given.category, "network") << "a category the event brought is kept";
}

TEST(LogParserTest, LoginsThatSucceedOrFailAreAuthenticationEvents) {
    auto parser = LogParser::create({}).value();
    ParsedLine p;
    const auto category_of = [&](std::string_view line) {
        EXPECT_TRUE(parser->parse("syslog", line, 9, p));
        model::Event e;
        apply_to_event(p, e);
        return e.category;
    };
    EXPECT_EQ(category_of("sshd[1]: Failed password for invalid user oracle from 198.51.100.7 port 4242 ssh2"),
              "authentication");
    EXPECT_EQ(category_of("sshd[1]: Accepted publickey for deploy from 10.0.2.12 port 36538 ssh2"), "authentication");
    EXPECT_EQ(category_of("sudo: pam_unix(sudo:auth): authentication failure; logname=alice uid=1000 user=root"),
              "authentication");
    EXPECT_EQ(category_of("sudo:  alice : 3 incorrect password attempts ; TTY=pts/0 ; USER=root ; COMMAND=/bin/sh"),
              "authentication");
    EXPECT_EQ(category_of("sshd[1]: Received disconnect from 10.0.0.1 port 22:11: bye"), "") << "no login";
    EXPECT_EQ(category_of("kernel: disk sda failed"), "") << "a failure, but not of a login";
    EXPECT_EQ(category_of("passwd[1]: password changed for alice"), "") << "no outcome";
}

}  // namespace
}  // namespace sai::parser
