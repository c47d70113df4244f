#include "reports/report_service.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/periodic.hpp"
#include "core/time.hpp"
#include "format_util.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

namespace sai::reports {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

std::string allowed_list(std::span<const std::string_view> values) {
    std::string out;
    for (auto v : values) out += (out.empty() ? "" : ", ") + std::string(v);
    return out;
}

core::Result<std::optional<std::int64_t>> time_field(const bj::object& body, std::string_view name) {
    auto it = body.find(name);
    if (it == body.end() || it->value().is_null()) return std::optional<std::int64_t>{};
    const auto* text = it->value().if_string();
    auto t = text && text->size() <= 64 ? core::parse_rfc3339_ms(*text) : std::nullopt;
    if (!t) {
        return make_error(Errc::InvalidArgument,
                          std::string(name) + " must be an RFC 3339 time such as 2026-11-01T00:00:00Z");
    }
    return std::optional<std::int64_t>(*t);
}

core::Result<std::string> choice(const bj::object& body, std::string_view name,
                                 std::span<const std::string_view> allowed, std::string_view fallback) {
    auto it = body.find(name);
    if (it == body.end() || it->value().is_null()) {
        if (fallback.empty()) {
            return make_error(Errc::InvalidArgument, std::string(name) + " is required; one of " + allowed_list(allowed));
        }
        return std::string(fallback);
    }
    const auto* text = it->value().if_string();
    if (text && std::find(allowed.begin(), allowed.end(), std::string_view(*text)) != allowed.end()) {
        return std::string(*text);
    }
    return make_error(Errc::Unprocessable, std::string(name) + " must be one of " + allowed_list(allowed));
}

std::filesystem::path file_of(const std::filesystem::path& dir, const model::Report& r) {
    return dir / (r.id + "." + std::string(file_extension(r.format)));
}

}  // namespace

core::Result<ReportSpec> parse_report_request(const bj::object& body, std::int64_t now_ms) {
    for (const auto& [key, value] : body) {
        if (key != "type" && key != "format" && key != "from" && key != "to" && key != "filters") {
            return make_error(Errc::InvalidArgument,
                              "unknown field '" + std::string(key) + "'; allowed: type, format, from, to, filters");
        }
    }
    ReportSpec spec;
    auto type = choice(body, "type", kReportTypes, "");
    if (!type) return type.error();
    auto format = choice(body, "format", kReportFormats, "pdf");
    if (!format) return format.error();
    spec.type = std::move(*type);
    spec.format = std::move(*format);
    auto from = time_field(body, "from");
    if (!from) return from.error();
    auto to = time_field(body, "to");
    if (!to) return to.error();
    spec.to_ms = to->value_or(now_ms);
    spec.from_ms = from->value_or(spec.to_ms - 7 * kDayMs);
    if (spec.from_ms >= spec.to_ms) return make_error(Errc::InvalidArgument, "from must be before to");
    if (spec.to_ms > now_ms + kDayMs) return make_error(Errc::InvalidArgument, "to is more than a day in the future");
    if (spec.from_ms < 0) return make_error(Errc::InvalidArgument, "from is before 1970");
    if (spec.to_ms - spec.from_ms > kMaxRangeDays * kDayMs) {
        return make_error(Errc::InvalidArgument, "the range is longer than " + std::to_string(kMaxRangeDays) + " days");
    }
    if (auto it = body.find("filters"); it != body.end() && !it->value().is_null()) {
        if (!it->value().is_object()) return make_error(Errc::InvalidArgument, "filters must be an object");
        auto filters = ReportFilters::from_json(it->value().get_object());
        if (!filters) return filters.error();
        spec.filters = std::move(*filters);
    }
    if (spec.type == "incident" && !spec.filters.alert_id) {
        return make_error(Errc::InvalidArgument, "an incident report needs filters.alert_id");
    }
    spec.generated_at = now_ms;
    return spec;
}

struct ReportService::Impl {
    storage::Store& store;
    ReportServiceOptions options;
    ReportHooks hooks;
    Clock clock;

    std::mutex mutex;
    std::condition_variable wake;
    std::condition_variable idle;
    std::deque<ReportSpec> queue;
    std::string building;  // id of the report being built
    bool stopping = false;
    std::thread worker;
    std::unique_ptr<core::Periodic> retention;

    Impl(storage::Store& s, ReportServiceOptions o, ReportHooks h, Clock c)
        : store(s), options(std::move(o)), hooks(std::move(h)), clock(std::move(c)) {
        if (!clock) clock = [] { return core::now_unix_ms(); };
    }

