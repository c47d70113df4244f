#pragma once
// Private: the inference layout shared by both forests. Leaves loop onto
// themselves (feature 0, threshold +inf, left = self), and every internal
// node's right child is left + 1, so a step is branch-free:
// i = left + (x[feature] > threshold), and extra steps at a leaf are harmless.
// Rows of a block walk the same tree in lockstep, which hides the memory
// latency.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

namespace sai::ml::detail {

/// Appends one tree (child indices relative to its own root) to a forest's
/// concatenated node array, recording where its root lands.
template <class Node>
void append_tree(std::vector<Node>& nodes, std::vector<std::int32_t>& roots, const std::vector<Node>& tree) {
    const auto base = static_cast<std::int32_t>(nodes.size());
    roots.push_back(base);
    for (auto node : tree) {
        if (node.feature >= 0) {
            node.left += base;
            node.right += base;
        }
        nodes.push_back(node);
    }
}

struct FlatTrees {
    // Node i is (feature[i], threshold[i], left[i]): three arrays rather than
    // one of 12-byte structs, so that a step indexes each with a scaled
    // register and needs no address arithmetic.
    std::vector<std::uint32_t> feature;
    std::vector<float> threshold;
    std::vector<std::uint32_t> left;
    std::vector<std::uint32_t> roots;
    std::vector<std::uint32_t> depths;
    std::vector<std::uint32_t> group_depths;  // max depth of each kGroup trees
    static constexpr std::size_t kGroup = 8;

    /// `Node` has feature (< 0 for a leaf), threshold, left, right == left + 1.
    template <class Node>
    static FlatTrees build(const std::vector<Node>& source, const std::vector<std::int32_t>& roots) {
        FlatTrees t;
        t.feature.resize(source.size(), 0);
        t.threshold.resize(source.size(), std::numeric_limits<float>::infinity());
        t.left.resize(source.size());
        for (std::size_t i = 0; i < source.size(); ++i) {
            const auto& s = source[i];
            if (s.feature >= 0) {
                t.feature[i] = static_cast<std::uint32_t>(s.feature);
                t.threshold[i] = s.threshold;
                t.left[i] = static_cast<std::uint32_t>(s.left);
            } else {
                t.left[i] = static_cast<std::uint32_t>(i);
            }
        }
        std::vector<std::uint32_t> depth(source.size(), 0);
        for (std::size_t r = 0; r < roots.size(); ++r) {
            const std::size_t begin = static_cast<std::size_t>(roots[r]);
            const std::size_t end = r + 1 < roots.size() ? static_cast<std::size_t>(roots[r + 1]) : source.size();
            std::uint32_t max_depth = 0;
            // Children always follow their parent, so one forward pass suffices.
            for (std::size_t i = begin; i < end; ++i) {
                max_depth = std::max(max_depth, depth[i]);
                if (source[i].feature >= 0) {
                    depth[static_cast<std::size_t>(source[i].left)] = depth[i] + 1;
                    depth[static_cast<std::size_t>(source[i].right)] = depth[i] + 1;
                }
            }
            t.roots.push_back(static_cast<std::uint32_t>(begin));
            t.depths.push_back(max_depth);
        }
        for (std::size_t g = 0; g < t.roots.size(); g += kGroup) {
            const auto end = t.depths.begin() + static_cast<std::ptrdiff_t>(std::min(g + kGroup, t.roots.size()));
            t.group_depths.push_back(*std::max_element(t.depths.begin() + static_cast<std::ptrdiff_t>(g), end));
        }
        return t;
    }

