#pragma once
// Data drift by the Population Stability Index:
//   PSI = Σ_bins (a_i - e_i) · ln(a_i / e_i)
// over quantile bins of a reference sample (e_i: reference share of bin i,
// a_i: current share), empty bins floored at 1e-4. Usual reading: < 0.1 ok,
// 0.1-0.25 warning, >= 0.25 drift.

#include "ml/matrix.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sai::ml {

enum class DriftStatus { Ok, Warning, Drift };
std::string_view to_string(DriftStatus status);

struct DriftThresholds {
    double warning = 0.1;
    double drift = 0.25;
};
DriftStatus drift_status(double psi, const DriftThresholds& thresholds = {});

/// The reference distribution of one feature, reduced to bin edges and
/// shares, so it can be stored with a model instead of its training data.
/// A value type; psi() is const and thread-safe.
class DriftProfile {
public:
    /// Up to `bins` quantile bins of `reference` (fewer when values repeat).
    static DriftProfile build(std::span<const double> reference, std::size_t bins = 10);
    DriftProfile(std::vector<double> edges, std::vector<double> shares);
    DriftProfile() = default;

    /// PSI of `current` against the reference; 0 when either side is empty.
    double psi(std::span<const double> current) const;

    const std::vector<double>& edges() const { return edges_; }    // interior bin edges, ascending
    const std::vector<double>& shares() const { return shares_; }  // edges().size() + 1 shares

private:
    std::size_t bin(double v) const;
    std::vector<double> edges_;
    std::vector<double> shares_;
};

/// PSI of `actual` against `expected` (quantile bins of `expected`).
double psi(std::span<const double> expected, std::span<const double> actual, std::size_t bins = 10);

/// One feature's drift between a reference matrix and a current one.
struct FeatureDrift {
    std::string feature;
    double psi = 0;
    DriftStatus status = DriftStatus::Ok;
};
/// Per-column PSI; `names` may be empty (features are then "f<i>"). Columns must match.
std::vector<FeatureDrift> feature_drift(const Matrix& reference, const Matrix& current,
                                        std::span<const std::string> names = {}, std::size_t bins = 10,
                                        const DriftThresholds& thresholds = {});

}  // namespace sai::ml
