#pragma once
// The LiveService of /api/v1/monitor/ws: subscribes to the pipeline's live hub,
// serialises each committed event once, and hands every connection the frames
// that match its filters.

#include "alerts/alert_manager.hpp"
#include "api/live.hpp"
#include "api/router.hpp"
#include "pipeline/pipeline.hpp"

#include <memory>

namespace sai::api {

class HubLiveService final : public LiveService {
public:
    HubLiveService(pipeline::LiveHub& hub, pipeline::Pipeline& pipeline);
    ~HubLiveService() override;
    std::shared_ptr<LiveConnection> open(const Request& request, std::shared_ptr<LiveChannel> channel) override;
    /// Sends {"type":"metrics"} to connections that asked for metrics (call periodically).
    void push_metrics();
    /// Sends {"type":"alert","change":"created"|"updated","data":{...}} to connections
    /// that asked for alerts and whose filters match (an AlertManager listener).
    void push_alerts(const std::vector<alerts::AlertUpdate>& updates);
    std::size_t connections() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// GET /api/v1/monitor/ws without an Upgrade header: 426 with how to connect.
void add_live_routes(Router& router);

}  // namespace sai::api
