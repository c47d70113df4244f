#pragma once
// Private to app/: what the server sends to InfluxDB when INFLUXDB_URL is set.
// Every interval: pipeline counters and queue, alerts by severity and status,
// HTTP and process figures, and the per-minute event counts by category and
// severity of every minute that has ended (counted by a pipeline stage after
// each commit, so they are committed events).

#include "pipeline/pipeline.hpp"
#include "storage/influx/influx_writer.hpp"
#include "storage/store.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

namespace sai::app {

/// Counts committed events per (minute, category, severity); thread-safe.
class EventRateStage final : public pipeline::Stage {
public:
    std::string_view name() const override { return "event-rates"; }
    void process(std::vector<model::Event>&) override {}
    void committed(const std::vector<model::Event>& batch) override;
    /// Counts of minutes that ended before `now_ms`, removed from the stage.
    std::map<std::tuple<std::int64_t, std::string, std::string>, std::int64_t> take_completed(std::int64_t now_ms);

private:
    std::mutex mutex_;
    std::map<std::tuple<std::int64_t, std::string, std::string>, std::int64_t> counts_;  // minute start (ms)
};

/// Samples the server's figures into points for the writer (on the writer's thread).
class InfluxExport {
public:
    InfluxExport(storage::influx::InfluxWriter& writer, storage::Store& store, pipeline::Pipeline& pipeline,
                 EventRateStage& rates, std::string node);
    void sample();

private:
    storage::influx::InfluxWriter& writer_;
    storage::Store& store_;
    pipeline::Pipeline& pipeline_;
    EventRateStage& rates_;
    std::string node_;
};

}  // namespace sai::app
