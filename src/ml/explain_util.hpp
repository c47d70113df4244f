#pragma once
// Private: picks the k largest per-feature values as named contributions.

#include "ml/training.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace sai::ml::detail {

inline std::vector<FeatureContribution> top_k(const std::vector<double>& values, std::size_t k,
                                              std::span<const std::string> names) {
    std::vector<std::size_t> order(values.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    k = std::min(k, order.size());
    // By magnitude: RF contributions may be negative (evidence against the class).
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                      [&](std::size_t a, std::size_t b) {
                          const double x = std::abs(values[a]), y = std::abs(values[b]);
                          return x != y ? x > y : a < b;
                      });
    std::vector<FeatureContribution> out;
    for (std::size_t i = 0; i < k; ++i) {
        const std::size_t f = order[i];
        if (values[f] == 0.0) break;
        out.push_back({f, f < names.size() ? names[f] : std::string(), values[f]});
    }
    return out;
}

}  // namespace sai::ml::detail
