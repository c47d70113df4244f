#include "reports/report_builder.hpp"

#include "report_test_util.hpp"
#include "seed.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sai::reports {
namespace {

namespace bj = boost::json;
using namespace sai::reports::testing;

class ReportBuilderTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new testkit::TempDir();
        store_ = open_store(dir_->path() / "data").release();
        seeded_ = seed(*store_);
    }
    static void TearDownTestSuite() {
        delete store_;
        delete dir_;
    }

    ReportSpec spec(std::string type, std::string format) const {
        ReportSpec s{core::new_uuid_v7(), std::move(type), std::move(format), kStart, kEnd, kEnd, {}};
        if (s.type == "incident") s.filters.alert_id = seeded_.incident_id;
        return s;
    }

    std::filesystem::path build(const ReportSpec& s, const ReportHooks& hooks = {}, std::size_t page_size = 500,
                                WriteSummary* summary = nullptr) {
        const auto file = dir_->path() / (s.id + "." + s.format);
        auto built = build_report(s, *store_, hooks, file, {.page_size = page_size});
        EXPECT_TRUE(built) << s.type << "/" << s.format << ": " << built.error().detail;
        if (built && summary) *summary = *built;
        return file;
    }

    bj::object build_json(const ReportSpec& s, const ReportHooks& hooks = {}, std::size_t page_size = 500) {
        return bj::parse(read_file(build(s, hooks, page_size))).as_object();
    }

    // The rows of the JSON table titled `title`.
    static bj::array table(const bj::object& doc, std::string_view title) {
        for (const auto& section : doc.at("sections").as_array()) {
            const auto& o = section.as_object();
            if (o.at("kind") == "table" && o.at("title").as_string() == title) return o.at("rows").as_array();
        }
        ADD_FAILURE() << "no table " << title;
        return {};
    }
    static std::string figure(const bj::object& doc, std::string_view title, std::string_view key) {
        for (const auto& row : table(doc, title)) {
            const auto& r = row.as_object();
            if (r.begin()->value().as_string() == key) return std::string((r.begin() + 1)->value().as_string());
        }
        return "(missing)";
    }
    static std::string text_of(const bj::object& doc) { return bj::serialize(doc); }

    static testkit::TempDir* dir_;
    static storage::SqliteStore* store_;
    static Seeded seeded_;
};

testkit::TempDir* ReportBuilderTest::dir_ = nullptr;
storage::SqliteStore* ReportBuilderTest::store_ = nullptr;
Seeded ReportBuilderTest::seeded_;

TEST_F(ReportBuilderTest, EveryTypeInEveryFormat) {
    const bool can_render = have_pdftoppm();
    for (auto type : kReportTypes) {
        for (auto format : kReportFormats) {
            SCOPED_TRACE(std::string(type) + "/" + std::string(format));
            const auto s = spec(std::string(type), std::string(format));
            WriteSummary summary;
            const auto file = build(s, {}, 500, &summary);
            const std::string content = read_file(file);
            ASSERT_FALSE(content.empty());
            if (format == "pdf") {
                EXPECT_TRUE(content.starts_with("%PDF-"));
                EXPECT_GE(summary.pages, 1);
                if (can_render) {
                    // Every chart has visible data where the layout says it is.
                    for (const auto& box : summary.charts) {
                        const Image page = render_page(file, box.page, 50);
                        ASSERT_GT(page.width, 0);
                        EXPECT_GT(coloured_pixels(page, 50, box.x, box.y, box.width, box.height), 50)
                            << "chart on page " << box.page << " at y " << box.y;
                    }
                }
            } else if (format == "html") {
                EXPECT_TRUE(content.starts_with("<!DOCTYPE html>"));
                EXPECT_NE(content.find("</html>"), std::string::npos);
                EXPECT_EQ(content.find("<script"), std::string::npos);
                EXPECT_EQ(content.find("src=\"http"), std::string::npos) << "no external assets";
                if (type != "incident" && type != "ml_performance") {
                    EXPECT_NE(content.find("<svg"), std::string::npos);
                }
            } else if (format == "json") {
                auto doc = bj::parse(content).as_object();
                EXPECT_EQ(doc.at("report").at("type").as_string(), type);
                EXPECT_FALSE(doc.at("sections").as_array().empty());
            } else {
                auto blocks = parse_csv_blocks(content);
                ASSERT_FALSE(blocks.empty());
                EXPECT_EQ(blocks.front().front(), (CsvRow{"field", "value"}));
                EXPECT_EQ(blocks.front()[3], (CsvRow{"type", std::string(type)}));
            }
        }
    }
}

