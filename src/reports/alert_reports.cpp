// The alert-based reports: executive summary, all alerts, one incident.

#include "builders.hpp"
#include "format_util.hpp"

#include <array>

namespace sai::reports {
namespace {

constexpr model::Severity kSeverities[] = {model::Severity::Critical, model::Severity::High, model::Severity::Medium,
                                           model::Severity::Low, model::Severity::Info};

/// Time to acknowledge and to resolve, from one alert's history.
struct ResponseTimes {
    std::int64_t acknowledged = -1;  // ms after creation; -1 when never
    std::int64_t resolved = -1;
};

ResponseTimes response_times(const model::Alert& alert, const std::vector<model::AlertChange>& history) {
    ResponseTimes t;
    for (const auto& c : history) {
        if (c.action != "status") continue;
        const auto to = model::parse_alert_status(c.to);
        if (!to) continue;
        if (t.acknowledged < 0 && (*to == model::AlertStatus::Acknowledged || *to == model::AlertStatus::Investigating)) {
            t.acknowledged = std::max<std::int64_t>(0, c.at - alert.created_at);
        }
        if (t.resolved < 0 && (*to == model::AlertStatus::Resolved || *to == model::AlertStatus::FalsePositive)) {
            t.resolved = std::max<std::int64_t>(0, c.at - alert.created_at);
        }
    }
    return t;
}

/// What both alert-based summaries tally in one pass.
struct AlertTotals {
    explicit AlertTotals(const ReportSpec& spec) : trend(spec.from_ms, spec.to_ms) {}
    std::int64_t total = 0;
    std::int64_t open = 0;
    std::array<std::int64_t, 5> by_severity{};  // index = Severity
    std::array<std::int64_t, 5> by_status{};    // index = AlertStatus
    TimeBuckets trend;

    void add(const model::Alert& a) {
        ++total;
        open += model::is_open(a.status) ? 1 : 0;
        ++by_severity[static_cast<std::size_t>(a.severity)];
        ++by_status[static_cast<std::size_t>(a.status)];
        trend.add(a.first_seen);
    }

    Chart severity_chart() const {
        Chart c{Chart::Kind::Bar, "Alerts by severity", "severity", "alerts", {}};
        for (auto s : kSeverities) {
            c.points.push_back({std::string(model::to_string(s)),
                                static_cast<double>(by_severity[static_cast<std::size_t>(s)]), severity_color(s)});
        }
        return c;
    }

