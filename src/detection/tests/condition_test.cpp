#include "detection/condition.hpp"

#include <gtest/gtest.h>

namespace sai::detection {
namespace {

bool eval(std::string_view cond, const std::vector<std::string>& names, const std::vector<bool>& truth) {
    auto node = parse_condition(cond, names);
    EXPECT_TRUE(node) << cond << ": " << (node ? "" : node.error().detail);
    return evaluate_condition(*node, [&](std::size_t i) { return bool(truth[i]); });
}

TEST(ConditionTest, PrecedenceIsNotThenAndThenOr) {
    const std::vector<std::string> n{"a", "b", "c"};
    EXPECT_TRUE(eval("a or b and c", n, {true, false, false}));
    EXPECT_FALSE(eval("(a or b) and c", n, {true, false, false}));
    EXPECT_TRUE(eval("not a and b", n, {false, true, false}));
    EXPECT_FALSE(eval("not (a or b)", n, {false, true, false}));
    EXPECT_TRUE(eval("a AND NOT b", n, {true, false, false}));
}

TEST(ConditionTest, QuantifiersExpandOverMatchingSelections) {
    const std::vector<std::string> n{"selection_a", "selection_b", "filter_x", "_hidden"};
    EXPECT_TRUE(eval("1 of selection_*", n, {false, true, false, false}));
    EXPECT_FALSE(eval("all of selection_*", n, {false, true, false, false}));
    EXPECT_TRUE(eval("all of selection_* and not 1 of filter_*", n, {true, true, false, false}));
    EXPECT_TRUE(eval("all of them", n, {true, true, true, false})) << "them skips names starting with _";
    EXPECT_TRUE(eval("any of them", n, {false, false, true, false}));
}

TEST(ConditionTest, ErrorsNameTheProblem) {
    const std::vector<std::string> n{"sel"};
    EXPECT_NE(parse_condition("sel and missing", n).error().detail.find("unknown selection 'missing'"), std::string::npos);
    EXPECT_NE(parse_condition("1 of nope*", n).error().detail.find("matches no selection"), std::string::npos);
    EXPECT_NE(parse_condition("(sel", n).error().detail.find("missing ')'"), std::string::npos);
    EXPECT_NE(parse_condition("sel | count() > 5", n).error().detail.find("correlation"), std::string::npos);
    EXPECT_FALSE(parse_condition("", n));
    EXPECT_FALSE(parse_condition("sel sel", n));
    EXPECT_FALSE(parse_condition(std::string(500, '(') + "sel" + std::string(500, ')'), n)) << "depth is bounded";
}

}  // namespace
}  // namespace sai::detection
