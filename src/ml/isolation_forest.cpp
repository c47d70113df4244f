#include "ml/isolation_forest.hpp"

#include "explain_util.hpp"
#include "flat_trees.hpp"
#include "parallel.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace sai::ml {
namespace {

// scikit-learn's tolerance for "this feature is constant in the node".
constexpr float kConstantFeature = 1e-7f;
constexpr std::size_t kBlockRows = 128;
static_assert(kBlockRows <= detail::FlatTrees::kMaxRows);
static_assert(detail::kChunkRows % kBlockRows == 0);  // a thread's chunk is whole blocks

struct Tree {
    std::vector<IsolationForest::Node> nodes;
};

Tree build_tree(const Matrix& data, std::vector<std::uint32_t> idx, const std::vector<std::size_t>& features,
                int max_depth, std::mt19937_64& rng) {
    Tree tree;
    struct Work {
        std::int32_t node;
        std::size_t begin, end;
        int depth;
    };
    std::vector<Work> stack;
    tree.nodes.push_back({});
    stack.push_back({0, 0, idx.size(), 0});
    std::vector<std::size_t> order = features;
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    while (!stack.empty()) {
        const Work w = stack.back();
        stack.pop_back();
        const std::size_t n = w.end - w.begin;
        tree.nodes[w.node].size = static_cast<std::uint32_t>(n);
        auto make_leaf = [&] {
            auto& leaf = tree.nodes[w.node];
            leaf.feature = -1;
            leaf.threshold = static_cast<float>(w.depth + average_path_length(static_cast<double>(n)));
        };
        if (n <= 1 || w.depth >= max_depth) {
            make_leaf();
            continue;
        }
        // Visit features in random order; take the first that is not constant here
        // (what sklearn's random splitter does with max_features=1).
        std::int32_t chosen = -1;
        float lo = 0, hi = 0;
        for (std::size_t k = 0; k < order.size(); ++k) {
            std::uniform_int_distribution<std::size_t> pick(k, order.size() - 1);
            std::swap(order[k], order[pick(rng)]);
            const std::size_t f = order[k];
            float mn = data.at(idx[w.begin], f), mx = mn;
            for (std::size_t i = w.begin + 1; i < w.end; ++i) {
                const float v = data.at(idx[i], f);
                mn = std::min(mn, v);
                mx = std::max(mx, v);
            }
            if (mx > mn + kConstantFeature) {
                chosen = static_cast<std::int32_t>(f);
                lo = mn;
                hi = mx;
                break;
            }
        }
        if (chosen < 0) {
            make_leaf();
            continue;
        }
        double t = lo + unit(rng) * (static_cast<double>(hi) - lo);
        float threshold = static_cast<float>(t);
        if (threshold >= hi) threshold = lo;
        auto mid = std::partition(idx.begin() + static_cast<std::ptrdiff_t>(w.begin),
                                  idx.begin() + static_cast<std::ptrdiff_t>(w.end),
                                  [&](std::uint32_t r) { return data.at(r, static_cast<std::size_t>(chosen)) <= threshold; });
        const std::size_t split = static_cast<std::size_t>(mid - idx.begin());
        const auto left = static_cast<std::int32_t>(tree.nodes.size());
        tree.nodes.push_back({});
        tree.nodes.push_back({});
        auto& node = tree.nodes[w.node];
        node.feature = chosen;
        node.threshold = threshold;
        node.left = left;
        node.right = left + 1;
        stack.push_back({left + 1, split, w.end, w.depth + 1});
        stack.push_back({left, w.begin, split, w.depth + 1});
    }
    return tree;
}

}  // namespace

double average_path_length(double n) {
    if (n <= 1) return 0.0;
    if (n <= 2) return 1.0;
    constexpr double kEuler = 0.5772156649015329;
    return 2.0 * (std::log(n - 1.0) + kEuler) - 2.0 * (n - 1.0) / n;
}

