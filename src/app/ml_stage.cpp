#include "ml_stage.hpp"

#include <unordered_set>

namespace sai::app {

void MlScoringStage::process(std::vector<model::Event>& batch) {
    pending_.clear();  // a batch whose commit failed leaves nothing to report
    for (auto& event : batch) {
        scorer_.score(event, pending_);
    }
}

void MlScoringStage::committed(const std::vector<model::Event>& batch) {
    if (pending_.empty()) return;
    std::unordered_set<std::string_view> stored;
    for (const auto& e : batch) stored.insert(e.id);
    std::vector<model::Detection> out;
    for (auto& d : pending_) {
        if (!d.event_ids.empty() && stored.count(d.event_ids.front())) out.push_back(std::move(d));
    }
    pending_.clear();
    if (!out.empty()) alerts_.submit(std::move(out));
}

}  // namespace sai::app
