#include "ml_stage.hpp"

#include "core/json_text.hpp"

#include <unordered_map>

namespace sai::app {

void MlScoringStage::process(std::vector<model::Event>& batch) {
    pending_.clear();  // a batch whose commit failed leaves nothing to report
    for (auto& event : batch) {
        scorer_.score(event, pending_);
    }
}

void MlScoringStage::committed(const std::vector<model::Event>& batch) {
    if (pending_.empty()) return;
    std::unordered_map<std::string_view, std::size_t> stored;  // event id -> index in the batch
    for (std::size_t i = 0; i < batch.size(); ++i) stored.emplace(batch[i].id, i);
    std::vector<model::Detection> out;
    for (auto& d : pending_) {
        if (d.event_ids.empty()) continue;
        const auto it = stored.find(d.event_ids.front());
        if (it == stored.end()) continue;
        // Where the event came from (the ingest call's request id), so the alert leads back to it.
        if (const auto origin = pipeline::batch_origin(it->second); !origin.empty() && d.explanation.size() > 1 &&
                                                                     d.explanation.back() == '}') {
            d.explanation.pop_back();
            d.explanation += ",\"origin\":";
            core::append_json_string(d.explanation, origin);
            d.explanation += '}';
        }
        out.push_back(std::move(d));
    }
    pending_.clear();
    if (!out.empty()) alerts_.submit(std::move(out));
}

}  // namespace sai::app
