#include "ml/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace sai::ml {

double roc_auc(std::span<const double> scores, std::span<const std::uint8_t> positive) {
    const std::size_t n = std::min(scores.size(), positive.size());
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
    // Sum of the positives' mid-ranks (1-based), then U = R - n_pos (n_pos + 1) / 2.
    double rank_sum = 0, n_pos = 0;
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j < n && scores[order[j]] == scores[order[i]]) ++j;
        const double mid_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        for (std::size_t t = i; t < j; ++t) {
            if (positive[order[t]]) {
                rank_sum += mid_rank;
                n_pos += 1;
            }
        }
        i = j;
    }
    const double n_neg = static_cast<double>(n) - n_pos;
    if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg);
}

ClassificationReport classification_report(std::span<const std::int32_t> truth, std::span<const std::int32_t> predicted,
                                           std::size_t n_classes) {
    ClassificationReport r;
    std::vector<double> tp(n_classes, 0), fp(n_classes, 0), fn(n_classes, 0);
    r.support.assign(n_classes, 0);
    std::size_t correct = 0, unknown_truth = 0;
    const std::size_t n = std::min(truth.size(), predicted.size());
    for (std::size_t i = 0; i < n; ++i) {
        const auto t = truth[i], p = predicted[i];
        if (t == p && t >= 0) {
            ++correct;
            tp[static_cast<std::size_t>(t)] += 1;
        } else {
            if (p >= 0) fp[static_cast<std::size_t>(p)] += 1;
            if (t >= 0) fn[static_cast<std::size_t>(t)] += 1;
        }
        if (t >= 0) {
            ++r.support[static_cast<std::size_t>(t)];
        } else {
            ++unknown_truth;
        }
    }
    r.accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0;
    double f1_sum = 0;
    std::size_t f1_count = 0;
    for (std::size_t c = 0; c < n_classes; ++c) {
        const double support = tp[c] + fn[c], predicted_c = tp[c] + fp[c];
        r.recall.push_back(support > 0 ? tp[c] / support : std::numeric_limits<double>::quiet_NaN());
        r.precision.push_back(predicted_c > 0 ? tp[c] / predicted_c : 0.0);
        if (support > 0 || predicted_c > 0) {
            const double denom = 2 * tp[c] + fp[c] + fn[c];
            f1_sum += denom > 0 ? 2 * tp[c] / denom : 0.0;
            ++f1_count;
        }
    }
    (void)unknown_truth;
    r.macro_f1 = f1_count ? f1_sum / static_cast<double>(f1_count) : 0;
    return r;
}

}  // namespace sai::ml
