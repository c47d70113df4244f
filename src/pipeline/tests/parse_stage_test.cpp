#include "pipeline/parse_stage.hpp"

#include "storage/sqlite/sqlite_store.hpp"
#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

namespace sai::pipeline {
namespace {

model::Event line(std::string message) {
    model::Event e;
    e.id = "e" + std::to_string(std::hash<std::string>{}(message));
    e.message = std::move(message);
    return e;
}

class ParseStageTest : public ::testing::Test {
protected:
    void SetUp() override {
        storage::SqliteOptions o;
        o.data_dir = dir_.path();
        o.synchronous = "normal";
        store_ = storage::SqliteStore::open(o).value();
    }
    std::unique_ptr<ParseStage> stage() {
        auto parser = parser::LogParser::create({}).value();
        auto s = ParseStage::create(parser, store_->templates(), {});
        EXPECT_TRUE(s) << s.error().detail;
        return std::move(*s);
    }
    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
};

TEST_F(ParseStageTest, FillsTemplateEntitiesAndEmptyFields) {
    auto s = stage();
    std::vector<model::Event> batch{line("Failed password for root from 203.0.113.9 port 52311 ssh2"),
                                    line("Failed password for admin from 198.51.100.4 port 40022 ssh2")};
    batch[1].user_name = "already-set";
    s->process(batch);
    const auto& a = batch[0];
    EXPECT_FALSE(a.template_id.empty());
    EXPECT_EQ(a.template_id, batch[1].template_id);
    EXPECT_NE(a.log_template.find("Failed password for"), std::string::npos) << a.log_template;
    EXPECT_EQ(a.source_ip, "203.0.113.9");
    EXPECT_EQ(a.user_name, "root");
    EXPECT_EQ(a.outcome, "failure");
    EXPECT_EQ(a.labels.at("log.template_new"), "true");
    EXPECT_FALSE(batch[1].labels.contains("log.template_new"));
    EXPECT_EQ(a.entities.at("ipv4"), std::vector<std::string>{"203.0.113.9"});
    EXPECT_EQ(batch[1].user_name, "already-set");  // never overwritten
    EXPECT_EQ(s->stats().parsed, 2u);
    EXPECT_EQ(s->stats().new_templates, 1u);
}

TEST_F(ParseStageTest, EventsWithoutMessageOrWithATemplateAreLeftAlone) {
    auto s = stage();
    std::vector<model::Event> batch{line(""), line("x y z")};
    batch[1].template_id = "given";
    s->process(batch);
    EXPECT_TRUE(batch[0].template_id.empty());
    EXPECT_EQ(batch[1].template_id, "given");
    EXPECT_EQ(s->stats().parsed, 0u);
}

TEST_F(ParseStageTest, TemplatesSurviveARestartWithTheirIds) {
    std::string id;
    {
        auto s = stage();
        std::vector<model::Event> batch{line("session opened for user alice by (uid=0)"),
                                        line("session opened for user bob by (uid=0)")};
        s->process(batch);
        id = batch[0].template_id;
        ASSERT_TRUE(s->save());
    }
    EXPECT_EQ(store_->templates().load_templates().value().size(), 1u);
    auto s = stage();
    EXPECT_EQ(s->stats().templates, 1u);
    std::vector<model::Event> batch{line("session opened for user carol by (uid=0)")};
    s->process(batch);
    EXPECT_EQ(batch[0].template_id, id);
    EXPECT_FALSE(batch[0].labels.contains("log.template_new"));  // known from before the restart
    ASSERT_TRUE(s->save());
    EXPECT_EQ(store_->templates().load_templates().value().front().count, 3);
}

TEST_F(ParseStageTest, DatasetNamingAFormatSelectsIt) {
    auto s = stage();
    auto e = line("Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186");
    e.dataset = "openssh";
    auto unknown = line("something else entirely 42");
    unknown.dataset = "no-such-format";
    std::vector<model::Event> batch{e, unknown};
    s->process(batch);
    EXPECT_EQ(batch[0].process_name, "sshd");
    EXPECT_EQ(batch[0].process_pid, 24200);
    EXPECT_FALSE(batch[1].template_id.empty());  // the default format took it
}

}  // namespace
}  // namespace sai::pipeline
