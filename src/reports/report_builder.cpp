#include "reports/report_builder.hpp"

#include "builders.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"
#include "format_util.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace sai::reports {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kDay = kDayMs;

core::Result<std::optional<std::string>> text_field(const bj::object& o, std::string_view name) {
    auto it = o.find(name);
    if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
    if (!it->value().is_string() || it->value().get_string().empty() || it->value().get_string().size() > 256) {
        return make_error(Errc::InvalidArgument, "filters." + std::string(name) + " must be a non-empty string of at most 256 bytes");
    }
    return std::optional<std::string>(std::string(it->value().get_string()));
}

}  // namespace

core::Result<ReportFilters> ReportFilters::from_json(const bj::object& o) {
    static constexpr std::string_view kAllowed[] = {"alert_id", "severity_min", "statuses", "rule_id",
                                                    "host",     "user",         "actor",    "action"};
    for (const auto& [key, value] : o) {
        if (std::find(std::begin(kAllowed), std::end(kAllowed), key) == std::end(kAllowed)) {
            return make_error(Errc::InvalidArgument,
                              "unknown filter '" + std::string(key) +
                                  "'; allowed: alert_id, severity_min, statuses, rule_id, host, user, actor, action");
        }
    }
    ReportFilters f;
    for (auto [name, field] : {std::pair{"alert_id", &f.alert_id}, std::pair{"rule_id", &f.rule_id},
                               std::pair{"host", &f.host}, std::pair{"user", &f.user}, std::pair{"actor", &f.actor},
                               std::pair{"action", &f.action}}) {
        auto v = text_field(o, name);
        if (!v) return v.error();
        *field = std::move(*v);
    }
    if (f.alert_id && !core::is_uuid(*f.alert_id)) {
        return make_error(Errc::InvalidArgument, "filters.alert_id must be an alert id (a UUID)");
    }
    if (auto sev = text_field(o, "severity_min"); !sev) {
        return sev.error();
    } else if (*sev) {
        auto parsed = model::parse_severity(**sev);
        if (!parsed) {
            return make_error(Errc::InvalidArgument, "filters.severity_min must be info, low, medium, high or critical");
        }
        f.severity_min = parsed;
    }
    if (auto it = o.find("statuses"); it != o.end() && !it->value().is_null()) {
        if (!it->value().is_array()) return make_error(Errc::InvalidArgument, "filters.statuses must be an array");
        for (const auto& v : it->value().get_array()) {
            auto s = v.is_string() ? model::parse_alert_status(v.get_string()) : std::nullopt;
            if (!s) {
                return make_error(Errc::InvalidArgument, "filters.statuses: each must be new, acknowledged, "
                                                         "investigating, resolved or false_positive");
            }
            if (std::find(f.statuses.begin(), f.statuses.end(), *s) == f.statuses.end()) f.statuses.push_back(*s);
        }
    }
    return f;
}

std::string ReportFilters::to_json_text() const {
    bj::object o;
    for (auto [name, field] : {std::pair{"alert_id", &alert_id}, std::pair{"rule_id", &rule_id},
                               std::pair{"host", &host}, std::pair{"user", &user}, std::pair{"actor", &actor},
                               std::pair{"action", &action}}) {
        if (*field) o[name] = **field;
    }
    if (severity_min) o["severity_min"] = model::to_string(*severity_min);
    if (!statuses.empty()) {
        bj::array a;
        for (auto s : statuses) a.emplace_back(model::to_string(s));
        o["statuses"] = std::move(a);
    }
    return model::to_json_text(o);
}

std::string_view report_title(std::string_view type) noexcept {
    if (type == "executive_summary") return "Executive summary";
    if (type == "alerts") return "Alerts";
    if (type == "incident") return "Incident report";
    if (type == "compliance_audit") return "Compliance audit";
    if (type == "ml_performance") return "ML model performance";
    return "Report";
}

core::Result<WriteSummary> build_report(const ReportSpec& spec, storage::Store& store, const ReportHooks& hooks,
                                        const std::filesystem::path& file, BuildOptions options) {
    using Builder = core::Result<void> (*)(BuildContext&);
    Builder builder = nullptr;
    if (spec.type == "executive_summary") builder = build_executive_summary;
    if (spec.type == "alerts") builder = build_alerts;
    if (spec.type == "incident") builder = build_incident;
    if (spec.type == "compliance_audit") builder = build_compliance_audit;
    if (spec.type == "ml_performance") builder = build_ml_performance;
    if (!builder) return make_error(Errc::InvalidArgument, "unknown report type '" + spec.type + "'");
    if (spec.to_ms <= spec.from_ms) return make_error(Errc::InvalidArgument, "the range is empty or reversed");

    auto writer = make_report_writer(spec.format, file);
    if (!writer) return writer.error();
    (*writer)->begin({spec.id, spec.type, std::string(report_title(spec.type)), spec.generated_at, spec.from_ms,
                      spec.to_ms, spec.type == "alerts" || spec.type == "compliance_audit"});
    BuildContext ctx{spec, store, hooks, **writer, std::max<std::size_t>(1, options.page_size)};
    if (auto built = builder(ctx); !built) return built.error();
    return (*writer)->finish();
}

storage::AlertQuery alert_query(const ReportSpec& spec) {
    storage::AlertQuery q;
    q.from_ms = spec.from_ms;
    q.to_ms = spec.to_ms;
    q.statuses = spec.filters.statuses;
    q.severity_min = spec.filters.severity_min;
    q.rule_id = spec.filters.rule_id;
    q.host = spec.filters.host;
    q.user = spec.filters.user;
    q.sort = storage::AlertQuery::Sort::FirstSeen;
    q.descending = false;
    return q;
}