    void run() {
        for (;;) {
            ReportSpec spec;
            {
                std::unique_lock lock(mutex);
                wake.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) break;
                spec = std::move(queue.front());
                queue.pop_front();
                building = spec.id;
            }
            build(spec);
            {
                std::lock_guard lock(mutex);
                building.clear();
            }
            idle.notify_all();
        }
        idle.notify_all();
    }

    void build(const ReportSpec& spec) {
        auto record = store.reports().get(spec.id);
        if (!record) return;  // deleted while queued
        record->status = model::ReportStatus::Running;
        if (auto r = store.reports().update(*record); !r) {
            core::log::warn("report status update failed", {{"report", spec.id}, {"error", r.error().detail}});
        }
        const auto final_file = file_of(options.directory, *record);
        const auto temp_file = final_file.string() + ".tmp";
        const auto started = std::chrono::steady_clock::now();
        core::Result<WriteSummary> built = make_error(Errc::Internal, "internal error while building the report");
        // The worker's error boundary: one report fails, the service carries on.
        try {
            built = build_report(spec, store, hooks, temp_file, {.page_size = options.page_size});
        } catch (const std::exception& e) {
            core::log::error("report build threw", {{"report", spec.id}, {"error", e.what()}});
        }
        std::error_code ec;
        if (built) {
            std::filesystem::rename(temp_file, final_file, ec);
            if (ec) built = make_error(Errc::Unavailable, "could not store the report file: " + ec.message());
        }
        if (!built) std::filesystem::remove(temp_file, ec);
        record->finished_at = clock();
        if (built) {
            record->status = model::ReportStatus::Ready;
            record->size_bytes = static_cast<std::int64_t>(std::filesystem::file_size(final_file, ec));
        } else {
            record->status = model::ReportStatus::Failed;
            record->error = built.error().code == Errc::NotFound ? "the alert no longer exists: " + built.error().detail
                                                                 : built.error().detail;
        }
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        core::log::info("report built", {{"report", spec.id}, {"type", spec.type}, {"format", spec.format},
                                         {"status", model::to_string(record->status)}, {"ms", ms.count()},
                                         {"bytes", record->size_bytes}});
        if (auto r = store.reports().update(*record); !r) {
            // The report may have been deleted meanwhile: then its file goes too.
            if (r.error().code == Errc::NotFound) std::filesystem::remove(final_file, ec);
        }
    }

    core::Result<void> enqueue(ReportSpec spec) {
        {
            std::lock_guard lock(mutex);
            if (queue.size() >= options.queue_capacity) {
                return make_error(Errc::Unavailable, "too many reports are waiting to be built; try again later");
            }
            queue.push_back(std::move(spec));
        }
        wake.notify_one();
        return {};
    }
};

ReportService::ReportService(storage::Store& store, ReportServiceOptions options, ReportHooks hooks, Clock clock)
    : impl_(std::make_unique<Impl>(store, std::move(options), std::move(hooks), std::move(clock))) {}

ReportService::~ReportService() { stop(); }

core::Result<void> ReportService::start() {
    std::error_code ec;
    std::filesystem::create_directories(impl_->options.directory, ec);
    if (ec) {
        return make_error(Errc::Unavailable,
                          "cannot create the reports directory " + impl_->options.directory.string() + ": " + ec.message());
    }
    for (const auto& entry : std::filesystem::directory_iterator(impl_->options.directory, ec)) {
        if (entry.path().extension() == ".tmp") std::filesystem::remove(entry.path(), ec);
    }
    auto unfinished = impl_->store.reports().unfinished();
    if (!unfinished) return unfinished.error();
    for (auto& r : *unfinished) {
        ReportSpec spec{r.id, r.type, r.format, r.from_ms, r.to_ms, r.created_at, {}};
        boost::system::error_code parse_ec;
        auto filters = bj::parse(r.filters, parse_ec);
        auto parsed = !parse_ec && filters.is_object() ? ReportFilters::from_json(filters.get_object())
                                                       : core::Result<ReportFilters>(make_error(Errc::Internal, "filters"));
        if (parsed && impl_->queue.size() < impl_->options.queue_capacity) {
            spec.filters = std::move(*parsed);
            r.status = model::ReportStatus::Queued;
            impl_->queue.push_back(std::move(spec));
        } else {
            r.status = model::ReportStatus::Failed;
            r.error = "interrupted by a restart";
            r.finished_at = impl_->clock();
        }
        if (auto u = impl_->store.reports().update(r); !u) return u.error();
    }
    if (auto purged = purge_expired(); !purged) {
        core::log::warn("report retention failed", {{"error", purged.error().detail}});
    }
    impl_->stopping = false;
    impl_->worker = std::thread([impl = impl_.get()] { impl->run(); });
    if (impl_->options.retention_days > 0) {
        impl_->retention = std::make_unique<core::Periodic>(impl_->options.retention_interval, [this] {
            if (auto r = purge_expired(); !r) {
                core::log::warn("report retention failed", {{"error", r.error().detail}});
            }
        });
    }
    return {};
}

void ReportService::stop() {
    impl_->retention.reset();
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    if (impl_->worker.joinable()) impl_->worker.join();
}

