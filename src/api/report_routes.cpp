#include "api/report_routes.hpp"

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "json_util.hpp"

#include <charconv>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

bj::object report_to_json(const model::Report& r) {
    boost::system::error_code ec;
    auto filters = bj::parse(r.filters, ec);
    return {{"id", r.id},
            {"type", r.type},
            {"format", r.format},
            {"status", model::to_string(r.status)},
            {"error", r.error.empty() ? bj::value(nullptr) : bj::value(r.error)},
            {"created_by", r.created_by},
            {"created_at", core::format_rfc3339_ms(r.created_at)},
            {"finished_at", r.finished_at ? bj::value(core::format_rfc3339_ms(r.finished_at)) : bj::value(nullptr)},
            {"from", core::format_rfc3339_ms(r.from_ms)},
            {"to", core::format_rfc3339_ms(r.to_ms)},
            {"filters", !ec && filters.is_object() ? filters : bj::object{}},
            {"size_bytes", r.size_bytes},
            {"download_url", "/api/v1/reports/" + r.id}};
}

// Cursor: base64url of "<created_at>:<id>" of the last report of the previous page.
core::Result<std::optional<std::pair<std::int64_t, std::string>>> parse_cursor(const Request& r) {
    auto cursor = r.query_param("cursor");
    if (!cursor || cursor->empty()) return std::optional<std::pair<std::int64_t, std::string>>{};
    auto raw = cursor->size() <= 128 ? core::base64url_decode(*cursor) : std::nullopt;
    const auto colon = raw ? raw->find(':') : std::string::npos;
    std::int64_t at = 0;
    if (colon == std::string::npos ||
        std::from_chars(raw->data(), raw->data() + colon, at).ec != std::errc{} || colon + 1 >= raw->size()) {
        return make_error(Errc::InvalidArgument, "malformed cursor");
    }
    return std::optional(std::pair{at, raw->substr(colon + 1)});
}

Response conflict(const Request& r, const core::Error& error, const model::Report& report) {
    // 409 carries the report's status, so a client polling a download knows whether to wait.
    bj::object body{{"error", bj::object{{"code", "conflict"}, {"message", error.detail}, {"request_id", r.request_id}}},
                    {"status", model::to_string(report.status)},
                    {"report", report_to_json(report)}};
    Response res = json::ok(409, body);
    if (report.status == model::ReportStatus::Queued || report.status == model::ReportStatus::Running) {
        res.set_header("Retry-After", "2");
    }
    return res;
}

}  // namespace

void add_report_routes(Router& router, reports::ReportService& service) {
    router.add(Method::Post, "/api/v1/reports/generate", [&service](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        auto report = service.submit(*body, r.principal ? r.principal->name : "anonymous");
        if (!report) {
            Response res = error_response(r, report.error());
            if (report.error().code == Errc::Unavailable) res.set_header("Retry-After", "10");
            return res;
        }
        Response res = json::ok(202, bj::object{{"id", report->id},
                                                {"status", model::to_string(report->status)},
                                                {"download_url", "/api/v1/reports/" + report->id}});
        res.set_header("Location", "/api/v1/reports/" + report->id);
        return res;
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/reports", [&service](Request& r) {
        storage::ReportQuery q;
        auto limit = json::limit_param(r, 50, 200);
        if (!limit) return error_response(r, limit.error());
        q.limit = *limit;
        auto cursor = parse_cursor(r);
        if (!cursor) return error_response(r, cursor.error());
        q.before = *cursor;
        if (auto type = r.query_param("type")) {
            if (std::find(std::begin(reports::kReportTypes), std::end(reports::kReportTypes), *type) ==
                std::end(reports::kReportTypes)) {
                return error_response(r, make_error(Errc::InvalidArgument, "type must be executive_summary, alerts, "
                                                                           "incident, compliance_audit or ml_performance"));
            }
            q.type = *type;
        }
        if (auto status = r.query_param("status")) {
            q.status = model::parse_report_status(*status);
            if (!q.status) {
                return error_response(r, make_error(Errc::InvalidArgument, "status must be queued, running, ready or failed"));
            }
        }
        if (auto by = r.query_param("created_by")) {
            if (by->empty() || by->size() > 256) {
                return error_response(r, make_error(Errc::InvalidArgument, "created_by must be 1 to 256 bytes"));
            }
            q.created_by = *by;
        }
        auto page = service.list(q);
        if (!page) return error_response(r, page.error());
        bj::array items;
        for (const auto& report : *page) items.push_back(report_to_json(report));
        bj::value next = nullptr;
        if (page->size() == q.limit) {
            next = core::base64url_encode(std::to_string(page->back().created_at) + ":" + page->back().id);
        }
        return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/reports/{id}", [&service](Request& r) {
        const std::string id(r.param("id"));
        auto file = service.download(id);
        if (!file && file.error().code == Errc::Conflict) {
            // The report may have finished between the two reads: then serve it.
            auto report = service.get(id);
            if (report && report->status == model::ReportStatus::Ready) {
                file = service.download(id);
            } else if (report) {
                return conflict(r, file.error(), *report);
            }
        }
        if (!file) {
            return error_response(r, file.error());
        }
        Response res;
        res.content_type = std::string(file->content_type);
        res.body = std::move(file->body);
        res.set_header("Content-Disposition", "attachment; filename=\"" + file->file_name + "\"");
        res.set_header("X-Content-Type-Options", "nosniff");
        // An HTML report is served from this origin: it may not run scripts or load anything.
        res.set_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
        res.set_header("Cache-Control", "private, no-store");
        return res;
    }, {.blocking = true});

    router.add(Method::Delete, "/api/v1/reports/{id}", [&service](Request& r) {
        if (auto done = service.remove(r.param("id")); !done) return error_response(r, done.error());
        return no_content();
    }, {.blocking = true});
}

}  // namespace sai::api
