#include "influx_export.hpp"

#include "core/time.hpp"
#include "model/severity.hpp"

#include <unistd.h>

#include <fstream>

namespace sai::app {
namespace {

using storage::influx::Point;

}  // namespace

void EventRateStage::committed(const std::vector<model::Event>& batch) {
    std::lock_guard lock(mutex_);
    for (const auto& e : batch) {
        const std::int64_t minute = e.ingested / 60'000 * 60'000;
        const std::string severity =
            e.severity ? std::string(model::to_string(static_cast<model::Severity>(std::clamp<std::int64_t>(*e.severity, 0, 4))))
                       : std::string("none");
        ++counts_[{minute, e.category.empty() ? "uncategorized" : e.category, severity}];
    }
}

std::map<std::tuple<std::int64_t, std::string, std::string>, std::int64_t> EventRateStage::take_completed(
    std::int64_t now) {
    const std::int64_t current = now / 60'000 * 60'000;
    std::lock_guard lock(mutex_);
    std::map<std::tuple<std::int64_t, std::string, std::string>, std::int64_t> out;
    for (auto it = counts_.begin(); it != counts_.end();) {
        if (std::get<0>(it->first) < current) {
            out.insert(*it);
            it = counts_.erase(it);
        } else {
            ++it;
        }
    }
    return out;
}

InfluxExport::InfluxExport(storage::influx::InfluxWriter& writer, storage::Store& store, pipeline::Pipeline& pipeline,
                           EventRateStage& rates, std::string node)
    : writer_(writer), store_(store), pipeline_(pipeline), rates_(rates), node_(std::move(node)) {}

void InfluxExport::sample() {
    const std::int64_t now = core::now_unix_ms();
    std::vector<Point> points;
    for (const auto& [key, n] : rates_.take_completed(now)) {
        const auto& [minute, category, severity] = key;
        points.push_back({"securityai_events", {{"node", node_}, {"category", category}, {"severity", severity}},
                          {{"count", n}}, minute});
    }
    const auto s = pipeline_.stats();
    points.push_back({"securityai_pipeline",
                      {{"node", node_}},
                      {{"queue_depth", static_cast<std::int64_t>(s.queue_depth)},
                       {"committed", static_cast<std::int64_t>(s.committed)},
                       {"duplicates", static_cast<std::int64_t>(s.duplicates)},
                       {"rejected", static_cast<std::int64_t>(s.rejected)},
                       {"dropped", static_cast<std::int64_t>(s.dropped)},
                       {"rate_1m", s.rate.per_second_1m}},
                      now});
    if (auto rows = store_.alerts().count_by_severity_and_status()) {
        for (const auto& [k, n] : *rows) {
            points.push_back({"securityai_alerts", {{"node", node_}, {"severity", k.first}, {"status", k.second}},
                              {{"count", n}}, now});
        }
    }
    std::ifstream statm("/proc/self/statm");
    long pages_total = 0, pages_resident = 0;
    statm >> pages_total >> pages_resident;
    points.push_back({"securityai_process",
                      {{"node", node_}},
                      {{"resident_bytes", static_cast<std::int64_t>(pages_resident) * sysconf(_SC_PAGESIZE)}},
                      now});
    writer_.write(std::move(points));
}

}  // namespace sai::app
