#include "ml/random_forest.hpp"

#include "explain_util.hpp"
#include "flat_trees.hpp"
#include "parallel.hpp"

#include <algorithm>
#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>

namespace sai::ml {
namespace {

/// out[r * k + c] += values[leaves[r] * k + c] for r < m, c < k. K is k when
/// known at compile time (the loop over classes unrolls), 0 otherwise.
template <std::size_t K>
void add_leaf_values_of(std::size_t k, const float* values, const std::uint32_t* leaves, std::size_t m, double* out) {
    const std::size_t n = K != 0 ? K : k;
    for (std::size_t r = 0; r < m; ++r) {
        const float* v = values + std::size_t{leaves[r]} * n;
        double* o = out + r * n;
        for (std::size_t c = 0; c < n; ++c) o[c] += v[c];
    }
}

/// The class counts of common label sets (binary, benign/suspicious/malicious,
/// NSL-KDD's five categories...) get an unrolled loop: in batch scoring this
/// sum is a sixth of the work.
void add_leaf_values(std::size_t k, const float* values, const std::uint32_t* leaves, std::size_t m, double* out) {
    switch (k) {
        case 2: return add_leaf_values_of<2>(k, values, leaves, m, out);
        case 3: return add_leaf_values_of<3>(k, values, leaves, m, out);
        case 4: return add_leaf_values_of<4>(k, values, leaves, m, out);
        case 5: return add_leaf_values_of<5>(k, values, leaves, m, out);
        default: return add_leaf_values_of<0>(k, values, leaves, m, out);
    }
}

constexpr float kConstantFeature = 1e-7f;  // sklearn's FEATURE_THRESHOLD
constexpr std::size_t kBlockRows = 64;  // rows walking a tree together (measured best of 64-512)
static_assert(kBlockRows <= detail::FlatTrees::kMaxRows);
static_assert(detail::kChunkRows % kBlockRows == 0);  // a thread's chunk is whole blocks

/// Maps a float to an unsigned key with the same order (sign-magnitude to offset binary).
std::uint32_t sortable(float v) {
    std::uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return (u & 0x80000000u) != 0 ? ~u : (u | 0x80000000u);
}

/// The float of a key's high 32 bits.
float unsortable(std::uint64_t key) {
    const auto k = static_cast<std::uint32_t>(key >> 32);
    const std::uint32_t u = (k & 0x80000000u) != 0 ? (k & 0x7FFFFFFFu) : ~k;
    float v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}

struct BuiltTree {
    std::vector<RandomForest::Node> nodes;
    std::vector<float> values;
    std::vector<double> importances;
};

/// Builds one CART tree on the bootstrap rows `idx` with weights `weight`.
class TreeBuilder {
public:
    TreeBuilder(const std::vector<float>& columns, std::size_t n_rows, std::size_t n_features,
                std::span<const std::int32_t> labels, std::size_t n_classes, const std::vector<double>& weight,
                const RandomForestParams& params, std::size_t max_features, std::mt19937_64& rng)
        : columns_(columns), n_rows_(n_rows), n_features_(n_features), labels_(labels), k_(n_classes),
          weight_(weight), params_(params), max_features_(max_features), rng_(rng) {}

