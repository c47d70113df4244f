#pragma once
// The LiveService of /api/v1/monitor/ws: subscribes to the pipeline's live hub,
// serialises each committed event once, and hands every connection the frames
// that match its filters.

#include "alerts/alert_manager.hpp"
#include "api/live.hpp"
#include "api/router.hpp"
#include "pipeline/pipeline.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <utility>
#include <vector>

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
    /// Events committed on another node (relayed through Redis): each is matched
    /// against filters by its fields (first) and sent as its JSON from there (second).
    void push_relayed_events(const std::vector<std::pair<model::Event, boost::json::object>>& events);
    /// Alert changes made on another node: filtered by the update, sent as the JSON.
    void push_relayed_alerts(const std::vector<std::pair<alerts::AlertUpdate, boost::json::object>>& updates);
    std::size_t connections() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

/// GET /api/v1/monitor/ws without an Upgrade header: 426 with how to connect.
void add_live_routes(Router& router);

}  // namespace sai::api