core::Result<model::Report> ReportService::submit(const bj::object& body, const std::string& actor) {
    const std::int64_t now = impl_->clock();
    auto spec = parse_report_request(body, now);
    if (!spec) return spec.error();
    if (spec->filters.alert_id) {
        if (auto alert = impl_->store.alerts().get(*spec->filters.alert_id); !alert) {
            if (alert.error().code == Errc::NotFound) {
                return make_error(Errc::NotFound, "no alert with id " + *spec->filters.alert_id);
            }
            return alert.error();
        }
    }
    spec->id = core::new_uuid_v7();
    model::Report report{spec->id, spec->type, spec->format, model::ReportStatus::Queued, "", actor, now, 0,
                         spec->from_ms, spec->to_ms, spec->filters.to_json_text(), 0};
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->queue.size() >= impl_->options.queue_capacity) {
            return make_error(Errc::Unavailable, "too many reports are waiting to be built; try again later");
        }
    }
    if (auto r = impl_->store.reports().insert(report); !r) return r.error();
    if (auto r = impl_->enqueue(std::move(*spec)); !r) {
        (void)impl_->store.reports().remove(report.id);
        return r.error();
    }
    return report;
}

core::Result<model::Report> ReportService::get(std::string_view id) {
    if (!core::is_uuid(id)) return make_error(Errc::InvalidArgument, "a report id is a UUID");
    return impl_->store.reports().get(id);
}

core::Result<std::vector<model::Report>> ReportService::list(const storage::ReportQuery& query) {
    return impl_->store.reports().list(query);
}

core::Result<ReportDownload> ReportService::download(std::string_view id) {
    auto report = get(id);
    if (!report) return report.error();
    if (report->status == model::ReportStatus::Failed) {
        return make_error(Errc::Conflict, "the report failed: " + report->error);
    }
    if (report->status != model::ReportStatus::Ready) {
        return make_error(Errc::Conflict, "the report is still being built (" +
                                              std::string(model::to_string(report->status)) + "); try again shortly");
    }
    // The path comes from the stored id (a UUID) and format, never from the request.
    const auto path = file_of(impl_->options.directory, *report);
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) return make_error(Errc::NotFound, "the report's file is missing");
    if (size > impl_->options.max_download_bytes) {
        return make_error(Errc::Unavailable, "the report's file is larger than the download limit");
    }
    std::ifstream in(path, std::ios::binary);
    std::string body(size, '\0');
    if (!in.read(body.data(), static_cast<std::streamsize>(size))) {
        return make_error(Errc::Unavailable, "the report's file could not be read");
    }
    const std::string day = core::format_rfc3339_ms(report->created_at);
    std::string name = "securityai-" + report->type + "-" + day.substr(0, 4) + day.substr(5, 2) + day.substr(8, 2) +
                       "-" + report->id.substr(0, 8) + "." + std::string(file_extension(report->format));
    std::replace(name.begin(), name.end(), '_', '-');
    const std::string_view type = content_type(report->format);
    return ReportDownload{std::move(*report), std::move(name), type, std::move(body)};
}

core::Result<void> ReportService::remove(std::string_view id) {
    auto report = get(id);
    if (!report) return report.error();
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->building == report->id) {
            return make_error(Errc::Conflict, "the report is being built; delete it once it is ready");
        }
        // A queued report is dropped from the queue before it starts.
        std::erase_if(impl_->queue, [&](const ReportSpec& s) { return s.id == report->id; });
    }
    if (auto r = impl_->store.reports().remove(report->id); !r) return r;
    std::error_code ec;
    std::filesystem::remove(file_of(impl_->options.directory, *report), ec);
    return {};
}

core::Result<std::size_t> ReportService::purge_expired() {
    if (impl_->options.retention_days <= 0) return std::size_t{0};
    const std::int64_t cutoff = impl_->clock() - impl_->options.retention_days * kDayMs;
    std::size_t removed = 0;
    for (;;) {
        auto batch = impl_->store.reports().created_before(cutoff, 100);
        if (!batch) return batch.error();
        std::size_t skipped = 0;
        for (const auto& r : *batch) {
            if (auto done = remove(r.id); !done) {
                if (done.error().code == Errc::Conflict) {
                    ++skipped;  // being built: next time
                    continue;
                }
                if (done.error().code != Errc::NotFound) return done.error();
            }
            ++removed;
        }
        if (batch->size() < 100 || skipped == batch->size()) break;
    }
    if (removed > 0) core::log::info("reports deleted by retention", {{"count", removed}});
    return removed;
}

void ReportService::wait_idle() {
    std::unique_lock lock(impl_->mutex);
    impl_->idle.wait(lock, [&] { return impl_->stopping || (impl_->queue.empty() && impl_->building.empty()); });
}

}  // namespace sai::reports