    BuiltTree build(std::vector<std::uint32_t> idx) {
        BuiltTree tree;
        tree.importances.assign(n_features_, 0.0);
        struct Work {
            std::int32_t node;
            std::size_t begin, end;
            int depth;
            std::vector<std::uint64_t> constants;  // bitset: features known constant in this node
        };
        const std::size_t words = (n_features_ + 63) / 64;
        std::vector<Work> stack;
        stack.push_back({0, 0, idx.size(), 0, std::vector<std::uint64_t>(words, 0)});
        tree.nodes.push_back({});
        tree.values.resize(k_);
        std::vector<double> counts(k_);
        std::vector<std::size_t> features(n_features_);
        std::iota(features.begin(), features.end(), std::size_t{0});
        while (!stack.empty()) {
            Work w = std::move(stack.back());
            stack.pop_back();
            std::fill(counts.begin(), counts.end(), 0.0);
            for (std::size_t i = w.begin; i < w.end; ++i) counts[labels_[idx[i]]] += weight_[idx[i]];
            const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
            double sq = 0;
            for (std::size_t c = 0; c < k_; ++c) {
                tree.values[static_cast<std::size_t>(w.node) * k_ + c] = static_cast<float>(counts[c] / total);
                sq += counts[c] * counts[c];
            }
            const double impurity = 1.0 - sq / (total * total);
            const std::size_t n = w.end - w.begin;
            const auto min_leaf = static_cast<std::size_t>(params_.min_samples_leaf);
            if (n < static_cast<std::size_t>(params_.min_samples_split) || n < 2 * min_leaf ||
                (params_.max_depth > 0 && w.depth >= params_.max_depth) || impurity <= DBL_EPSILON) {
                continue;  // a leaf: feature stays -1
            }
            const Split best = find_split(idx, w.begin, w.end, features, w.constants, counts, total, sq);
            if (best.feature < 0) continue;

            // Stable, so each node's rows stay in ascending order and the
            // splitter's gathers walk every column forwards (cache friendly).
            std::size_t split = w.begin;
            spill_.clear();
            for (std::size_t i = w.begin; i < w.end; ++i) {
                const std::uint32_t r = idx[i];
                if (value(static_cast<std::size_t>(best.feature), r) <= best.threshold) {
                    idx[split++] = r;
                } else {
                    spill_.push_back(r);
                }
            }
            std::copy(spill_.begin(), spill_.end(), idx.begin() + static_cast<std::ptrdiff_t>(split));
            const auto left = static_cast<std::int32_t>(tree.nodes.size());
            tree.nodes.push_back({});
            tree.nodes.push_back({});
            tree.values.resize(tree.nodes.size() * k_);
            auto& node = tree.nodes[static_cast<std::size_t>(w.node)];
            node.feature = best.feature;
            node.threshold = best.threshold;
            node.left = left;
            node.right = left + 1;
            tree.importances[static_cast<std::size_t>(best.feature)] +=
                total * impurity - best.left_impurity_weighted - best.right_impurity_weighted;
            stack.push_back({left + 1, split, w.end, w.depth + 1, w.constants});
            stack.push_back({left, w.begin, split, w.depth + 1, std::move(w.constants)});
        }
        const double sum = std::accumulate(tree.importances.begin(), tree.importances.end(), 0.0);
        for (auto& v : tree.importances) v = sum > 0 ? v / sum : 0.0;
        return tree;
    }

private:
    struct Split {
        std::int32_t feature = -1;
        float threshold = 0;
        double left_impurity_weighted = 0;
        double right_impurity_weighted = 0;
    };

    float value(std::size_t feature, std::uint32_t row) const { return columns_[feature * n_rows_ + row]; }

    /// Groups the node's rows in sorted_ by value when there are few distinct
    /// values (at most n / 8): distinct_ gets (value key << 32 | block) sorted
    /// by value, block_weight_ / block_rows_ the blocks' class weights and row
    /// counts. False (nothing usable) when the values are too varied.
    bool aggregate(std::size_t n) {
        if (n < 64) return false;
        const std::size_t limit = std::max<std::size_t>(n / 8, 2);
        std::size_t capacity = 64;
        while (capacity < 2 * limit) capacity *= 2;
        slot_of_.assign(capacity, -1);
        slot_key_.clear();
        block_rows_.clear();
        block_weight_.clear();
        const std::size_t mask = capacity - 1;
        for (std::size_t i = 0; i < n; ++i) {
            const auto key = static_cast<std::uint32_t>(sorted_[i] >> 32);
            std::size_t h = (key * 0x9E3779B1u) & mask;
            while (slot_of_[h] >= 0 && slot_key_[static_cast<std::size_t>(slot_of_[h])] != key) h = (h + 1) & mask;
            if (slot_of_[h] < 0) {
                if (slot_key_.size() == limit) return false;
                slot_of_[h] = static_cast<std::int32_t>(slot_key_.size());
                slot_key_.push_back(key);
                block_rows_.push_back(0);
                block_weight_.resize(block_weight_.size() + k_, 0.0);
            }
            const auto slot = static_cast<std::size_t>(slot_of_[h]);
            const auto row = static_cast<std::uint32_t>(sorted_[i]);
            block_weight_[slot * k_ + static_cast<std::size_t>(labels_[row])] += weight_[row];
            ++block_rows_[slot];
        }
        distinct_.clear();
        for (std::size_t slot = 0; slot < slot_key_.size(); ++slot) {
            distinct_.push_back(std::uint64_t{slot_key_[slot]} << 32 | slot);
        }
        std::sort(distinct_.begin(), distinct_.end());
        return true;
    }

