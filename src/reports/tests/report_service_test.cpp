#include "reports/report_service.hpp"

#include "report_test_util.hpp"
#include "seed.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <atomic>

namespace sai::reports {
namespace {

namespace bj = boost::json;
using namespace sai::reports::testing;

bj::object body(std::string_view json) { return bj::parse(json).as_object(); }

TEST(ReportRequestTest, ValidatesTypeFormatRangeAndFilters) {
    const std::int64_t now = kEnd;
    auto ok = parse_report_request(body(R"({"type": "alerts", "format": "csv", "from": "2026-11-01T00:00:00Z",
                                            "to": "2026-11-02T00:00:00Z", "filters": {"severity_min": "high"}})"),
                                   now + 400 * kDay);
    ASSERT_TRUE(ok) << ok.error().detail;
    EXPECT_EQ(ok->format, "csv");
    EXPECT_EQ(ok->to_ms - ok->from_ms, kDay);
    EXPECT_EQ(ok->filters.severity_min, model::Severity::High);

    auto defaults = parse_report_request(body(R"({"type": "executive_summary"})"), now);
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->format, "pdf");
    EXPECT_EQ(defaults->to_ms, now);
    EXPECT_EQ(defaults->from_ms, now - 7 * kDay);

    auto unknown_type = parse_report_request(body(R"({"type": "weekly"})"), now);
    ASSERT_FALSE(unknown_type);
    EXPECT_EQ(unknown_type.error().code, core::Errc::Unprocessable);
    EXPECT_NE(unknown_type.error().detail.find("executive_summary, alerts, incident, compliance_audit, ml_performance"),
              std::string::npos);
    auto unknown_format = parse_report_request(body(R"({"type": "alerts", "format": "docx"})"), now);
    ASSERT_FALSE(unknown_format);
    EXPECT_EQ(unknown_format.error().code, core::Errc::Unprocessable);
    EXPECT_NE(unknown_format.error().detail.find("pdf, html, csv, json"), std::string::npos);

    for (const char* bad : {
             R"({})",
             R"({"type": "alerts", "from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"})",
             R"({"type": "alerts", "from": "2026-11-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"})",
             R"({"type": "alerts", "from": "yesterday"})",
             R"({"type": "alerts", "from": "1900-01-01T00:00:00Z", "to": "1950-01-01T00:00:00Z"})",
             R"({"type": "alerts", "from": "1970-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"})",
             R"({"type": "alerts", "to": "2099-01-01T00:00:00Z"})",
             R"({"type": "alerts", "filters": {"colour": "red"}})",
             R"({"type": "alerts", "filters": {"severity_min": "extreme"}})",
             R"({"type": "alerts", "filters": {"statuses": ["open"]}})",
             R"({"type": "alerts", "filters": []})",
             R"({"type": "alerts", "pages": 3})",
             R"({"type": "incident"})",
             R"({"type": "incident", "filters": {"alert_id": "../../etc/passwd"}})",
         }) {
        auto r = parse_report_request(body(bad), now + 400 * kDay);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, core::Errc::InvalidArgument) << bad << ": " << r.error().detail;
    }
}

class ReportServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        store_ = open_store(dir_.path() / "data");
        seeded_ = seed(*store_, 12, 500);
    }

    std::unique_ptr<ReportService> make(ReportServiceOptions options = {}) {
        options.directory = dir_.path() / "reports";
        return std::make_unique<ReportService>(*store_, options, ReportHooks{}, [this] { return now_.load(); });
    }

    testkit::TempDir dir_;
    std::unique_ptr<storage::SqliteStore> store_;
    Seeded seeded_;
    std::atomic<std::int64_t> now_{kEnd + kHour};
};

TEST_F(ReportServiceTest, GeneratesListsDownloadsAndDeletes) {
    auto service = make();
    ASSERT_TRUE(service->start());
    std::vector<std::string> ids;
    for (auto format : kReportFormats) {
        auto r = service->submit(body(R"({"type": "executive_summary", "format": ")" + std::string(format) +
                                      R"(", "from": "2026-11-18T00:00:00Z"})"),
                                 "alice");
        ASSERT_TRUE(r) << r.error().detail;
        EXPECT_EQ(r->created_by, "alice");
        ids.push_back(r->id);
    }
    service->wait_idle();
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto got = service->get(ids[i]);
        ASSERT_TRUE(got);
        EXPECT_EQ(got->status, model::ReportStatus::Ready) << got->error;
        auto file = service->download(ids[i]);
        ASSERT_TRUE(file) << file.error().detail;
        EXPECT_EQ(file->content_type, content_type(kReportFormats[i]));
        EXPECT_EQ(static_cast<std::int64_t>(file->body.size()), got->size_bytes);
        EXPECT_TRUE(file->file_name.starts_with("securityai-executive-summary-"));
        EXPECT_TRUE(file->file_name.ends_with("." + std::string(kReportFormats[i])));
    }
    EXPECT_TRUE(service->download(ids[0])->body.starts_with("%PDF-"));

    auto page = service->list({.limit = 3});
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 3u);
    EXPECT_EQ(page->front().id, ids.back());  // newest first
    auto rest = service->list({.before = std::pair{page->back().created_at, page->back().id}, .limit = 3});
    ASSERT_TRUE(rest);
    ASSERT_EQ(rest->size(), 1u);
    EXPECT_EQ(rest->front().id, ids.front());

    const auto file = dir_.path() / "reports" / (ids[0] + ".pdf");
    EXPECT_TRUE(std::filesystem::exists(file));
    ASSERT_TRUE(service->remove(ids[0]));
    EXPECT_FALSE(std::filesystem::exists(file));
    EXPECT_EQ(service->get(ids[0]).error().code, core::Errc::NotFound);
    EXPECT_EQ(service->remove(ids[0]).error().code, core::Errc::NotFound);
}

