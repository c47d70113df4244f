// The compliance audit and ML performance reports.

#include "builders.hpp"
#include "core/time.hpp"
#include "format_util.hpp"

#include <algorithm>

namespace sai::reports {

core::Result<void> build_compliance_audit(BuildContext& ctx) {
    // Pass 1: totals and the action mix; pass 2 (below) lists the entries.
    std::int64_t entries = 0;
    Tally outcomes, actions, actors;
    TimeBuckets trend(ctx.spec.from_ms, ctx.spec.to_ms);
    auto counted = for_each_audit(ctx.store.audit(), ctx.spec, ctx.page_size, [&](const storage::AuditRecord& r) {
        ++entries;
        outcomes.add(r.outcome);
        actions.add(r.action);
        actors.add(r.actor);
        if (auto t = core::parse_rfc3339_ms(r.ts)) {
            trend.add(*t);
        }
    });
    if (!counted) return counted.error();

    ctx.out.paragraph(std::to_string(entries) + " audit log entries (sign-ins, account, key and alert changes, "
                      "remediation and every other audited request) by " + std::to_string(actors.size()) +
                      " actors in this range.");
    key_values(ctx.out, "Summary", "measure", "value",
               {{"Entries", std::to_string(entries)},
                {"Successful", format_number(outcomes.get("success"))},
                {"Failed", format_number(outcomes.get("failure"))},
                {"Denied", format_number(outcomes.get("denied"))},
                {"Distinct actors", std::to_string(actors.size())}});

    std::vector<std::pair<std::string, std::string>> chain;
    if (!ctx.hooks.verify_audit_chain) {
        chain.emplace_back("Result", "not verified: no verifier is configured on this server");
    } else if (auto v = ctx.hooks.verify_audit_chain(); !v) {
        chain.emplace_back("Result", "verification could not run: " + v.error().detail);
    } else {
        chain.emplace_back("Result", v->ok ? "intact: every entry links to its predecessor"
                                           : "BROKEN: the log was altered or entries are missing");
        chain.emplace_back("Entries verified", std::to_string(v->entries));
        if (!v->ok) {
            chain.emplace_back("First broken entry", std::to_string(v->first_broken_seq));
            chain.emplace_back("Reason", v->reason);
        }
    }
    key_values(ctx.out, "Audit log hash-chain verification (whole log)", "check", "result", chain);
    key_values(ctx.out, "Retention settings", "setting", "value", ctx.hooks.retention_settings);

    ctx.out.chart(trend.chart("Audit entries over time", "entries"));
    Chart by_action{Chart::Kind::Bar, "Most frequent actions", "action", "entries", {}};
    for (const auto& [action, n] : actions.top(8)) by_action.points.push_back({action, n, ""});
    ctx.out.chart(by_action);

    const Column columns[] = {{"seq", 0.6, true},       {"time", 1.5, false},    {"actor", 1.3, false},
                              {"role", 0.7, false},     {"action", 1.9, false},  {"target", 1.5, false},
                              {"outcome", 0.8, false},  {"client_ip", 1.1, false}, {"detail", 1.6, false}};
    ctx.out.table_begin("Audit entries (newest first)", columns);
    auto listed = for_each_audit(ctx.store.audit(), ctx.spec, ctx.page_size, [&](const storage::AuditRecord& r) {
        const std::string cells[] = {std::to_string(r.seq), r.ts, r.actor, r.role, r.action, r.target,
                                     r.outcome, r.client_ip, r.detail};
        ctx.out.table_row(cells);
    });
    if (!listed) return listed.error();
    ctx.out.table_end();
    return {};
}

core::Result<void> build_ml_performance(BuildContext& ctx) {
    MlSnapshot snapshot;
    std::string unavailable;
    if (!ctx.hooks.ml_snapshot) {
        unavailable = "No model is registered: this server has no model registry (the ML subsystem is not "
                      "installed), so there are no model versions, evaluation metrics or drift measurements to "
                      "report.";
    } else if (auto s = ctx.hooks.ml_snapshot(ctx.spec.from_ms, ctx.spec.to_ms); !s) {
        unavailable = "The model registry could not be read: " + s.error().detail;
    } else {
        snapshot = std::move(*s);
        if (snapshot.versions.empty()) unavailable = "No model is registered yet: no version has been trained.";
    }
    if (!unavailable.empty()) ctx.out.paragraph(unavailable);

    const Column columns[] = {{"model", 1.3, false}, {"version", 1, false}, {"status", 0.9, false},
                              {"trained", 1.4, false}, {"metrics", 2.6, false}, {"drift", 0.7, true}};
    ctx.out.table_begin("Model versions", columns);
    Chart f1{Chart::Kind::Bar, "F1 score by model version", "version", "f1", {}};
    for (const auto& v : snapshot.versions) {
        std::string metrics;
        for (const auto& [name, value] : v.metrics) {
            metrics += (metrics.empty() ? "" : ", ") + name + " " + format_number(value, 3);
            if (name == "f1") f1.points.push_back({v.model + " " + v.version, value, ""});
        }
        const std::string cells[] = {v.model, v.version, v.status, v.trained_at ? format_time(v.trained_at) : "",
                                     metrics, v.drift ? format_number(*v.drift, 3) : ""};
        ctx.out.table_row(cells);
    }
    ctx.out.table_end();
    if (!f1.points.empty()) ctx.out.chart(f1);

    // Analyst verdicts become training labels: how much supervision the models get.
    // Pages are ordered by time; rows sharing the last page's final time are
    // fetched again with the next page and skipped.
    Tally labels;
    std::int64_t since = ctx.spec.from_ms;
    std::size_t skip = 0;
    for (;;) {
        auto page = ctx.store.alerts().labels(since, ctx.page_size + skip);
        if (!page) return page.error();
        bool past_end = false;
        for (std::size_t i = skip; i < page->size(); ++i) {
            if ((*page)[i].at >= ctx.spec.to_ms) {
                past_end = true;
                break;
            }
            labels.add((*page)[i].label);
        }
        if (past_end || page->size() < ctx.page_size + skip) break;
        since = page->back().at;
        skip = static_cast<std::size_t>(
            std::count_if(page->begin(), page->end(), [&](const model::AlertLabel& l) { return l.at == since; }));
    }
    key_values(ctx.out, "Training labels from analyst verdicts in this range", "label", "events",
               {{"benign", format_number(labels.get("benign"))},
                {"suspicious", format_number(labels.get("suspicious"))},
                {"malicious", format_number(labels.get("malicious"))}});
    return {};
}

}  // namespace sai::reports