    Split find_split(const std::vector<std::uint32_t>& idx, std::size_t begin, std::size_t end,
                     std::vector<std::size_t>& features, std::vector<std::uint64_t>& constants,
                     const std::vector<double>& node_counts, double total,
                     double total_sq) {
        Split best;
        double best_proxy = -std::numeric_limits<double>::infinity();
        const std::size_t n = end - begin;
        const auto min_leaf = static_cast<std::size_t>(params_.min_samples_leaf);
        sorted_.resize(n);
        left_.assign(k_, 0.0);
        std::size_t visited = 0, non_constant = 0;
        // Draw features without replacement; constant ones count as visited but
        // are not evaluated, and at least one non-constant feature is evaluated
        // when there is one (sklearn's BestSplitter loop).
        for (std::size_t f_i = 0; f_i < n_features_; ++f_i) {
            if (visited >= max_features_ && non_constant > 0) break;
            std::uniform_int_distribution<std::size_t> pick(f_i, n_features_ - 1);
            std::swap(features[f_i], features[pick(rng_)]);
            const std::size_t f = features[f_i];
            ++visited;
            // A feature constant in an ancestor is constant here: no need to look.
            if (constants[f / 64] >> (f % 64) & 1u) continue;
            const float* column = columns_.data() + f * n_rows_;
            float lo = std::numeric_limits<float>::infinity(), hi = -lo;
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint32_t row = idx[begin + i];
                const float v = column[row];
                sorted_[i] = std::uint64_t{sortable(v)} << 32 | row;
                lo = std::min(lo, v);
                hi = std::max(hi, v);
            }
            if (hi <= lo + kConstantFeature) {  // constant here: visited, not evaluated
                constants[f / 64] |= std::uint64_t{1} << (f % 64);
                continue;
            }
            ++non_constant;

            std::fill(left_.begin(), left_.end(), 0.0);
            double wl = 0, sq_l = 0, sq_r = total_sq;
            std::size_t n_left = 0;
            // Moving weight from right to left keeps the sums of squared class
            // weights of both sides: proxy = Σl²/wl + Σr²/wr (Gini, up to constants).
            auto move_left = [&](std::size_t c, double wt) {
                const double rc = node_counts[c] - left_[c];
                sq_l += 2 * wt * left_[c] + wt * wt;
                sq_r += -2 * wt * rc + wt * wt;
                left_[c] += wt;
                wl += wt;
            };
            // A split between consecutive distinct values prev < here.
            auto consider = [&](float prev, float here) {
                if (here <= prev + kConstantFeature) return;
                if (n_left < min_leaf || n - n_left < min_leaf) return;
                const double wr = total - wl;
                if (wl <= 0 || wr <= 0) return;
                const double proxy = sq_l / wl + sq_r / wr;
                if (proxy > best_proxy) {
                    best_proxy = proxy;
                    best.feature = static_cast<std::int32_t>(f);
                    const double mid = static_cast<double>(prev) / 2.0 + static_cast<double>(here) / 2.0;
                    float t = static_cast<float>(mid);
                    if (t >= here || !std::isfinite(t)) t = prev;
                    best.threshold = t;
                    best.left_impurity_weighted = wl - sq_l / wl;
                    best.right_impurity_weighted = wr - sq_r / wr;
                }
            };
            if (aggregate(n)) {
                // Few distinct values (flags, counts, rates): scan the sorted
                // distinct values with their summed class weights. The same
                // split points as scanning every sorted row.
                for (std::size_t j = 0; j < distinct_.size(); ++j) {
                    const std::uint32_t slot = static_cast<std::uint32_t>(distinct_[j]);
                    if (j > 0) consider(unsortable(distinct_[j - 1]), unsortable(distinct_[j]));
                    for (std::size_t c = 0; c < k_; ++c) {
                        const double wt = block_weight_[slot * k_ + c];
                        if (wt != 0) move_left(c, wt);
                    }
                    n_left += block_rows_[slot];
                }
            } else {
                std::sort(sorted_.begin(), sorted_.end());  // by value, then row
                for (std::size_t p = 1; p < n; ++p) {
                    const auto row = static_cast<std::uint32_t>(sorted_[p - 1]);
                    move_left(static_cast<std::size_t>(labels_[row]), weight_[row]);
                    n_left = p;
                    consider(unsortable(sorted_[p - 1]), unsortable(sorted_[p]));
                }
            }
        }
        return best;
    }

    const std::vector<float>& columns_;
    std::size_t n_rows_;
    std::size_t n_features_;
    std::span<const std::int32_t> labels_;
    std::size_t k_;
    const std::vector<double>& weight_;
    const RandomForestParams& params_;
    std::size_t max_features_;
    std::mt19937_64& rng_;
    std::vector<std::uint64_t> sorted_;  // sortable(value) << 32 | row
    std::vector<std::int32_t> slot_of_;  // aggregate(): open-addressing table -> block
    std::vector<std::uint32_t> slot_key_;
    std::vector<std::uint32_t> block_rows_;
    std::vector<double> block_weight_;
    std::vector<std::uint64_t> distinct_;
    std::vector<double> left_;
    std::vector<std::uint32_t> spill_;
};

}  // namespace

