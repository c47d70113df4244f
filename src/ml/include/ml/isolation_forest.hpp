#pragma once
// Isolation Forest (Liu, Ting & Zhou, ICDM 2008) with scikit-learn's
// parameters and defaults, and compact flat-array trees for inference.

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

/// Parameters, named and defaulted as sklearn.ensemble.IsolationForest.
struct IsolationForestParams {
    int n_estimators = 100;
    /// Rows drawn (without replacement) per tree: an absolute count when > 1,
    /// a fraction of the rows when in (0, 1]; always capped at the row count.
    double max_samples = 256;
    /// Features drawn per tree: a fraction in (0, 1] (1 = all), or a count when > 1.
    double max_features = 1.0;
    /// Share of anomalies expected in the training data; sets threshold() to
    /// that quantile of the training scores. <= 0 means sklearn's "auto" (0.5).
    double contamination = 0;
    bool bootstrap = false;
    std::uint64_t random_state = 0;
};

/// c(n): the average path length of an unsuccessful BST search among n points.
double average_path_length(double n);

/// A trained Isolation Forest. Immutable after fit(); every const member is
/// thread-safe, so one instance (behind a shared_ptr) serves all workers.
class IsolationForest {
public:
    /// Builds the forest on `data` (trees in parallel). Errors: empty data,
    /// bad parameters, non-finite values, cancellation.
    static core::Result<IsolationForest> fit(const Matrix& data, const IsolationForestParams& params,
                                             const TrainControl& control = {});

    /// Anomaly score s(x, n) = 2^(-E(h(x)) / c(n)) in (0, 1]; higher = more anomalous.
    /// `row` must have n_features() values.
    double score(std::span<const float> row) const;
    /// Scores every row of `data` into `out` (size data.rows), using `threads` threads.
    void score_batch(const Matrix& data, std::span<double> out, unsigned threads = 0) const;
    bool is_anomaly(double s) const { return s > threshold_; }
    double threshold() const { return threshold_; }

    /// Top-k features by isolation contributed along the row's paths: each
    /// split on feature f that separates the row's branch (n_child of n_node
    /// samples) adds log2(n_node / n_child) bits, averaged over trees.
    std::vector<FeatureContribution> explain(std::span<const float> row, std::size_t k,
                                             std::span<const std::string> names = {}) const;

    std::size_t n_features() const { return n_features_; }
    std::size_t n_trees() const { return roots_.size(); }
    std::size_t node_count() const { return nodes_.size(); }
    const IsolationForestParams& params() const { return params_; }

    /// One node of the flat arrays. Internal: go left when x[feature] <= threshold.
    /// Leaf: feature == -1 and `threshold` holds its path length depth + c(size).
    struct Node {
        std::int32_t feature = -1;
        float threshold = 0;
        std::int32_t left = -1;
        std::int32_t right = -1;
        std::uint32_t size = 0;  // training samples that reached the node
    };

private:
    friend struct ModelCodec;
    void index();  // builds flat_ from nodes_ and roots_

    IsolationForestParams params_;
    std::size_t n_features_ = 0;
    double sample_size_ = 0;  // subsample size used (c(n) normaliser)
    double threshold_ = 0.5;
    std::vector<Node> nodes_;            // all trees, concatenated
    std::vector<std::int32_t> roots_;
    std::shared_ptr<const detail::FlatTrees> flat_;  // inference layout    // index of each tree's root in nodes_
};

}  // namespace sai::ml