core::Result<void> for_each_alert(storage::AlertStore& store, storage::AlertQuery query, std::size_t page_size,
                                  const std::function<core::Result<void>(const model::Alert&)>& visit) {
    query.limit = page_size;
    query.offset = 0;
    for (;;) {
        auto page = store.query(query);
        if (!page) return page.error();
        for (const auto& a : *page) {
            if (auto r = visit(a); !r) return r;
        }
        if (page->size() < page_size) return {};
        query.offset += page->size();
    }
}

core::Result<void> for_each_event(storage::EventStore& store, const ReportSpec& spec, std::size_t page_size,
                                  const std::function<void(const model::Event&)>& visit) {
    storage::EventQuery q;
    q.from_ms = spec.from_ms;
    q.to_ms = spec.to_ms;
    q.host = spec.filters.host;
    q.user = spec.filters.user;
    q.limit = page_size;
    for (;;) {
        auto page = store.query(q);
        if (!page) return page.error();
        for (const auto& e : *page) visit(e);
        if (page->size() < page_size) return {};
        q.before = std::pair{page->back().timestamp, page->back().id};
    }
}

core::Result<void> for_each_audit(storage::AuditStore& store, const ReportSpec& spec, std::size_t page_size,
                                  const std::function<void(const storage::AuditRecord&)>& visit) {
    storage::AuditQuery q;
    q.from = core::format_rfc3339_ms(spec.from_ms);
    q.to = core::format_rfc3339_ms(spec.to_ms);
    q.actor = spec.filters.actor;
    q.action = spec.filters.action;
    q.limit = page_size;
    for (;;) {
        auto page = store.query(q);
        if (!page) return page.error();
        for (const auto& r : *page) visit(r);
        if (page->size() < page_size || page->back().seq <= 1) return {};
        q.before_seq = page->back().seq;
    }
}

TimeBuckets::TimeBuckets(std::int64_t from_ms, std::int64_t to_ms) : from_(from_ms) {
    const std::int64_t range = std::max<std::int64_t>(1, to_ms - from_ms);
    width_ = range <= 2 * kDay ? kHour : range <= 90 * kDay ? kDay : 7 * kDay;
    // Very long ranges: wider buckets still, so a chart keeps at most ~120 points.
    if (range / width_ > 120) width_ = (range + 119) / 120;
    counts_.assign(static_cast<std::size_t>((range + width_ - 1) / width_), 0.0);
}

void TimeBuckets::add(std::int64_t at_ms, double amount) {
    if (counts_.empty()) return;
    const std::int64_t i = std::clamp<std::int64_t>((at_ms - from_) / width_, 0,
                                                    static_cast<std::int64_t>(counts_.size()) - 1);
    counts_[static_cast<std::size_t>(i)] += amount;
}

Chart TimeBuckets::chart(std::string title, std::string value_name) const {
    Chart c{Chart::Kind::Line, std::move(title), "time", std::move(value_name), {}};
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        const std::string t = core::format_rfc3339(
            core::TimePoint(std::chrono::milliseconds(from_ + static_cast<std::int64_t>(i) * width_)));
        // Hours show the time, days and weeks the date.
        c.points.push_back({width_ < kDay ? t.substr(5, 11) : t.substr(0, 10), counts_[i], ""});
    }
    return c;
}

void Tally::add(const std::string& key, double amount) {
    auto it = counts_.find(key);
    if (it != counts_.end()) {
        it->second += amount;
    } else if (counts_.size() < kMaxTrackedEntities) {
        counts_.emplace(key, amount);
    } else {
        other_ += amount;
    }
}

double Tally::get(const std::string& key) const {
    auto it = counts_.find(key);
    return it == counts_.end() ? 0 : it->second;
}

std::vector<std::pair<std::string, double>> Tally::top(std::size_t n) const {
    std::vector<std::pair<std::string, double>> all(counts_.begin(), counts_.end());
    const std::size_t k = std::min(n, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(k), all.end(),
                      [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
    all.resize(k);
    return all;
}

void key_values(ReportWriter& out, std::string_view title, std::string_view key_name, std::string_view value_name,
                const std::vector<std::pair<std::string, std::string>>& rows) {
    const Column columns[] = {{std::string(key_name), 1.2, false}, {std::string(value_name), 2, false}};
    out.table_begin(title, columns);
    for (const auto& [k, v] : rows) {
        const std::string cells[] = {k, v};
        out.table_row(cells);
    }
    out.table_end();
}

void tally_table(ReportWriter& out, std::string_view title, std::string_view key_name, std::string_view value_name,
                 const Tally& tally, std::size_t n) {
    const Column columns[] = {{std::string(key_name), 2, false}, {std::string(value_name), 1, true}};
    out.table_begin(title, columns);
    for (const auto& [key, count] : tally.top(n)) {
        const std::string cells[] = {key, format_number(count)};
        out.table_row(cells);
    }
    out.table_end();
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += separator;
        out += i;
    }
    return out;
}

std::string severity_color(model::Severity severity) {
    switch (severity) {
    case model::Severity::Critical: return "#9b1c1c";
    case model::Severity::High: return "#e5533d";
    case model::Severity::Medium: return "#f0a020";
    case model::Severity::Low: return "#2b6cd9";
    case model::Severity::Info: return "#16a2b8";
    }
    return "#16a2b8";
}

}  // namespace sai::reports
