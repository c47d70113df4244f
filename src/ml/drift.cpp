#include "ml/drift.hpp"

#include <algorithm>
#include <cmath>

namespace sai::ml {

namespace {
constexpr double kFloor = 1e-4;  // share given to an empty bin, so ln() stays finite
}

std::string_view to_string(DriftStatus status) {
    switch (status) {
    case DriftStatus::Ok: return "ok";
    case DriftStatus::Warning: return "warning";
    case DriftStatus::Drift: return "drift";
    }
    return "ok";
}

DriftStatus drift_status(double psi, const DriftThresholds& thresholds) {
    if (psi >= thresholds.drift) return DriftStatus::Drift;
    if (psi >= thresholds.warning) return DriftStatus::Warning;
    return DriftStatus::Ok;
}

DriftProfile::DriftProfile(std::vector<double> edges, std::vector<double> shares)
    : edges_(std::move(edges)), shares_(std::move(shares)) {}

std::size_t DriftProfile::bin(double v) const {
    // Bin i holds (edges[i-1], edges[i]]; values above the last edge go to the last bin.
    return static_cast<std::size_t>(std::lower_bound(edges_.begin(), edges_.end(), v) - edges_.begin());
}

DriftProfile DriftProfile::build(std::span<const double> reference, std::size_t bins) {
    if (reference.empty() || bins == 0) return {};
    std::vector<double> sorted(reference.begin(), reference.end());
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> edges;
    for (std::size_t i = 1; i < bins; ++i) {
        const std::size_t k = i * sorted.size() / bins;
        if (k == 0) continue;
        const double edge = sorted[k - 1];
        if (edge < sorted.back() && (edges.empty() || edge > edges.back())) edges.push_back(edge);
    }
    DriftProfile profile(std::move(edges), {});
    profile.shares_.assign(profile.edges_.size() + 1, 0.0);
    for (double v : sorted) profile.shares_[profile.bin(v)] += 1.0;
    for (auto& s : profile.shares_) s /= static_cast<double>(sorted.size());
    return profile;
}

double DriftProfile::psi(std::span<const double> current) const {
    if (current.empty() || shares_.empty()) return 0;
    std::vector<double> actual(shares_.size(), 0.0);
    for (double v : current) actual[bin(v)] += 1.0;
    double sum = 0;
    for (std::size_t i = 0; i < shares_.size(); ++i) {
        const double a = std::max(actual[i] / static_cast<double>(current.size()), kFloor);
        const double e = std::max(shares_[i], kFloor);
        sum += (a - e) * std::log(a / e);
    }
    return sum;
}

double psi(std::span<const double> expected, std::span<const double> actual, std::size_t bins) {
    return DriftProfile::build(expected, bins).psi(actual);
}

std::vector<FeatureDrift> feature_drift(const Matrix& reference, const Matrix& current, std::span<const std::string> names,
                                        std::size_t bins, const DriftThresholds& thresholds) {
    std::vector<FeatureDrift> out;
    if (reference.cols != current.cols) return out;
    std::vector<double> ref(reference.rows), cur(current.rows);
    for (std::size_t f = 0; f < reference.cols; ++f) {
        for (std::size_t r = 0; r < reference.rows; ++r) ref[r] = reference.at(r, f);
        for (std::size_t r = 0; r < current.rows; ++r) cur[r] = current.at(r, f);
        const double value = psi(ref, cur, bins);
        out.push_back({f < names.size() ? names[f] : "f" + std::to_string(f), value, drift_status(value, thresholds)});
    }
    return out;
}

}  // namespace sai::ml
