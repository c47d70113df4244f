#pragma once
// Evaluation metrics, defined as scikit-learn defines them so figures compare.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sai::ml {

/// ROC AUC of `scores` (higher = positive) against `positive` flags: the
/// Mann-Whitney U statistic, ties counting 1/2. NaN when one class is absent.
double roc_auc(std::span<const double> scores, std::span<const std::uint8_t> positive);

/// Accuracy, macro F1 and per-class figures of a classifier.
struct ClassificationReport {
    double accuracy = 0;
    double macro_f1 = 0;  // mean over classes present in truth or predictions
    std::vector<double> recall;     // per class; NaN when the class is absent from truth
    std::vector<double> precision;  // per class; 0 when never predicted
    std::vector<std::size_t> support;
};

/// Class indices in [0, n_classes). A truth label the model never saw should get
/// its own index (>= the model's classes), as sklearn counts it in macro F1.
/// A negative index is counted as an error in accuracy only.
ClassificationReport classification_report(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted,
                                           std::size_t n_classes);

}  // namespace sai::ml
