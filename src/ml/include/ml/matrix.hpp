#pragma once
// Dense row-major float matrix: the input of every model in ml/.

#include <cstddef>
#include <span>
#include <vector>

namespace sai::ml {

/// Rows of equal-length float feature vectors, stored contiguously (row-major).
/// A plain value type; not synchronised (share it read-only between threads).
struct Matrix {
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<float> values;  // rows * cols

    Matrix() = default;
    Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), values(r * c, 0.0f) {}

    std::span<const float> row(std::size_t i) const { return {values.data() + i * cols, cols}; }
    std::span<float> row(std::size_t i) { return {values.data() + i * cols, cols}; }
    float at(std::size_t r, std::size_t c) const { return values[r * cols + c]; }
};

}  // namespace sai::ml
