#pragma once
// What every fit() takes besides data and parameters: cancellation, progress
// and the number of threads.

#include <atomic>
#include <cstddef>
#include <functional>
#include <string>

namespace sai::ml {

/// Controls a training run. The caller owns `cancel` and keeps it alive for
/// the run; setting it makes fit() stop early and return Errc::Unavailable
/// ("training cancelled"). `progress` receives the fraction done (0..1); it is
/// called from training threads but never concurrently (calls are serialised).
struct TrainControl {
    const std::atomic<bool>* cancel = nullptr;
    std::function<void(double fraction)> progress;
    unsigned threads = 0;  // 0: one per hardware thread

    bool cancelled() const { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }
};

/// One feature's share in an explanation, largest first in a list.
struct FeatureContribution {
    std::size_t feature = 0;
    std::string name;  // empty when the model has no feature names
    double value = 0;  // model-specific units, see IsolationForest::explain / RandomForest::explain
};

}  // namespace sai::ml