    /// One row through every tree: calls fn(tree, leaf). Walks kGroup trees
    /// in lockstep (independent load chains run in parallel in the CPU) for
    /// the group's largest depth; finished trees sit on their leaf.
    template <class F>
    void for_each_leaf(const float* x, F&& fn) const {
        const std::uint32_t* fe = feature.data();
        const float* th = threshold.data();
        const std::uint32_t* le = left.data();
        const std::size_t trees = roots.size();
        for (std::size_t g = 0; g < trees; g += kGroup) {
            std::uint32_t at[kGroup];
            const std::size_t m = std::min(kGroup, trees - g);
            for (std::size_t k = 0; k < m; ++k) at[k] = roots[g + k];
            for (std::uint32_t d = group_depths[g / kGroup]; d > 0; --d) {
                for (std::size_t k = 0; k < m; ++k) {
                    const std::uint32_t i = at[k];
                    at[k] = le[i] + static_cast<std::uint32_t>(x[fe[i]] > th[i]);
                }
            }
            for (std::size_t k = 0; k < m; ++k) fn(g + k, at[k]);
        }
    }

    /// One row: stops at the leaf (which maps onto itself) rather than
    /// walking the tree's full depth, as unbalanced trees are common.
    std::uint32_t leaf(std::size_t tree, const float* x) const {
        std::uint32_t i = roots[tree];
        for (;;) {
            const std::uint32_t next = left[i] + static_cast<std::uint32_t>(x[feature[i]] > threshold[i]);
            if (next == i) return i;
            i = next;
        }
    }

    /// The most rows leaves() takes at once (its scratch lives on the stack).
    static constexpr std::size_t kMaxRows = 256;

    /// Leaves of `m` <= kMaxRows rows (row r at x + r * stride) in `tree`,
    /// into out[0..m). The rows walk in lockstep. A shallow tree (isolation
    /// trees stop at depth log2(max_samples) = 8) is walked to its full depth.
    /// In a deeper one the rows take kStepsPerPass branch-free steps at a
    /// time, and after each pass those that reached their leaf drop out of
    /// the walk (a branch-free compaction), so a row costs about its own
    /// depth, not the tree's: CART trees are unbalanced (NSL-KDD's forests
    /// have leaves at depth 10 on average under a maximum of 23).
    void leaves(std::size_t tree, const float* x, std::size_t stride, std::size_t m, std::uint32_t* out) const {
        constexpr unsigned kStepsPerPass = 4;  // fewer: more compactions; more: more idle steps at leaves
        constexpr std::uint32_t kShallow = 2 * kStepsPerPass;  // up to this depth compaction does not pay
        const std::uint32_t* fe = feature.data();
        const float* th = threshold.data();
        const std::uint32_t* le = left.data();
        if (depths[tree] <= kShallow) {
            std::fill(out, out + m, roots[tree]);
            for (std::uint32_t d = depths[tree]; d > 0; --d) {
                for (std::size_t r = 0; r < m; ++r) {
                    const std::uint32_t i = out[r];
                    out[r] = le[i] + static_cast<std::uint32_t>(x[r * stride + fe[i]] > th[i]);
                }
            }
            return;
        }
        std::uint32_t at[kMaxRows];
        std::uint32_t row[kMaxRows];
        m = std::min(m, kMaxRows);
        for (std::size_t r = 0; r < m; ++r) {
            at[r] = roots[tree];
            row[r] = static_cast<std::uint32_t>(r);
        }
        std::size_t live = m;
        while (live > 0) {
            for (unsigned s = 0; s < kStepsPerPass; ++s) {
                for (std::size_t a = 0; a < live; ++a) {
                    const std::uint32_t i = at[a];
                    at[a] = le[i] + static_cast<std::uint32_t>(x[row[a] * stride + fe[i]] > th[i]);
                }
            }
            std::size_t kept = 0;
            for (std::size_t a = 0; a < live; ++a) {
                const std::uint32_t i = at[a];
                const std::uint32_t r = row[a];
                out[r] = i;
                at[kept] = i;
                row[kept] = r;
                kept += static_cast<std::size_t>(le[i] != i);  // a leaf loops onto itself
            }
            live = kept;
        }
    }
};

}  // namespace sai::ml::detail
