#pragma once
// The pipeline stage that scores events with the ML models (ml::EventScorer)
// and hands the detections of committed events to the alert manager.

#include "alerts/alert_manager.hpp"
#include "ml/scorer.hpp"
#include "pipeline/pipeline.hpp"

#include <vector>

namespace sai::app {

/// Runs on the pipeline thread only. Holds the detections of one batch
/// between process() and committed(). Lives as long as the pipeline.
class MlScoringStage final : public pipeline::Stage {
public:
    MlScoringStage(ml::EventScorer& scorer, alerts::AlertManager& alerts) : scorer_(scorer), alerts_(alerts) {}

    std::string_view name() const override { return "ml"; }
    void process(std::vector<model::Event>& batch) override;
    void committed(const std::vector<model::Event>& batch) override;

private:
    ml::EventScorer& scorer_;
    alerts::AlertManager& alerts_;
    std::vector<model::Detection> pending_;
};

}  // namespace sai::app