TEST_F(ReportBuilderTest, ExecutiveSummaryFigures) {
    const auto doc = build_json(spec("executive_summary", "json"));
    EXPECT_EQ(figure(doc, "Key figures", "Alerts"), std::to_string(seeded_.alerts));
    EXPECT_EQ(figure(doc, "Key figures", "Events"), std::to_string(seeded_.events));
    EXPECT_EQ(figure(doc, "Key figures", "Failed authentications"), std::to_string(seeded_.failed_logins));
    // Seeded: acknowledged 10 minutes after creation, resolved 70 minutes after.
    EXPECT_EQ(figure(doc, "Key figures", "Mean time to acknowledge (MTTA)"),
              "10m 0s (" + std::to_string(seeded_.acknowledged) + " alerts)");
    EXPECT_EQ(figure(doc, "Key figures", "Mean time to resolve (MTTR)"),
              "1h 10m (" + std::to_string(seeded_.resolved) + " alerts)");
    const auto tactics = table(doc, "MITRE ATT&CK tactics seen");
    ASSERT_EQ(tactics.size(), 2u);
    EXPECT_EQ(tactics[0].at("alerts").as_int64() + tactics[1].at("alerts").as_int64(), seeded_.alerts);
    const auto hosts = table(doc, "Top risky hosts");
    ASSERT_FALSE(hosts.empty());
    EXPECT_GE(hosts[0].at("total risk").to_number<double>(), hosts.back().at("total risk").to_number<double>());

    // Severity chart sums to the alert count; the trend covers every alert too.
    double severity_sum = 0, trend_sum = 0;
    for (const auto& section : doc.at("sections").as_array()) {
        const auto& o = section.as_object();
        if (o.at("kind") != "chart") continue;
        double sum = 0;
        for (const auto& p : o.at("points").as_array()) sum += p.at("value").to_number<double>();
        if (o.at("title") == "Alerts by severity") severity_sum = sum;
        if (o.at("title") == "Alerts over time") trend_sum = sum;
    }
    EXPECT_EQ(severity_sum, seeded_.alerts);
    EXPECT_EQ(trend_sum, seeded_.alerts);
}

TEST_F(ReportBuilderTest, SmallPagesGiveTheSameReport) {
    // Streaming page by page must neither lose nor repeat rows.
    const auto s = spec("alerts", "json");
    const auto big = table(build_json(s, {}, 1000), "Alerts");
    const auto small = table(build_json(s, {}, 7), "Alerts");
    EXPECT_EQ(big.size(), static_cast<std::size_t>(seeded_.alerts));
    EXPECT_EQ(big, small);
    const auto exec_big = build_json(spec("executive_summary", "json"), {}, 1000);
    const auto exec_small = build_json(spec("executive_summary", "json"), {}, 3);
    EXPECT_EQ(exec_big.at("sections"), exec_small.at("sections"));
    const auto audit_big = table(build_json(spec("compliance_audit", "json"), {}, 1000), "Audit entries (newest first)");
    const auto audit_small = table(build_json(spec("compliance_audit", "json"), {}, 4), "Audit entries (newest first)");
    EXPECT_EQ(audit_big.size(), static_cast<std::size_t>(seeded_.audit));
    EXPECT_EQ(audit_big, audit_small);
    const auto ml_big = build_json(spec("ml_performance", "json"), {}, 1000);
    const auto ml_small = build_json(spec("ml_performance", "json"), {}, 1);
    EXPECT_EQ(figure(ml_small, "Training labels from analyst verdicts in this range", "malicious"), "8");
    EXPECT_EQ(ml_big.at("sections"), ml_small.at("sections"));
}

TEST_F(ReportBuilderTest, AlertsCsvHasTheAlertColumns) {
    const auto blocks = parse_csv_blocks(read_file(build(spec("alerts", "csv"))));
    const CsvRow header{"id",      "first_seen", "last_seen", "title",   "severity", "status",   "risk",   "count",
                        "rule_id", "hosts",      "users",     "ips",     "tactics",  "assignee", "verdict"};
    const auto alerts = find_block(blocks, header);
    ASSERT_EQ(alerts.size(), static_cast<std::size_t>(seeded_.alerts) + 1);
    for (const auto& row : alerts) EXPECT_EQ(row.size(), header.size());
    EXPECT_EQ(alerts[1][3], "Brute force against host-0, \"quoted\" <b>bold</b>");  // quoting survives
    std::size_t resolved = 0;
    for (const auto& row : alerts) resolved += row[5] == "resolved" && row[14] == "contained";
    EXPECT_EQ(resolved, static_cast<std::size_t>(seeded_.resolved));
    const auto by_severity = find_block(blocks, {"severity", "alerts"});
    EXPECT_EQ(by_severity.size(), 6u);
}

