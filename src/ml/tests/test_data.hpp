#pragma once
// Small deterministic data sets for the forest tests.

#include "ml/matrix.hpp"

#include <cstdint>
#include <random>
#include <vector>

namespace sai::ml::testdata {

/// `n` points of a tight 2-D Gaussian cluster around (0, 0) plus, as the
/// last row, the point (dx, dy).
inline Matrix cluster_with_outlier(std::size_t n, float dx, float dy, std::uint64_t seed = 7) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 1.0f);
    Matrix m(n + 1, 2);
    for (std::size_t i = 0; i < n; ++i) {
        m.values[i * 2] = g(rng);
        m.values[i * 2 + 1] = g(rng);
    }
    m.values[n * 2] = dx;
    m.values[n * 2 + 1] = dy;
    return m;
}

/// Two features: x0 decides the class (x0 > 0.5), x1 is noise.
inline Matrix threshold_data(std::size_t n, std::vector<std::int32_t>& labels, std::uint64_t seed = 3) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    Matrix m(n, 2);
    labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
        m.values[i * 2] = u(rng);
        m.values[i * 2 + 1] = u(rng);
        labels[i] = m.values[i * 2] > 0.5f ? 1 : 0;
    }
    return m;
}

}  // namespace sai::ml::testdata