    std::int64_t status(model::AlertStatus s) const { return by_status[static_cast<std::size_t>(s)]; }
};

std::string mean_duration(std::int64_t sum, std::int64_t n) {
    if (n == 0) return "n/a (none yet)";
    return format_duration(sum / n) + " (" + std::to_string(n) + (n == 1 ? " alert)" : " alerts)");
}

void top_table(ReportWriter& out, std::string_view title, std::string_view key_name, const Tally& risk,
               const Tally& count, std::size_t n) {
    const Column columns[] = {{std::string(key_name), 2, false}, {"alerts", 1, true}, {"total risk", 1, true}};
    out.table_begin(title, columns);
    for (const auto& [key, total_risk] : risk.top(n)) {
        const std::string cells[] = {key, format_number(count.get(key)), format_number(total_risk)};
        out.table_row(cells);
    }
    out.table_end();
}

}  // namespace

core::Result<void> build_executive_summary(BuildContext& ctx) {
    AlertTotals totals(ctx.spec);
    Tally host_risk, host_count, user_risk, user_count, tactics;
    std::int64_t ack_sum = 0, ack_n = 0, resolve_sum = 0, resolve_n = 0;
    auto& alerts = ctx.store.alerts();
    auto scanned = for_each_alert(alerts, alert_query(ctx.spec), ctx.page_size,
                                  [&](const model::Alert& a) -> core::Result<void> {
        totals.add(a);
        for (const auto& h : a.entities.hosts) {
            host_risk.add(h, a.risk);
            host_count.add(h);
        }
        for (const auto& u : a.entities.users) {
            user_risk.add(u, a.risk);
            user_count.add(u);
        }
        for (const auto& t : a.tactics) tactics.add(t);
        auto history = alerts.history(a.id);
        if (!history) return history.error();
        const auto t = response_times(a, *history);
        if (t.acknowledged >= 0) {
            ack_sum += t.acknowledged;
            ++ack_n;
        }
        if (t.resolved >= 0) {
            resolve_sum += t.resolved;
            ++resolve_n;
        }
        return {};
    });
    if (!scanned) return scanned.error();

    TimeBuckets event_trend(ctx.spec.from_ms, ctx.spec.to_ms);
    Tally categories;
    std::int64_t events = 0, failed_logins = 0;
    auto streamed = for_each_event(ctx.store.events(), ctx.spec, std::max<std::size_t>(ctx.page_size, 1000),
                                   [&](const model::Event& e) {
        ++events;
        event_trend.add(e.timestamp);
        categories.add(e.category.empty() ? "(none)" : e.category);
        if (e.category == "authentication" && e.outcome == "failure") ++failed_logins;
    });
    if (!streamed) return streamed.error();

    const std::int64_t severe = totals.by_severity[static_cast<std::size_t>(model::Severity::Critical)] +
                                totals.by_severity[static_cast<std::size_t>(model::Severity::High)];
    ctx.out.paragraph(std::to_string(totals.total) + " alerts in this range (" + std::to_string(severe) +
                      " critical or high, " + std::to_string(totals.open) + " still open), from " +
                      std::to_string(events) + " events.");
    key_values(ctx.out, "Key figures", "measure", "value",
               {{"Alerts", std::to_string(totals.total)},
                {"Critical or high", std::to_string(severe)},
                {"Open (new, acknowledged, investigating)", std::to_string(totals.open)},
                {"Resolved", std::to_string(totals.status(model::AlertStatus::Resolved))},
                {"False positives", std::to_string(totals.status(model::AlertStatus::FalsePositive))},
                {"Mean time to acknowledge (MTTA)", mean_duration(ack_sum, ack_n)},
                {"Mean time to resolve (MTTR)", mean_duration(resolve_sum, resolve_n)},
                {"Events", std::to_string(events)},
                {"Failed authentications", std::to_string(failed_logins)}});
    ctx.out.chart(totals.trend.chart("Alerts over time", "alerts"));
    ctx.out.chart(totals.severity_chart());
    ctx.out.chart(event_trend.chart("Events over time", "events"));
    top_table(ctx.out, "Top risky hosts", "host", host_risk, host_count, 10);
    top_table(ctx.out, "Top risky users", "user", user_risk, user_count, 10);
    tally_table(ctx.out, "MITRE ATT&CK tactics seen", "tactic", "alerts", tactics, 20);
    tally_table(ctx.out, "Events by category", "category", "events", categories, 15);
    return {};
}

core::Result<void> build_alerts(BuildContext& ctx) {
    // Two passes: the summary comes first in the document, the rows after it.
    AlertTotals totals(ctx.spec);
    auto& alerts = ctx.store.alerts();
    auto counted = for_each_alert(alerts, alert_query(ctx.spec), ctx.page_size, [&](const model::Alert& a) {
        totals.add(a);
        return core::Result<void>{};
    });
    if (!counted) return counted.error();
    ctx.out.paragraph(std::to_string(totals.total) + " alerts first seen before the end of the range and last seen "
                      "after its start, oldest first.");
    std::vector<std::pair<std::string, std::string>> by_status;
    for (auto s : {model::AlertStatus::New, model::AlertStatus::Acknowledged, model::AlertStatus::Investigating,
                   model::AlertStatus::Resolved, model::AlertStatus::FalsePositive}) {
        by_status.emplace_back(model::to_string(s), std::to_string(totals.status(s)));
    }
    key_values(ctx.out, "Alerts by status", "status", "alerts", by_status);
    ctx.out.chart(totals.trend.chart("Alerts over time", "alerts"));
    ctx.out.chart(totals.severity_chart());

    const Column columns[] = {{"id", 2.1, false},       {"first_seen", 1.3, false}, {"last_seen", 1.3, false},
                              {"title", 2.4, false},    {"severity", 1.1, false},   {"status", 1.3, false},
                              {"risk", 0.6, true},      {"count", 0.7, true},       {"rule_id", 1.3, false},
                              {"hosts", 1.2, false},    {"users", 1.1, false},      {"ips", 1.3, false},
                              {"tactics", 1.3, false},  {"assignee", 1, false},     {"verdict", 1.6, false}};
    ctx.out.table_begin("Alerts", columns);
    auto listed = for_each_alert(alerts, alert_query(ctx.spec), ctx.page_size, [&](const model::Alert& a) {
        const std::string cells[] = {a.id,
                                     format_time(a.first_seen),
                                     format_time(a.last_seen),
                                     a.title,
                                     std::string(model::to_string(a.severity)),
                                     std::string(model::to_string(a.status)),
                                     format_number(a.risk),
                                     std::to_string(a.count),
                                     a.rule_id,
                                     join(a.entities.hosts),
                                     join(a.entities.users),
                                     join(a.entities.ips),
                                     join(a.tactics),
                                     a.assignee,
                                     a.verdict_reason};
        ctx.out.table_row(cells);
        return core::Result<void>{};
    });
    if (!listed) return listed.error();
    ctx.out.table_end();
    return {};
}

core::Result<void> build_incident(BuildContext& ctx) {
    if (!ctx.spec.filters.alert_id) {
        return core::make_error(core::Errc::InvalidArgument, "an incident report needs filters.alert_id");
    }
    auto& alerts = ctx.store.alerts();
    auto alert = alerts.get(*ctx.spec.filters.alert_id);
    if (!alert) return alert.error();
    auto history = alerts.history(alert->id);
    if (!history) return history.error();
    const auto& a = *alert;
    const auto times = response_times(a, *history);

    ctx.out.heading(a.title);
    if (!a.description.empty()) ctx.out.paragraph(a.description);
    key_values(ctx.out, "Alert", "field", "value",
               {{"id", a.id},
                {"rule", a.rule_id},
                {"source", a.source},
                {"severity", std::string(model::to_string(a.severity))},
                {"risk", format_number(a.risk)},
                {"status", std::string(model::to_string(a.status))},
                {"assignee", a.assignee.empty() ? "(none)" : a.assignee},
                {"verdict", a.verdict_reason.empty() ? "(none)" : a.verdict_reason},
                {"first seen", format_time(a.first_seen)},
                {"last seen", format_time(a.last_seen)},
                {"detections", std::to_string(a.count)},
                {"ATT&CK tactics", a.tactics.empty() ? "(none)" : join(a.tactics)},
                {"ATT&CK techniques", a.techniques.empty() ? "(none)" : join(a.techniques)},
                {"time to acknowledge", times.acknowledged < 0 ? "not acknowledged" : format_duration(times.acknowledged)},
                {"time to resolve", times.resolved < 0 ? "not resolved" : format_duration(times.resolved)}});
    {
        const Column columns[] = {{"kind", 1, false}, {"value", 3, false}};
        ctx.out.table_begin("Entities", columns);
        for (auto [kind, values] : {std::pair{"host", &a.entities.hosts}, std::pair{"user", &a.entities.users},
                                    std::pair{"ip", &a.entities.ips}}) {
            for (const auto& v : *values) {
                const std::string cells[] = {kind, v};
                ctx.out.table_row(cells);
            }
        }
        ctx.out.table_end();
    }
    const Column change_columns[] = {{"time", 1.3, false}, {"actor", 1, false}, {"action", 1, false},
                                     {"from", 1, false},   {"to", 1, false},    {"comment", 3, false}};
    ctx.out.table_begin("Timeline", change_columns);
    for (const auto& c : *history) {
        const std::string cells[] = {format_time(c.at), c.actor, c.action, c.from, c.to, c.comment};
        ctx.out.table_row(cells);
    }
    ctx.out.table_end();

    const Column event_columns[] = {{"time", 1.3, false},     {"id", 2.1, false},     {"host", 1, false},
                                    {"user", 1, false},       {"source_ip", 1.1, false}, {"category", 1, false},
                                    {"outcome", 0.8, false},  {"message", 3, false}};
    ctx.out.table_begin("Evidence events", event_columns);
    for (const auto& id : a.event_ids) {
        auto e = ctx.store.events().get(id);
        if (!e && e.error().code != core::Errc::NotFound) return e.error();
        if (!e) {
            const std::string cells[] = {"", id, "", "", "", "", "", "(no longer stored: past event retention)"};
            ctx.out.table_row(cells);
            continue;
        }
        const std::string cells[] = {format_time(e->timestamp), e->id,       e->host_name, e->user_name,
                                     e->source_ip,              e->category, e->outcome,   e->message};
        ctx.out.table_row(cells);
    }
    ctx.out.table_end();

    ctx.out.table_begin("Actions taken", change_columns);
    for (const auto& c : *history) {
        if (c.action != "remediation") continue;
        const std::string cells[] = {format_time(c.at), c.actor, c.action, c.from, c.to, c.comment};
        ctx.out.table_row(cells);
    }
    ctx.out.table_end();
    return {};
}

}  // namespace sai::reports