TEST_F(ReportBuilderTest, IncidentReport) {
    const auto doc = build_json(spec("incident", "json"));
    EXPECT_EQ(figure(doc, "Alert", "id"), seeded_.incident_id);
    EXPECT_EQ(figure(doc, "Alert", "time to acknowledge"), "10m 0s");
    const auto timeline = table(doc, "Timeline");
    ASSERT_EQ(timeline.size(), 4u);  // created, acknowledged, resolved, remediation (as stored)
    EXPECT_EQ(timeline[0].at("action"), "created");
    const auto actions = table(doc, "Actions taken");
    ASSERT_EQ(actions.size(), 1u);
    EXPECT_EQ(actions[0].at("comment"), "block_ip 203.0.113.0 for 60 minutes");
    const auto evidence = table(doc, "Evidence events");
    ASSERT_EQ(evidence.size(), 2u);
    EXPECT_EQ(evidence[0].at("message").as_string(), "event number " + std::to_string(seeded_.events - 1));  // the newest
    EXPECT_NE(std::string(evidence[1].at("message").as_string()).find("no longer stored"), std::string::npos);
    EXPECT_EQ(table(doc, "Entities").size(), 3u);

    auto missing = spec("incident", "json");
    missing.filters.alert_id = core::new_uuid_v7();
    auto built = build_report(missing, *store_, {}, dir_->path() / "missing.json");
    ASSERT_FALSE(built);
    EXPECT_EQ(built.error().code, core::Errc::NotFound);
}

TEST_F(ReportBuilderTest, ComplianceReportsTheChainAndRetention) {
    ReportHooks hooks;
    hooks.retention_settings = {{"pipeline.retention_days (events)", "90 days"}};
    auto doc = build_json(spec("compliance_audit", "json"), hooks);
    EXPECT_NE(figure(doc, "Audit log hash-chain verification (whole log)", "Result").find("not verified"),
              std::string::npos);
    EXPECT_EQ(figure(doc, "Retention settings", "pipeline.retention_days (events)"), "90 days");
    EXPECT_EQ(figure(doc, "Summary", "Denied"), "3");

    hooks.verify_audit_chain = [] { return core::Result<AuditChainStatus>(AuditChainStatus{false, 30, 17, "hash mismatch"}); };
    doc = build_json(spec("compliance_audit", "json"), hooks);
    EXPECT_NE(figure(doc, "Audit log hash-chain verification (whole log)", "Result").find("BROKEN"), std::string::npos);
    EXPECT_EQ(figure(doc, "Audit log hash-chain verification (whole log)", "First broken entry"), "17");

    auto only_admin = spec("compliance_audit", "json");
    only_admin.filters.actor = "user:admin";
    EXPECT_EQ(table(build_json(only_admin, hooks), "Audit entries (newest first)").size(), 10u);
}

TEST_F(ReportBuilderTest, MlReportWithoutAndWithARegistry) {
    auto doc = build_json(spec("ml_performance", "json"));
    EXPECT_NE(text_of(doc).find("No model is registered"), std::string::npos);
    EXPECT_TRUE(table(doc, "Model versions").empty());

    ReportHooks hooks;
    hooks.ml_snapshot = [](std::int64_t, std::int64_t) {
        MlSnapshot s;
        s.versions.push_back({"threat_classifier", "v3", "active", kStart, {{"precision", 0.91}, {"f1", 0.88}}, 0.04});
        s.versions.push_back({"threat_classifier", "v2", "retired", kStart - kDay, {{"f1", 0.81}}, std::nullopt});
        return core::Result<MlSnapshot>(s);
    };
    doc = build_json(spec("ml_performance", "json"), hooks);
    EXPECT_EQ(text_of(doc).find("No model is registered"), std::string::npos);
    const auto versions = table(doc, "Model versions");
    ASSERT_EQ(versions.size(), 2u);
    EXPECT_EQ(versions[0].at("drift").to_number<double>(), 0.04);
    EXPECT_NE(text_of(doc).find("F1 score by model version"), std::string::npos);
}

TEST_F(ReportBuilderTest, EmptyRangeStillMakesADocument) {
    auto s = spec("executive_summary", "pdf");
    s.from_ms = kEnd + 10 * kDay;
    s.to_ms = kEnd + 11 * kDay;
    WriteSummary summary;
    const auto content = read_file(build(s, {}, 500, &summary));
    EXPECT_TRUE(content.starts_with("%PDF-"));
    if (have_pdftoppm()) {
        // No data: the chart areas hold axes and a note, nothing coloured.
        const auto& box = summary.charts.at(0);
        EXPECT_EQ(coloured_pixels(render_page(dir_->path() / (s.id + ".pdf"), box.page, 50), 50, box.x, box.y,
                                  box.width, box.height),
                  0);
    }
    s.to_ms = s.from_ms;
    EXPECT_FALSE(build_report(s, *store_, {}, dir_->path() / "reversed.pdf"));
}

}  // namespace
}  // namespace sai::reports