core::Result<std::size_t> resolve_max_features(const std::string& setting, std::size_t n_features) {
    const double n = static_cast<double>(n_features);
    std::size_t result = 0;
    if (setting == "sqrt" || setting == "auto") {
        result = static_cast<std::size_t>(std::sqrt(n));
    } else if (setting == "log2") {
        result = static_cast<std::size_t>(std::log2(n));
    } else if (setting == "all" || setting == "none" || setting == "None") {
        result = n_features;
    } else {
        double v = 0;
        auto [end, ec] = std::from_chars(setting.data(), setting.data() + setting.size(), v);
        if (ec != std::errc{} || end != setting.data() + setting.size() || !(v > 0)) {
            return core::make_error(core::Errc::InvalidArgument,
                                    "max_features must be sqrt, log2, all, a fraction or a count, not '" + setting + "'");
        }
        // sklearn: a float is a fraction of the features, an int a count.
        result = setting.find('.') != std::string::npos && v <= 1.0 ? static_cast<std::size_t>(v * n)
                                                                      : static_cast<std::size_t>(v);
    }
    return std::clamp<std::size_t>(result, 1, std::max<std::size_t>(n_features, 1));
}

core::Result<RandomForest> RandomForest::fit(const Matrix& data, std::span<const std::int32_t> labels,
                                             std::vector<std::string> classes, const RandomForestParams& params,
                                             const TrainControl& control) {
    using core::Errc;
    if (data.rows == 0 || data.cols == 0) {
        return core::make_error(Errc::InvalidArgument, "random forest: no rows or no features to train on");
    }
    if (labels.size() != data.rows) {
        return core::make_error(Errc::InvalidArgument, "random forest: one label per row is needed");
    }
    if (params.n_estimators < 1 || params.n_estimators > 100000 || params.min_samples_leaf < 1 ||
        params.min_samples_split < 2 || params.max_depth < 0) {
        return core::make_error(Errc::InvalidArgument,
                                "random forest: need n_estimators in 1..100000, min_samples_leaf >= 1, "
                                "min_samples_split >= 2, max_depth >= 0");
    }
    auto max_features = resolve_max_features(params.max_features, data.cols);
    if (!max_features) return max_features.error();
    const std::size_t k = classes.size();
    std::vector<double> class_rows(k, 0.0);
    for (auto y : labels) {
        if (y < 0 || static_cast<std::size_t>(y) >= k) {
            return core::make_error(Errc::InvalidArgument, "random forest: label index out of range");
        }
        class_rows[static_cast<std::size_t>(y)] += 1;
    }
    if (std::count_if(class_rows.begin(), class_rows.end(), [](double c) { return c > 0; }) < 2) {
        return core::make_error(Errc::InvalidArgument,
                                "random forest: the labels hold a single class; a classifier needs at least two");
    }
    for (float v : data.values) {
        if (!std::isfinite(v)) {
            return core::make_error(Errc::InvalidArgument, "random forest: data contains NaN or infinity");
        }
    }
    std::vector<double> class_weight(k, 1.0);
    if (params.class_weight_balanced) {
        const double present = static_cast<double>(
            std::count_if(class_rows.begin(), class_rows.end(), [](double c) { return c > 0; }));
        for (std::size_t c = 0; c < k; ++c) {
            class_weight[c] = class_rows[c] > 0 ? static_cast<double>(data.rows) / (present * class_rows[c]) : 0.0;
        }
    }
    // Column-major copy: the splitter reads one feature of many rows at a time.
    const std::size_t n = data.rows;
    std::vector<float> columns(n * data.cols);
    for (std::size_t r = 0; r < n; ++r) {
        for (std::size_t f = 0; f < data.cols; ++f) columns[f * n + r] = data.values[r * data.cols + f];
    }

    std::vector<BuiltTree> trees(static_cast<std::size_t>(params.n_estimators));
    const bool complete = detail::parallel_for(trees.size(), control, [&](std::size_t t) {
        std::seed_seq seq{params.random_state, static_cast<std::uint64_t>(t), std::uint64_t{0x7a3d}};
        std::mt19937_64 rng(seq);
        std::vector<double> weight(n, 0.0);
        std::vector<std::uint32_t> idx;
        if (params.bootstrap) {
            std::uniform_int_distribution<std::uint32_t> pick(0, static_cast<std::uint32_t>(n - 1));
            for (std::size_t i = 0; i < n; ++i) weight[pick(rng)] += 1.0;
        } else {
            std::fill(weight.begin(), weight.end(), 1.0);
        }
        for (std::size_t i = 0; i < n; ++i) {
            weight[i] *= class_weight[static_cast<std::size_t>(labels[i])];
            if (weight[i] > 0) idx.push_back(static_cast<std::uint32_t>(i));
        }
        TreeBuilder builder(columns, n, data.cols, labels, k, weight, params, *max_features, rng);
        trees[t] = builder.build(std::move(idx));
    });
    if (!complete) {
        return core::make_error(Errc::Unavailable, "training cancelled");
    }

    RandomForest forest;
    forest.params_ = params;
    forest.n_features_ = data.cols;
    forest.classes_ = std::move(classes);
    forest.importances_.assign(data.cols, 0.0);
    for (auto& tree : trees) {
        detail::append_tree(forest.nodes_, forest.roots_, tree.nodes);
        forest.values_.insert(forest.values_.end(), tree.values.begin(), tree.values.end());
        if (tree.nodes.size() > 1) {
            for (std::size_t f = 0; f < data.cols; ++f) forest.importances_[f] += tree.importances[f];
        }
    }
    const double sum = std::accumulate(forest.importances_.begin(), forest.importances_.end(), 0.0);
    for (auto& v : forest.importances_) v = sum > 0 ? v / sum : 0.0;
    forest.index();
    return forest;
}