core::Result<IsolationForest> IsolationForest::fit(const Matrix& data, const IsolationForestParams& params,
                                                   const TrainControl& control) {
    using core::Errc;
    if (data.rows == 0 || data.cols == 0) {
        return core::make_error(Errc::InvalidArgument, "isolation forest: no rows or no features to train on");
    }
    if (params.n_estimators < 1 || params.n_estimators > 100000) {
        return core::make_error(Errc::InvalidArgument, "isolation forest: n_estimators must be in 1..100000");
    }
    if (!(params.max_samples > 0) || !(params.max_features > 0)) {
        return core::make_error(Errc::InvalidArgument, "isolation forest: max_samples and max_features must be > 0");
    }
    if (params.contamination > 0.5) {
        return core::make_error(Errc::InvalidArgument, "isolation forest: contamination must be in (0, 0.5] or auto");
    }
    for (float v : data.values) {
        if (!std::isfinite(v)) {
            return core::make_error(Errc::InvalidArgument, "isolation forest: data contains NaN or infinity");
        }
    }
    const std::size_t n = data.rows;
    std::size_t sample = params.max_samples <= 1.0 ? static_cast<std::size_t>(params.max_samples * static_cast<double>(n))
                                                   : static_cast<std::size_t>(params.max_samples);
    sample = std::clamp<std::size_t>(sample, 1, n);
    std::size_t n_feat = params.max_features <= 1.0
                             ? static_cast<std::size_t>(params.max_features * static_cast<double>(data.cols))
                             : static_cast<std::size_t>(params.max_features);
    n_feat = std::clamp<std::size_t>(n_feat, 1, data.cols);
    const int max_depth = static_cast<int>(std::ceil(std::log2(std::max<double>(static_cast<double>(sample), 2.0))));

    std::vector<Tree> trees(static_cast<std::size_t>(params.n_estimators));
    const bool complete = detail::parallel_for(trees.size(), control, [&](std::size_t t) {
        // One generator per tree, seeded from (random_state, tree): results do
        // not depend on the number of threads.
        std::seed_seq seq{params.random_state, static_cast<std::uint64_t>(t), std::uint64_t{0x1f0e57}};
        std::mt19937_64 rng(seq);
        std::vector<std::uint32_t> idx(sample);
        if (params.bootstrap) {
            std::uniform_int_distribution<std::uint32_t> pick(0, static_cast<std::uint32_t>(n - 1));
            for (auto& i : idx) i = pick(rng);
        } else if (sample == n) {
            std::iota(idx.begin(), idx.end(), 0u);
        } else {
            // Floyd's algorithm: `sample` distinct rows out of n.
            std::vector<std::uint32_t> chosen;
            chosen.reserve(sample);
            std::vector<bool> taken(n, false);
            for (std::size_t j = n - sample; j < n; ++j) {
                std::uniform_int_distribution<std::size_t> pick(0, j);
                std::size_t r = pick(rng);
                if (taken[r]) r = j;
                taken[r] = true;
                chosen.push_back(static_cast<std::uint32_t>(r));
            }
            idx = std::move(chosen);
        }
        std::vector<std::size_t> features(data.cols);
        std::iota(features.begin(), features.end(), std::size_t{0});
        if (n_feat < data.cols) {
            std::shuffle(features.begin(), features.end(), rng);
            features.resize(n_feat);
        }
        trees[t] = build_tree(data, std::move(idx), features, max_depth, rng);
    });
    if (!complete) {
        return core::make_error(Errc::Unavailable, "training cancelled");
    }

    IsolationForest forest;
    forest.params_ = params;
    forest.n_features_ = data.cols;
    forest.sample_size_ = static_cast<double>(sample);
    for (auto& tree : trees) {
        detail::append_tree(forest.nodes_, forest.roots_, tree.nodes);
    }
    forest.index();
    if (params.contamination > 0) {
        std::vector<double> scores(n);
        forest.score_batch(data, scores, control.threads);
        std::sort(scores.begin(), scores.end());
        // numpy.percentile's linear interpolation at 100 * (1 - contamination).
        const double pos = (1.0 - params.contamination) * static_cast<double>(n - 1);
        const auto lo = static_cast<std::size_t>(std::floor(pos));
        const std::size_t hi = std::min(lo + 1, n - 1);
        forest.threshold_ = scores[lo] + (pos - static_cast<double>(lo)) * (scores[hi] - scores[lo]);
    }
    return forest;
}

void IsolationForest::index() { flat_ = std::make_shared<const detail::FlatTrees>(detail::FlatTrees::build(nodes_, roots_)); }

double IsolationForest::score(std::span<const float> row) const {
    double sum = 0;
    flat_->for_each_leaf(row.data(), [&](std::size_t, std::uint32_t leaf) { sum += nodes_[leaf].threshold; });
    const double mean = sum / static_cast<double>(roots_.size());
    return std::exp2(-mean / average_path_length(sample_size_));
}

void IsolationForest::score_batch(const Matrix& data, std::span<double> out, unsigned threads) const {
    const double norm = average_path_length(sample_size_) * static_cast<double>(roots_.size());
    detail::parallel_chunks(data.rows, threads, [&](std::size_t begin, std::size_t end) {
        double sums[kBlockRows];
        std::uint32_t leaves[kBlockRows];
        for (std::size_t b = begin; b < end; b += kBlockRows) {
            const std::size_t m = std::min(kBlockRows, end - b);
            std::fill(sums, sums + m, 0.0);
            const float* x = data.values.data() + b * data.cols;
            for (std::size_t t = 0; t < roots_.size(); ++t) {
                flat_->leaves(t, x, data.cols, m, leaves);
                for (std::size_t r = 0; r < m; ++r) sums[r] += nodes_[leaves[r]].threshold;
            }
            for (std::size_t r = 0; r < m; ++r) out[b + r] = std::exp2(-sums[r] / norm);
        }
    });
}

std::vector<FeatureContribution> IsolationForest::explain(std::span<const float> row, std::size_t k,
                                                          std::span<const std::string> names) const {
    std::vector<double> bits(n_features_, 0.0);
    for (std::int32_t root : roots_) {
        const Node* node = &nodes_[static_cast<std::size_t>(root)];
        while (node->feature >= 0) {
            const Node* next = &nodes_[static_cast<std::size_t>(
                row[static_cast<std::size_t>(node->feature)] <= node->threshold ? node->left : node->right)];
            bits[static_cast<std::size_t>(node->feature)] +=
                std::log2(static_cast<double>(node->size) / std::max<double>(next->size, 1.0));
            node = next;
        }
    }
    for (auto& b : bits) b /= static_cast<double>(roots_.size());
    return detail::top_k(bits, k, names);
}

}  // namespace sai::ml
