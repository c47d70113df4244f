#pragma once
// The Sigma condition language, parsed into a small tree.
//
// Grammar (EBNF; keywords are case-insensitive, identifiers are selection names):
//   condition  = or_expr ;
//   or_expr    = and_expr { "or" and_expr } ;
//   and_expr   = not_expr { "and" not_expr } ;
//   not_expr   = "not" not_expr | primary ;
//   primary    = "(" or_expr ")" | quantifier "of" target | identifier ;
//   quantifier = "1" | "any" | "all" ;
//   target     = "them" | pattern ;           (* pattern: identifier with "*" wildcards *)
//   identifier = ( letter | digit | "_" | "-" | "." | "*" ) { ... } ;
// "them" means every selection except those whose name starts with "_".
// Precedence: not > and > or. The Sigma v1 aggregation form ("... | count() > 5")
// is rejected: use a correlation rule instead.

#include "core/error.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::detection {

/// One node of a parsed condition. Leaves name selections by index into the
/// list passed to parse_condition(); quantifiers are expanded to And/Or at parse time.
struct ConditionNode {
    enum class Kind { Selection, And, Or, Not };
    Kind kind = Kind::Selection;
    std::size_t selection = 0;  // Kind::Selection
    std::vector<ConditionNode> children;
};

/// Parses `text` against the rule's selection names. Unprocessable (with the
/// offending token) for syntax errors, unknown selections and patterns that match none.
core::Result<ConditionNode> parse_condition(std::string_view text, const std::vector<std::string>& selections);

/// Evaluates a parsed condition given the truth value of each selection.
template <class SelectionValue>
bool evaluate_condition(const ConditionNode& node, const SelectionValue& value) {
    switch (node.kind) {
        case ConditionNode::Kind::Selection:
            return value(node.selection);
        case ConditionNode::Kind::And:
            for (const auto& c : node.children) {
                if (!evaluate_condition(c, value)) return false;
            }
            return true;
        case ConditionNode::Kind::Or:
            for (const auto& c : node.children) {
                if (evaluate_condition(c, value)) return true;
            }
            return false;
        case ConditionNode::Kind::Not:
            return !evaluate_condition(node.children.front(), value);
    }
    return false;
}

}  // namespace sai::detection