void RandomForest::index() { flat_ = std::make_shared<const detail::FlatTrees>(detail::FlatTrees::build(nodes_, roots_)); }

std::size_t RandomForest::predict_proba(std::span<const float> row, std::span<double> out) const {
    const std::size_t k = classes_.size();
    std::fill(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(k), 0.0);
    // Tree by tree with early exit: CART trees are too unbalanced for lockstep walks.
    for (std::size_t t = 0; t < roots_.size(); ++t) {
        const float* v = values_.data() + std::size_t{flat_->leaf(t, row.data())} * k;
        for (std::size_t c = 0; c < k; ++c) out[c] += v[c];
    }
    const double inv = 1.0 / static_cast<double>(roots_.size());
    std::size_t best = 0;
    for (std::size_t c = 0; c < k; ++c) {
        out[c] *= inv;
        if (out[c] > out[best]) best = c;
    }
    return best;
}

void RandomForest::predict_proba_batch(const Matrix& data, std::span<double> out, unsigned threads) const {
    const std::size_t k = classes_.size();
    const double inv = 1.0 / static_cast<double>(roots_.size());
    detail::parallel_chunks(data.rows, threads, [&](std::size_t begin, std::size_t end) {
        std::fill(out.begin() + static_cast<std::ptrdiff_t>(begin * k), out.begin() + static_cast<std::ptrdiff_t>(end * k),
                  0.0);
        std::uint32_t leaves[kBlockRows];
        for (std::size_t b = begin; b < end; b += kBlockRows) {
            const std::size_t m = std::min(kBlockRows, end - b);
            const float* x = data.values.data() + b * data.cols;
            double* o = out.data() + b * k;
            for (std::size_t t = 0; t < roots_.size(); ++t) {
                // Rows of a block in lockstep: independent walks overlap in the CPU.
                flat_->leaves(t, x, data.cols, m, leaves);
                add_leaf_values(k, values_.data(), leaves, m, o);
            }
        }
        for (std::size_t i = begin * k; i < end * k; ++i) out[i] *= inv;
    });
}

std::vector<FeatureContribution> RandomForest::explain(std::span<const float> row, std::size_t klass, std::size_t k,
                                                       std::span<const std::string> names) const {
    const std::size_t kc = classes_.size();
    std::vector<double> contrib(n_features_, 0.0);
    if (klass >= kc) return {};
    for (std::int32_t root : roots_) {
        std::int32_t i = root;
        while (nodes_[static_cast<std::size_t>(i)].feature >= 0) {
            const Node& node = nodes_[static_cast<std::size_t>(i)];
            const std::int32_t next = row[static_cast<std::size_t>(node.feature)] <= node.threshold ? node.left : node.right;
            contrib[static_cast<std::size_t>(node.feature)] +=
                static_cast<double>(values_[static_cast<std::size_t>(next) * kc + klass]) -
                values_[static_cast<std::size_t>(i) * kc + klass];
            i = next;
        }
    }
    for (auto& c : contrib) c /= static_cast<double>(roots_.size());
    return detail::top_k(contrib, k, names);
}

}  // namespace sai::ml
