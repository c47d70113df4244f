#pragma once
// The detection stage: evaluates every batch against the compiled Sigma rules
// before the commit (the rule ids that fired are stored on each event as
// rule.ids), and after the commit hands the detections, with their
// explanation, to a sink (the alert manager). Rules come from directories
// (the built-in pack, the API-managed directory, any configured ones) and are
// reloaded when their files change; a bad file never stops the others.

#include "detection/engine.hpp"
#include "model/alert.hpp"
#include "detection/rule_set.hpp"
#include "pipeline/pipeline.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace sai::pipeline {

/// Maps an engine detection on `event` to the alert manager's contract (the description
/// is that of the rule that fired, from the set it fired in).
model::Detection to_model_detection(const detection::Detection& d, const model::Event* event);

/// Owned by the composition root. process()/committed() run on the pipeline
/// thread; reload(), report() and rules() from any thread.
class DetectStage final : public Stage {
public:
    using Sink = std::function<void(std::vector<model::Detection>)>;

    DetectStage(std::vector<std::filesystem::path> rule_dirs, Sink sink);
    std::string_view name() const override { return "detect"; }
    void process(std::vector<model::Event>& batch) override;
    void committed(const std::vector<model::Event>& batch) override;

    /// Recompiles when the rule files changed (or always with `force`); the
    /// engine keeps running on the previous set until the new one is ready.
    void reload(bool force = false);
    detection::LoadReport report() const;
    std::shared_ptr<const detection::CompiledRuleSet> rules() const { return engine_.rules(); }
    const std::vector<std::filesystem::path>& directories() const { return dirs_; }

private:
    std::vector<std::filesystem::path> dirs_;
    Sink sink_;
    detection::Engine engine_;
    std::vector<detection::Detection> pending_;  // pipeline thread only
    mutable std::mutex reload_mutex_;
    detection::LoadReport report_;
    std::uint64_t fingerprint_ = 0;
};

}  // namespace sai::pipeline
