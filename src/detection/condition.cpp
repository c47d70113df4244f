#include "detection/condition.hpp"

#include <algorithm>
#include <cctype>

namespace sai::detection {
namespace {

using core::Errc;

constexpr std::size_t kMaxDepth = 64;
constexpr std::size_t kMaxTokens = 4096;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
    // Iterative '*' matching with one backtrack point: linear in practice for names.
    std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (p < pattern.size() && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

struct Parser {
    std::vector<std::string> tokens;
    std::size_t pos = 0;
    const std::vector<std::string>& names;
    std::string error;

    bool at(std::string_view word) const { return pos < tokens.size() && lower(tokens[pos]) == word; }

    core::Result<ConditionNode> fail(std::string why) {
        return core::make_error(Errc::Unprocessable, "condition: " + why);
    }

    core::Result<ConditionNode> parse_or(std::size_t depth) {
        return parse_binary(depth, "or", ConditionNode::Kind::Or);
    }

    core::Result<ConditionNode> parse_binary(std::size_t depth, std::string_view op, ConditionNode::Kind kind) {
        if (depth > kMaxDepth) {
            return fail("nested more than " + std::to_string(kMaxDepth) + " levels");
        }
        auto first = kind == ConditionNode::Kind::Or ? parse_binary(depth + 1, "and", ConditionNode::Kind::And)
                                                     : parse_not(depth + 1);
        if (!first) return first;
        if (!at(op)) return first;
        ConditionNode node{kind, 0, {std::move(*first)}};
        while (at(op)) {
            ++pos;
            auto next = kind == ConditionNode::Kind::Or ? parse_binary(depth + 1, "and", ConditionNode::Kind::And)
                                                        : parse_not(depth + 1);
            if (!next) return next;
            node.children.push_back(std::move(*next));
        }
        return node;
    }

    core::Result<ConditionNode> parse_not(std::size_t depth) {
        if (depth > kMaxDepth) {
            return fail("nested more than " + std::to_string(kMaxDepth) + " levels");
        }
        if (at("not")) {
            ++pos;
            auto inner = parse_not(depth + 1);
            if (!inner) return inner;
            return ConditionNode{ConditionNode::Kind::Not, 0, {std::move(*inner)}};
        }
        return parse_primary(depth);
    }

    core::Result<ConditionNode> parse_primary(std::size_t depth) {
        if (pos >= tokens.size()) {
            return fail("unexpected end");
        }
        const std::string tok = tokens[pos];
        if (tok == "(") {
            ++pos;
            auto inner = parse_or(depth + 1);
            if (!inner) return inner;
            if (!at(")")) {
                return fail("missing ')'");
            }
            ++pos;
            return inner;
        }
        if (tok == ")" || tok == "|") {
            return fail(tok == "|" ? "aggregations ('|') are not supported; use a correlation rule"
                                   : "unexpected ')'");
        }
        const std::string word = lower(tok);
        if ((word == "1" || word == "any" || word == "all") && pos + 1 < tokens.size() &&
            lower(tokens[pos + 1]) == "of") {
            if (pos + 2 >= tokens.size()) {
                return fail("'of' without a target");
            }
            const std::string target = tokens[pos + 2];
            pos += 3;
            ConditionNode node{word == "all" ? ConditionNode::Kind::And : ConditionNode::Kind::Or, 0, {}};
            for (std::size_t i = 0; i < names.size(); ++i) {
                const bool hit = lower(target) == "them" ? !names[i].starts_with("_") : glob_match(target, names[i]);
                if (hit) {
                    node.children.push_back(ConditionNode{ConditionNode::Kind::Selection, i, {}});
                }
            }
            if (node.children.empty()) {
                return fail("'" + target + "' matches no selection");
            }
            return node;
        }
        if (word == "and" || word == "or" || word == "of" || word == "not") {
            return fail("unexpected '" + tok + "'");
        }
        const auto it = std::find(names.begin(), names.end(), tok);
        if (it == names.end()) {
            return fail("unknown selection '" + tok + "'");
        }
        ++pos;
        return ConditionNode{ConditionNode::Kind::Selection, static_cast<std::size_t>(it - names.begin()), {}};
    }
};

}  // namespace

core::Result<ConditionNode> parse_condition(std::string_view text, const std::vector<std::string>& selections) {
    Parser p{{}, 0, selections, {}};
    std::size_t i = 0;
    while (i < text.size()) {
        const char c = text[i];
        if (std::isspace(static_cast<unsigned char>(c))) {
            ++i;
        } else if (c == '(' || c == ')' || c == '|') {
            p.tokens.emplace_back(1, c);
            ++i;
        } else {
            std::size_t j = i;
            while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])) && text[j] != '(' &&
                   text[j] != ')' && text[j] != '|') {
                ++j;
            }
            p.tokens.emplace_back(text.substr(i, j - i));
            i = j;
        }
        if (p.tokens.size() > kMaxTokens) {
            return core::make_error(Errc::Unprocessable, "condition: more than 4096 tokens");
        }
    }
    if (p.tokens.empty()) {
        return core::make_error(Errc::Unprocessable, "condition: empty");
    }
    auto node = p.parse_or(0);
    if (!node) return node;
    if (p.pos != p.tokens.size() && p.tokens[p.pos] == "|") {
        return core::make_error(Errc::Unprocessable, "condition: aggregations ('|') are not supported; use a correlation rule");
    }
    if (p.pos != p.tokens.size()) {
        return core::make_error(Errc::Unprocessable, "condition: unexpected '" + p.tokens[p.pos] + "'");
    }
    return node;
}

}  // namespace sai::detection
