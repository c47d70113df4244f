#pragma once
// Random Forest classifier: bootstrap-aggregated CART trees (Gini), with
// scikit-learn's parameters and defaults, and flat-array trees for inference.

#include "core/error.hpp"
#include "ml/matrix.hpp"
#include "ml/training.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sai::ml {

namespace detail {
struct FlatTrees;
}

/// Parameters, named and defaulted as sklearn.ensemble.RandomForestClassifier.
struct RandomForestParams {
    int n_estimators = 100;
    int max_depth = 0;  // 0: unlimited
    int min_samples_split = 2;
    int min_samples_leaf = 1;
    /// Features tried per split: "sqrt", "log2", "all", a fraction in (0, 1) or a count.
    std::string max_features = "sqrt";
    bool bootstrap = true;
    bool class_weight_balanced = false;  // class_weight="balanced"
    std::uint64_t random_state = 0;
};

/// A trained multi-class forest. Immutable after fit(); const members are
/// thread-safe, so one instance is shared by every scoring worker.
class RandomForest {
public:
    /// `labels[i]` is the class index (into `classes`) of row i. Errors: empty
    /// data, fewer than two classes present, label out of range, bad
    /// parameters, non-finite values, cancellation.
    static core::Result<RandomForest> fit(const Matrix& data, std::span<const std::int32_t> labels,
                                          std::vector<std::string> classes, const RandomForestParams& params,
                                          const TrainControl& control = {});

    /// Class probabilities (mean of the trees' leaf distributions) into `out`
    /// (size n_classes()); returns the most probable class index.
    std::size_t predict_proba(std::span<const float> row, std::span<double> out) const;
    /// Probabilities of every row into `out` (row-major, rows * n_classes()).
    void predict_proba_batch(const Matrix& data, std::span<double> out, unsigned threads = 0) const;

    /// Top-k features by their contribution to the probability of `klass`
    /// along the decision paths (Saabas): each split adds the change in that
    /// class's probability to its feature, averaged over trees. Signed.
    std::vector<FeatureContribution> explain(std::span<const float> row, std::size_t klass, std::size_t k,
                                             std::span<const std::string> names = {}) const;

    /// Mean decrease in impurity, normalised to sum to 1 (sklearn's feature_importances_).
    const std::vector<double>& feature_importances() const { return importances_; }
    const std::vector<std::string>& classes() const { return classes_; }
    std::size_t n_classes() const { return classes_.size(); }
    std::size_t n_features() const { return n_features_; }
    std::size_t n_trees() const { return roots_.size(); }
    std::size_t node_count() const { return nodes_.size(); }
    const RandomForestParams& params() const { return params_; }

    /// Internal: go left when x[feature] <= threshold. Leaf: feature == -1.
    /// Node i's class distribution is values_[i * n_classes, (i + 1) * n_classes).
    struct Node {
        std::int32_t feature = -1;
        float threshold = 0;
        std::int32_t left = -1;
        std::int32_t right = -1;
    };

private:
    friend struct ModelCodec;
    void index();  // builds flat_ from nodes_ and roots_

    RandomForestParams params_;
    std::size_t n_features_ = 0;
    std::vector<std::string> classes_;
    std::vector<Node> nodes_;
    std::vector<float> values_;
    std::vector<std::int32_t> roots_;
    std::shared_ptr<const detail::FlatTrees> flat_;  // inference layout
    std::vector<double> importances_;
};

/// Resolves a max_features setting against the feature count; error when malformed.
core::Result<std::size_t> resolve_max_features(const std::string& setting, std::size_t n_features);

}  // namespace sai::ml