TEST_F(ReportServiceTest, IdsAreCheckedBeforeTheFilesystem) {
    auto service = make();
    ASSERT_TRUE(service->start());
    std::ofstream(dir_.path() / "secret.txt") << "not a report";
    for (const char* id : {"../secret.txt", "..%2Fsecret.txt", "/etc/passwd", "", "0190a3c4-8b7e-7d2f-9e1a"}) {
        EXPECT_EQ(service->download(id).error().code, core::Errc::InvalidArgument) << id;
        EXPECT_EQ(service->remove(id).error().code, core::Errc::InvalidArgument) << id;
    }
    EXPECT_EQ(service->download(core::new_uuid_v7()).error().code, core::Errc::NotFound);
}

TEST_F(ReportServiceTest, IncidentNeedsAnExistingAlert) {
    auto service = make();
    ASSERT_TRUE(service->start());
    auto missing = service->submit(
        body(R"({"type": "incident", "filters": {"alert_id": ")" + core::new_uuid_v7() + R"("}})"), "alice");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().code, core::Errc::NotFound);
    auto ok = service->submit(
        body(R"({"type": "incident", "format": "html", "filters": {"alert_id": ")" + seeded_.incident_id + R"("}})"),
        "alice");
    ASSERT_TRUE(ok) << ok.error().detail;
    service->wait_idle();
    auto file = service->download(ok->id);
    ASSERT_TRUE(file);
    EXPECT_NE(file->body.find(seeded_.incident_id), std::string::npos);
}

TEST_F(ReportServiceTest, QueueIsBounded) {
    auto service = make({.queue_capacity = 2});  // not started: nothing drains the queue
    EXPECT_TRUE(service->submit(body(R"({"type": "alerts"})"), "a"));
    EXPECT_TRUE(service->submit(body(R"({"type": "alerts"})"), "a"));
    auto third = service->submit(body(R"({"type": "alerts"})"), "a");
    ASSERT_FALSE(third);
    EXPECT_EQ(third.error().code, core::Errc::Unavailable);
    auto queued = service->list({});
    ASSERT_EQ(queued->size(), 2u);
    auto early = service->download(queued->front().id);
    ASSERT_FALSE(early);
    EXPECT_EQ(early.error().code, core::Errc::Conflict);
    EXPECT_NE(early.error().detail.find("queued"), std::string::npos);
    // Started, the worker builds what was waiting.
    ASSERT_TRUE(service->start());
    service->wait_idle();
    EXPECT_EQ(service->get(queued->front().id)->status, model::ReportStatus::Ready);
}

TEST_F(ReportServiceTest, InterruptedReportsAreRebuiltOrFailedAtStart) {
    model::Report queued{core::new_uuid_v7(), "alerts", "json", model::ReportStatus::Running, "", "bob",
                         kEnd, 0, kStart, kEnd, R"({"severity_min":"critical"})", 0};
    model::Report broken{core::new_uuid_v7(), "alerts", "json", model::ReportStatus::Queued, "", "bob",
                         kEnd, 0, kStart, kEnd, R"({"colour":"red"})", 0};
    ASSERT_TRUE(store_->reports().insert(queued));
    ASSERT_TRUE(store_->reports().insert(broken));
    auto service = make();
    ASSERT_TRUE(service->start());
    service->wait_idle();
    EXPECT_EQ(service->get(queued.id)->status, model::ReportStatus::Ready);
    auto rebuilt = bj::parse(service->download(queued.id)->body).as_object();
    for (const auto& section : rebuilt.at("sections").as_array()) {
        if (section.at("kind") == "table" && section.at("title") == "Alerts") {
            for (const auto& row : section.at("rows").as_array()) EXPECT_EQ(row.at("severity"), "critical");
        }
    }
    auto failed = service->download(broken.id);
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, core::Errc::Conflict);
    EXPECT_NE(failed.error().detail.find("interrupted by a restart"), std::string::npos);
}

TEST_F(ReportServiceTest, RetentionDeletesOldReportsAndTheirFiles) {
    auto service = make({.retention_days = 30});
    ASSERT_TRUE(service->start());
    auto old = service->submit(body(R"({"type": "alerts", "format": "csv"})"), "alice");
    ASSERT_TRUE(old);
    service->wait_idle();
    now_ += 20 * kDay;
    auto recent = service->submit(body(R"({"type": "alerts", "format": "csv"})"), "alice");
    ASSERT_TRUE(recent);
    service->wait_idle();
    EXPECT_EQ(service->purge_expired().value(), 0u);
    now_ += 11 * kDay;
    EXPECT_EQ(service->purge_expired().value(), 1u);
    EXPECT_EQ(service->get(old->id).error().code, core::Errc::NotFound);
    EXPECT_FALSE(std::filesystem::exists(dir_.path() / "reports" / (old->id + ".csv")));
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / "reports" / (recent->id + ".csv")));
}

}  // namespace
}  // namespace sai::reports
