// Sigma YAML -> CompiledRuleSet: documents to rules, values and modifiers to atoms,
// atoms of all rules to one Hyperscan database pair per field, and the indexes.

#include "compiled.hpp"
#include "logsource.hpp"
#include "model/event.hpp"
#include "yaml_guard.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <tuple>
#include <set>
#include <sstream>

namespace sai::detection {
namespace {

using core::Errc;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

core::Error unprocessable(std::string why) { return core::make_error(Errc::Unprocessable, std::move(why)); }

std::atomic<std::uint64_t> g_generation{1};

// The pseudo-field of keyword selections; not a name any event path maps to.
constexpr std::string_view kKeywordSlot = "\x01keywords";

// ---- values to Hyperscan expressions ----

/// A value after Sigma's wildcard parsing: literal bytes, '*' and '?'.
struct Token {
    enum class Kind : std::uint8_t { Literal, Star, One } kind;
    char c;
};

std::vector<Token> wildcard_tokens(std::string_view s, bool literal) {
    std::vector<Token> out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (literal) {
            out.push_back({Token::Kind::Literal, c});
        } else if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
            out.push_back({Token::Kind::Literal, s[++i]});
        } else if (c == '*') {
            if (out.empty() || out.back().kind != Token::Kind::Star) out.push_back({Token::Kind::Star, c});
        } else if (c == '?') {
            out.push_back({Token::Kind::One, c});
        } else {
            out.push_back({Token::Kind::Literal, c});
        }
    }
    return out;
}

/// Hyperscan expression of a wildcard value; empty optional when it matches any value.
/// `fold` lowercases the letters of caseless patterns, so that spellings differing in
/// case are one Hyperscan pattern.
std::optional<std::string> hs_expression(std::vector<Token> tokens, bool fold, bool per_line) {
    const bool lead = !tokens.empty() && tokens.front().kind == Token::Kind::Star;
    const bool trail = !tokens.empty() && tokens.back().kind == Token::Kind::Star;
    while (!tokens.empty() && tokens.front().kind == Token::Kind::Star) tokens.erase(tokens.begin());
    while (!tokens.empty() && tokens.back().kind == Token::Kind::Star) tokens.pop_back();
    if (tokens.empty() && (lead || trail)) {
        return std::nullopt;
    }
    std::string expr = lead ? "" : "^";
    static const char* kHex = "0123456789abcdef";
    for (const auto& t : tokens) {
        if (t.kind == Token::Kind::Star) {
            expr += ".*";
        } else if (t.kind == Token::Kind::One) {
            expr += '.';
        } else {
            const auto c = static_cast<unsigned char>(fold ? std::tolower(static_cast<unsigned char>(t.c)) : t.c);
            if (std::isalnum(c)) {
                expr += static_cast<char>(c);
            } else {
                expr += "\\x";
                expr += kHex[c >> 4];
                expr += kHex[c & 15];
            }
        }
    }
    if (!trail) expr += per_line ? "$" : "\\z";
    return expr;
}

std::string base64(std::string_view in) {
    static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (i < in.size()) {
        unsigned n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

/// The three encodings of `value` at byte offsets 0, 1 and 2 inside a longer base64
/// text, trimmed of the characters that depend on the unknown neighbours.
std::vector<std::string> base64_offsets(std::string_view value) {
    std::vector<std::string> out;
    for (std::size_t shift = 0; shift < 3; ++shift) {
        const std::string padded = std::string(shift, ' ') + std::string(value);
        std::string enc = base64(padded);
        const std::size_t skip = shift == 0 ? 0 : shift + 1;  // characters touched by the padding
        const std::size_t rem = padded.size() % 3;
        const std::size_t cut = rem == 0 ? 0 : rem == 1 ? 3 : 2;  // '=' and the partial character
        if (enc.size() > skip + cut) {
            out.push_back(enc.substr(skip, enc.size() - skip - cut));
        }
    }
    return out;
}

std::string utf16(std::string_view in, bool big_endian) {
    std::string out;
    out.reserve(in.size() * 2);
    for (char c : in) {
        if (big_endian) out += '\0';
        out += c;
        if (!big_endian) out += '\0';
    }
    return out;
}

/// Windows command-line flags: every '-' or '/' that starts a word, in each dash spelling.
std::vector<std::string> windash(const std::string& value) {
    static const char* kDashes[] = {"-", "/", "\xe2\x80\x93", "\xe2\x80\x94", "\xe2\x80\x95"};
    std::vector<std::size_t> at;
    for (std::size_t i = 0; i < value.size(); ++i) {
        if ((value[i] == '-' || value[i] == '/') && (i == 0 || std::isspace(static_cast<unsigned char>(value[i - 1])))) {
            at.push_back(i);
        }
    }
    if (at.empty()) return {value};
    std::vector<std::string> out;
    for (const char* dash : kDashes) {
        std::string v;
        std::size_t prev = 0;
        for (std::size_t pos : at) {
            v.append(value, prev, pos - prev);
            v += dash;
            prev = pos + 1;
        }
        v.append(value, prev);
        out.push_back(std::move(v));
    }
    return out;
}

std::optional<double> number_of(std::string_view s) {
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (r.ec != std::errc{} || r.ptr != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
    return d;
}

// ---- the set under construction ----

struct PendingPattern {
    std::uint32_t slot;
    std::string expr;
    unsigned flags;
    std::uint32_t atom;  // local to the rule until committed
    std::size_t literal_bytes = 0;  // fixed bytes the pattern needs: how selective it is
};

struct Builder {
    CompiledRuleSet::Impl& set;
    const CompileOptions& options;
    std::unordered_map<std::string, std::uint32_t> slot_by_name;

    std::uint32_t slot_of(std::string_view sigma_name) {
        const std::string key = lower(sigma_name);
        if (auto it = slot_by_name.find(key); it != slot_by_name.end()) return it->second;
        const auto slot = static_cast<std::uint32_t>(set.slot_names.size());
        set.slot_names.emplace_back(sigma_name);
        slot_by_name.emplace(key, slot);
        for (auto& path : options.mapping.candidates(sigma_name)) {
            set.path_slots.add(path, slot);
        }
        return slot;
    }
};

/// Builds one rule; nothing reaches the set unless the whole rule compiles.
struct RuleBuilder {
    Builder& b;
    std::uint32_t rule_index;
    std::vector<Atom> atoms;
    std::vector<std::pair<std::string, std::string>> cidr_ranges;
    std::vector<PendingPattern> patterns;
    std::uint32_t keyword_target = 0;
    bool uses_keywords = false;

    std::uint32_t add_atom(Atom a) {
        a.rule = rule_index;
        atoms.push_back(std::move(a));
        return static_cast<std::uint32_t>(atoms.size() - 1);
    }

    core::Result<FieldTest> field_test(const std::string& spec, const YAML::Node& node) {
        std::vector<std::string> parts;
        {
            std::size_t start = 0;
            while (true) {
                const auto bar = spec.find('|', start);
                parts.push_back(spec.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
                if (bar == std::string::npos) break;
                start = bar + 1;
            }
        }
        FieldTest test;
        test.field = parts[0].empty() ? "keywords" : parts[0];
        if (parts[0].empty()) {
            uses_keywords = true;
            test.slot = keyword_target;
        } else {
            test.slot = b.slot_of(parts[0]);
        }
        // Keywords are full-text terms: found anywhere in the message or a value.
        enum class Pos { Exact, Contains, Starts, Ends } pos = parts[0].empty() ? Pos::Contains : Pos::Exact;
        bool re = false, re_i = false, re_m = false, re_s = false, cidr = false, b64 = false, b64off = false;
        bool dash = false, cased = false, fieldref = false, exists = false;
        int wide = 0;  // 1 LE, 2 BE, 3 LE with BOM
        std::optional<Atom::Kind> compare;
        for (std::size_t i = 1; i < parts.size(); ++i) {
            const std::string m = lower(parts[i]);
            if (m == "contains") pos = Pos::Contains;
            else if (m == "startswith") pos = Pos::Starts;
            else if (m == "endswith") pos = Pos::Ends;
            else if (m == "all") test.all = true;
            else if (m == "re") re = true;
            else if (m == "i" && re) re_i = true;
            else if (m == "m" && re) re_m = true;
            else if (m == "s" && re) re_s = true;
            else if (m == "cidr") cidr = true;
            else if (m == "base64") b64 = true;
            else if (m == "base64offset") b64off = true;
            else if (m == "windash") dash = true;
            else if (m == "wide" || m == "utf16le") wide = 1;
            else if (m == "utf16be") wide = 2;
            else if (m == "utf16") wide = 3;
            else if (m == "lt") compare = Atom::Kind::Less;
            else if (m == "lte") compare = Atom::Kind::LessEq;
            else if (m == "gt") compare = Atom::Kind::Greater;
            else if (m == "gte") compare = Atom::Kind::GreaterEq;
            else if (m == "exists") exists = true;
            else if (m == "cased") cased = true;
            else if (m == "fieldref") fieldref = true;
            else if (m == "expand") {
                return unprocessable("field '" + spec + "': modifier 'expand' (placeholders) needs a site pipeline; not supported");
            } else {
                return unprocessable("field '" + spec + "': unknown modifier '" + parts[i] + "'");
            }
        }
        std::vector<YAML::Node> values;
        if (node.IsSequence()) {
            if (node.size() > b.options.max_values_per_field) {
                return unprocessable("field '" + spec + "': more than " + std::to_string(b.options.max_values_per_field) + " values");
            }
            for (const auto& v : node) values.push_back(v);
        } else {
            values.push_back(node);
        }
        if (values.empty()) {
            return unprocessable("field '" + spec + "': empty value list");
        }
        for (const auto& v : values) {
            if (!v.IsNull() && !v.IsScalar()) {
                return unprocessable("field '" + spec + "': values must be scalars");
            }
            if (v.IsNull()) {
                Atom a;
                a.kind = Atom::Kind::Null;
                a.slot = test.slot;
                test.atoms.push_back(add_atom(a));
                continue;
            }
            const std::string& text = v.Scalar();
            if (text.size() > b.options.max_value_bytes) {
                return unprocessable("field '" + spec + "': a value longer than " + std::to_string(b.options.max_value_bytes) + " bytes");
            }
            Atom a;
            a.slot = test.slot;
            if (exists) {
                const std::string t = lower(text);
                if (t != "true" && t != "false") return unprocessable("field '" + spec + "': exists needs true or false");
                a.kind = Atom::Kind::Exists;
                a.flag = t == "true";
                test.atoms.push_back(add_atom(a));
                continue;
            }
            if (compare) {
                auto n = number_of(text);
                if (!n) return unprocessable("field '" + spec + "': '" + text + "' is not a number");
                a.kind = *compare;
                a.number = *n;
                test.atoms.push_back(add_atom(a));
                continue;
            }
            if (cidr) {
                auto range = model::cidr_range(text);
                if (!range) return unprocessable("field '" + spec + "': '" + text + "' is not a CIDR range");
                a.kind = Atom::Kind::Cidr;
                a.range = static_cast<std::uint32_t>(cidr_ranges.size());
                cidr_ranges.push_back(std::move(*range));
                test.atoms.push_back(add_atom(a));
                continue;
            }
            if (fieldref) {
                a.kind = Atom::Kind::FieldRef;
                a.other_slot = b.slot_of(text);
                test.atoms.push_back(add_atom(a));
                continue;
            }
            const std::uint32_t atom = add_atom(a);
            test.atoms.push_back(atom);
            if (re) {
                unsigned flags = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
                if (re_i) flags |= HS_FLAG_CASELESS;
                if (re_m) flags |= HS_FLAG_MULTILINE;
                if (re_s) flags |= HS_FLAG_DOTALL;
                hs_database_t* db = nullptr;
                hs_compile_error_t* err = nullptr;
                if (hs_compile(text.c_str(), flags, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
                    std::string why = err != nullptr ? err->message : "unknown error";
                    hs_free_compile_error(err);
                    return unprocessable("field '" + spec + "': regular expression not supported (" + why + ")");
                }
                hs_free_database(db);
                patterns.push_back({test.slot, text, flags, atom, 1});
                continue;
            }
            std::vector<std::string> variants{text};
            const bool literal = wide != 0 || b64 || b64off;
            if (wide != 0) {
                for (auto& s : variants) s = (wide == 3 ? std::string("\xff\xfe") : std::string()) + utf16(s, wide == 2);
            }
            if (b64 || b64off) {
                std::vector<std::string> encoded;
                for (auto& s : variants) {
                    if (b64off) {
                        for (auto& e : base64_offsets(s)) encoded.push_back(std::move(e));
                    } else {
                        encoded.push_back(base64(s));
                    }
                }
                variants = std::move(encoded);
            }
            if (dash) {
                std::vector<std::string> dashed;
                for (auto& s : variants) {
                    for (auto& d : windash(s)) dashed.push_back(std::move(d));
                }
                variants = std::move(dashed);
            }
            const bool raw = cased || b64 || b64off;
            for (const auto& s : variants) {
                auto tokens = wildcard_tokens(s, literal);
                if (pos == Pos::Contains || pos == Pos::Ends) tokens.insert(tokens.begin(), {Token::Kind::Star, '*'});
                if (pos == Pos::Contains || pos == Pos::Starts) tokens.push_back({Token::Kind::Star, '*'});
                const auto fixed = static_cast<std::size_t>(std::count_if(
                    tokens.begin(), tokens.end(), [](const Token& t) { return t.kind == Token::Kind::Literal; }));
                auto expr = hs_expression(std::move(tokens), !raw, parts[0].empty());
                if (!expr) {
                    // "*" or contains '': any value of the field.
                    atoms[atom].kind = Atom::Kind::Exists;
                    atoms[atom].flag = true;
                    break;
                }
                // Keyword text is one value per line: wildcards stay within a value.
                unsigned flags = HS_FLAG_SINGLEMATCH | (parts[0].empty() ? HS_FLAG_MULTILINE : HS_FLAG_DOTALL);
                if (*expr == "^\\z" || *expr == "^$") flags |= HS_FLAG_ALLOWEMPTY;
                // Hyperscan folds ASCII case only, as Sigma's case-insensitive match does.
                if (!raw) flags |= HS_FLAG_CASELESS;
                patterns.push_back({test.slot, std::move(*expr), flags, atom, fixed});
            }
            if (atoms[atom].kind == Atom::Kind::Exists) {
                std::erase_if(patterns, [&](const PendingPattern& p) { return p.atom == atom; });
            }
        }
        test.patterns_only = std::all_of(test.atoms.begin(), test.atoms.end(),
                                         [&](std::uint32_t id) { return atoms[id].kind == Atom::Kind::Pattern; });
        return test;
    }

    core::Result<Selection> selection(const std::string& name, const YAML::Node& node) {
        Selection sel;
        sel.name = name;
        auto map_alternative = [&](const YAML::Node& map) -> core::Result<std::vector<FieldTest>> {
            std::vector<FieldTest> tests;
            for (const auto& kv : map) {
                if (!kv.first.IsScalar()) return unprocessable("selection '" + name + "': field names must be text");
                auto t = field_test(kv.first.Scalar(), kv.second);
                if (!t) return t.error();
                tests.push_back(std::move(*t));
            }
            if (tests.empty()) return unprocessable("selection '" + name + "': empty");
            return tests;
        };
        if (node.IsMap()) {
            auto alt = map_alternative(node);
            if (!alt) return alt.error();
            sel.alternatives.push_back(std::move(*alt));
        } else if (node.IsSequence()) {
            YAML::Node keywords(YAML::NodeType::Sequence);
            for (const auto& item : node) {
                if (item.IsMap()) {
                    auto alt = map_alternative(item);
                    if (!alt) return alt.error();
                    sel.alternatives.push_back(std::move(*alt));
                } else if (item.IsScalar() || item.IsNull()) {
                    keywords.push_back(item);
                } else {
                    return unprocessable("selection '" + name + "': nested lists are not Sigma");
                }
            }
            if (keywords.size() > 0) {
                auto t = field_test("", keywords);
                if (!t) return t.error();
                sel.alternatives.push_back({std::move(*t)});
            }
        } else if (node.IsScalar()) {
            auto t = field_test("", node);
            if (!t) return t.error();
            sel.alternatives.push_back({std::move(*t)});
        } else {
            return unprocessable("selection '" + name + "': expected a map, a list or a value");
        }
        if (sel.alternatives.empty()) return unprocessable("selection '" + name + "': empty");
        return sel;
    }
};

std::string scalar(const YAML::Node& n, std::string_view key) {
    const YAML::Node v = n[std::string(key)];
    return v && v.IsScalar() ? v.Scalar() : std::string();
}

/// Atom truth on an event that has none of the rule's fields.
bool atom_on_empty(const Atom& a) {
    return (a.kind == Atom::Kind::Exists && !a.flag) || a.kind == Atom::Kind::Null;
}

bool selection_on_empty(const Selection& s, const std::vector<Atom>& atoms, std::uint32_t base) {
    for (const auto& alt : s.alternatives) {
        bool all_true = true;
        for (const auto& t : alt) {
            bool v = t.all;
            for (auto id : t.atoms) {
                const bool a = atom_on_empty(atoms[id - base]);
                if (t.all ? !a : a) {
                    v = !t.all;
                    break;
                }
            }
            if (!v) {
                all_true = false;
                break;
            }
        }
        if (all_true) return true;
    }
    return false;
}

/// Kleene logic: can the rule be true when none of its patterns matched, whatever
/// its other atoms (null, exists, numbers, cidr, fieldref) say?
enum class Tri { False, Unknown, True };

Tri tri_not(Tri a) { return a == Tri::True ? Tri::False : a == Tri::False ? Tri::True : Tri::Unknown; }

Tri tri_test(const FieldTest& t, const std::vector<Atom>& atoms, std::uint32_t base) {
    Tri out = t.all ? Tri::True : Tri::False;
    for (auto id : t.atoms) {
        const Tri a = atoms[id - base].kind == Atom::Kind::Pattern ? Tri::False : Tri::Unknown;
        if (t.all) out = std::min(out, a);
        else out = std::max(out, a);
    }
    return out;
}

Tri tri_selection(const Selection& s, const std::vector<Atom>& atoms, std::uint32_t base) {
    Tri any = Tri::False;
    for (const auto& alt : s.alternatives) {
        Tri all = Tri::True;
        for (const auto& t : alt) all = std::min(all, tri_test(t, atoms, base));
        any = std::max(any, all);
    }
    return any;
}

Tri tri_condition(const ConditionNode& n, const std::vector<Tri>& sel) {
    switch (n.kind) {
        case ConditionNode::Kind::Selection: return sel[n.selection];
        case ConditionNode::Kind::Not: return tri_not(tri_condition(n.children.front(), sel));
        case ConditionNode::Kind::And: {
            Tri out = Tri::True;
            for (const auto& c : n.children) out = std::min(out, tri_condition(c, sel));
            return out;
        }
        case ConditionNode::Kind::Or: {
            Tri out = Tri::False;
            for (const auto& c : n.children) out = std::max(out, tri_condition(c, sel));
            return out;
        }
    }
    return Tri::Unknown;
}

void polarity(const ConditionNode& n, bool negated, std::vector<std::uint8_t>& seen) {
    if (n.kind == ConditionNode::Kind::Selection) {
        seen[n.selection] |= negated ? 2 : 1;
        return;
    }
    for (const auto& c : n.children) polarity(c, negated != (n.kind == ConditionNode::Kind::Not), seen);
}

/// The most selective field test of an alternative made only of pattern atoms (nullptr:
/// none), and for an `all` test its most selective atom: the alternative is false
/// unless one of the test's atoms (for `all`, that atom) matched.
struct SelectiveTest {
    const FieldTest* test = nullptr;
    std::uint32_t atom = 0;
};

SelectiveTest most_selective_test(const std::vector<FieldTest>& alternative, const std::vector<Atom>& atoms,
                                  std::uint32_t base, const std::vector<std::size_t>& selectivity) {
    SelectiveTest best;
    std::size_t best_score = 0;
    for (const auto& t : alternative) {
        bool eligible = !t.atoms.empty();
        std::size_t score = t.all ? 0 : SIZE_MAX;
        std::uint32_t pick = 0;
        for (auto id : t.atoms) {
            const auto& a = atoms[id - base];
            if (a.kind != Atom::Kind::Pattern) eligible = false;
            const auto sel = selectivity[id - base];
            if (t.all ? sel > score : sel < score) {
                score = sel;
                pick = id;
            }
        }
        if (eligible && (best.test == nullptr || score > best_score)) {
            best = {&t, pick};
            best_score = score;
        }
    }
    return best;
}

/// Marks the pattern atoms whose match makes the rule worth evaluating (Atom::trigger):
/// in each alternative of each positively used selection, the most selective field
/// test. Kept only when three-valued logic proves the rule cannot hold without one of
/// them; otherwise every pattern atom triggers.
void choose_triggers(const CompiledRule& rule, std::vector<Atom>& atoms, std::uint32_t base,
                     const std::vector<std::size_t>& selectivity) {
    std::vector<std::uint8_t> seen(rule.selections.size(), 0);
    polarity(rule.condition, false, seen);
    std::vector<bool> trigger(atoms.size(), false);
    bool ok = true;
    for (std::size_t s = 0; s < rule.selections.size() && ok; ++s) {
        if (!(seen[s] & 1)) continue;
        for (const auto& alt : rule.selections[s].alternatives) {
            const auto best = most_selective_test(alt, atoms, base, selectivity);
            if (best.test == nullptr) {
                ok = false;
                break;
            }
            if (best.test->all) {
                trigger[best.atom - base] = true;
            } else {
                for (auto id : best.test->atoms) trigger[id - base] = true;
            }
        }
    }
    if (ok) {
        // Sound only if the rule is false whenever no trigger matched.
        std::vector<Tri> tri;
        for (const auto& sel : rule.selections) {
            Tri any = Tri::False;
            for (const auto& alt : sel.alternatives) {
                Tri all = Tri::True;
                for (const auto& t : alt) {
                    Tri v = t.all ? Tri::True : Tri::False;
                    for (auto id : t.atoms) {
                        const Tri a = trigger[id - base] ? Tri::False : Tri::Unknown;
                        v = t.all ? std::min(v, a) : std::max(v, a);
                    }
                    all = std::min(all, v);
                }
                any = std::max(any, all);
            }
            tri.push_back(any);
        }
        ok = tri_condition(rule.condition, tri) == Tri::False;
    }
    for (std::size_t i = 0; i < atoms.size(); ++i) {
        atoms[i].trigger = atoms[i].kind == Atom::Kind::Pattern && (!ok || trigger[i]);
    }
}

/// The selections that `n` is false without: those joined to its root by And nodes only.
void required_selections(const ConditionNode& n, std::vector<std::size_t>& out) {
    if (n.kind == ConditionNode::Kind::Selection) {
        out.push_back(n.selection);
    } else if (n.kind == ConditionNode::Kind::And ||
               (n.kind == ConditionNode::Kind::Or && n.children.size() == 1)) {
        for (const auto& c : n.children) required_selections(c, out);
    }
}

/// Gives each selection the rule requires a mark (Selection::mark), set by a match of the
/// atoms of each alternative's most selective test: every alternative needs one of them
/// (for an `all` test, all of them), so the selection is false while the mark is unset.
/// A selection with an alternative that needs no pattern gets none. `next_mark`: the set's
/// first free mark id.
void mark_selections(CompiledRule& rule, std::vector<Atom>& atoms, std::uint32_t base,
                     const std::vector<std::size_t>& selectivity, std::uint32_t& next_mark) {
    std::vector<std::size_t> required;
    required_selections(rule.condition, required);
    for (auto s : required) {
        auto& selection = rule.selections[s];
        if (selection.mark != Atom::kNoMark || selection.alternatives.empty()) continue;
        std::vector<const FieldTest*> tests;
        for (const auto& alt : selection.alternatives) {
            tests.push_back(most_selective_test(alt, atoms, base, selectivity).test);
            if (tests.back() == nullptr) break;
        }
        if (tests.back() == nullptr) continue;
        selection.mark = next_mark++;
        for (const auto* t : tests) {
            for (auto id : t->atoms) atoms[id - base].mark = selection.mark;
        }
    }
}

std::optional<std::int64_t> timespan_ms(const std::string& text) {
    if (text.size() < 2) return std::nullopt;
    std::int64_t n = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size() - 1, n);
    if (r.ec != std::errc{} || r.ptr != text.data() + text.size() - 1 || n <= 0 || n > 100'000'000) return std::nullopt;
    switch (text.back()) {
        case 's': return n * 1000;
        case 'm': return n * 60'000;
        case 'h': return n * 3'600'000;
        case 'd': return n * 86'400'000;
        case 'w': return n * 7 * 86'400'000;
        case 'M': return n * 30 * 86'400'000;
        case 'y': return n * 365 * 86'400'000;
        default: return std::nullopt;
    }
}

struct PendingCorrelation {
    YAML::Node doc;
    std::uint32_t rule;
    std::string file;
};

void merge_into(YAML::Node target, const YAML::Node& source) {
    for (const auto& kv : source) {
        const std::string key = kv.first.Scalar();
        if (target[key] && target[key].IsMap() && kv.second.IsMap()) {
            merge_into(target[key], kv.second);
        } else if (!target[key]) {
            target[key] = YAML::Clone(kv.second);
        }
    }
}

class Compiler {
public:
    Compiler(const CompileOptions& options, LoadReport& report)
        : options_(options), report_(report), impl_(std::make_unique<CompiledRuleSet::Impl>()),
          builder_{*impl_, options, {}} {
        impl_->keyword_slot = builder_.slot_of(kKeywordSlot);
        impl_->keyword_slots[0] = impl_->keyword_slot;
        impl_->keyword_slots[1] = builder_.slot_of(std::string(kKeywordSlot) + ".windows");
        impl_->keyword_slots[2] = builder_.slot_of(std::string(kKeywordSlot) + ".other");
        impl_->channel_slot = builder_.slot_of("Channel");
        impl_->event_id_slot = builder_.slot_of("EventID");
        impl_->provider_slot = builder_.slot_of("Provider_Name");
        impl_->category_slot = builder_.slot_of("event.category");
        impl_->module_slot = builder_.slot_of("event.module");
        impl_->message_slot = builder_.slot_of("message");
    }

    void add_source(const RuleSource& source) {
        if (source.text.size() > options_.max_file_bytes) {
            ++report_.total;
            report_.failed.push_back({source.name, "", "file larger than " + std::to_string(options_.max_file_bytes) + " bytes"});
            return;
        }
        std::vector<YAML::Node> docs;
        try {
            check_yaml_terminates(source.text);
            docs = YAML::LoadAll(source.text);
        } catch (const YAML::Exception& e) {
            ++report_.total;
            report_.failed.push_back({source.name, "", std::string("YAML: ") + e.what()});
            return;
        }
        YAML::Node global;
        for (std::size_t i = 0; i < docs.size(); ++i) {
            YAML::Node doc = docs[i];
            if (!doc || doc.IsNull()) continue;
            const std::string fallback_id = source.name + "#" + std::to_string(i);
            try {
                if (!doc.IsMap()) {
                    ++report_.total;
                    report_.failed.push_back({source.name, "", "document " + std::to_string(i) + " is not a map"});
                    continue;
                }
                const std::string action = scalar(doc, "action");
                if (action == "global") {
                    global = YAML::Clone(doc);
                    global.remove("action");
                    continue;
                }
                if (action == "reset") {
                    global = YAML::Node();
                    continue;
                }
                if (global && global.IsMap()) {
                    doc = YAML::Clone(doc);
                    merge_into(doc, global);
                }
                ++report_.total;
                add_document(doc, source.name, fallback_id);
            } catch (const YAML::Exception& e) {
                report_.failed.push_back({source.name, scalar_safe(doc, "id"), std::string("YAML: ") + e.what()});
            }
        }
    }

    std::shared_ptr<const CompiledRuleSet> finish() {
        resolve_correlations();
        assign_classes();
        build_partitions();
        build_code();
        build_indexes();
        report_.compiled = impl_->rules.size() - broken_rules_.size();
        impl_->generation = g_generation.fetch_add(1);
        return std::make_shared<const CompiledRuleSet>(std::move(impl_));
    }

private:
    static std::string scalar_safe(const YAML::Node& doc, std::string_view key) {
        try {
            return doc.IsMap() ? scalar(doc, key) : std::string();
        } catch (const YAML::Exception&) {
            return {};
        }
    }

    RuleInfo info_of(const YAML::Node& doc, const std::string& file, const std::string& fallback_id) {
        RuleInfo info;
        info.id = scalar(doc, "id");
        if (info.id.empty()) info.id = scalar(doc, "name");
        if (info.id.empty()) info.id = fallback_id;
        info.title = scalar(doc, "title");
        info.level = lower(scalar(doc, "level"));
        info.status = scalar(doc, "status");
        info.description = scalar(doc, "description");
        info.file = file;
        if (const auto tags = doc["tags"]; tags && tags.IsSequence()) {
            for (const auto& t : tags) {
                if (t.IsScalar()) info.tags.push_back(t.Scalar());
            }
        }
        return info;
    }

    void fail(const std::string& file, const std::string& id, std::string reason) {
        report_.failed.push_back({file, id, std::move(reason)});
    }

    void add_document(const YAML::Node& doc, const std::string& file, const std::string& fallback_id) {
        RuleInfo info = info_of(doc, file, fallback_id);
        if (impl_->rules.size() >= options_.max_rules) {
            return fail(file, info.id, "more than " + std::to_string(options_.max_rules) + " rules");
        }
        if (impl_->by_id.count(info.id) != 0) {
            return fail(file, info.id, "duplicate rule id");
        }
        if (doc["correlation"]) {
            info.correlation = true;
            CompiledRule rule;
            rule.info = std::move(info);
            rule.name = scalar(doc, "name");
            const auto index = static_cast<std::uint32_t>(impl_->rules.size());
            impl_->by_id.emplace(rule.info.id, index);
            impl_->rules.push_back(std::move(rule));
            pending_correlations_.push_back({doc, index, file});
            return;
        }
        if (doc["filter"] && !doc["detection"]) {
            return fail(file, info.id, "Sigma filter documents are not supported");
        }
        const YAML::Node detection = doc["detection"];
        if (!detection || !detection.IsMap()) {
            return fail(file, info.id, "missing 'detection' map");
        }
        const auto index = static_cast<std::uint32_t>(impl_->rules.size());
        RuleBuilder rb{builder_, index, {}, {}};
        CompiledRule rule;
        rule.info = std::move(info);
        rule.name = scalar(doc, "name");
        if (const auto ls = doc["logsource"]; ls && ls.IsMap()) {
            rule.logsource = {lower(scalar(ls, "product")), lower(scalar(ls, "category")), lower(scalar(ls, "service"))};
        }
        const auto& product = rule.logsource.product;
        rb.keyword_target = impl_->keyword_slots[product == "windows"                              ? 1
                                                 : product.empty() || product == "securityai" ? 0
                                                                                              : 2];
        std::string condition;
        std::vector<std::string> names;
        for (const auto& kv : detection) {
            const std::string key = kv.first.Scalar();
            if (key == "condition") {
                if (kv.second.IsScalar()) {
                    condition = kv.second.Scalar();
                } else if (kv.second.IsSequence()) {
                    for (const auto& c : kv.second) {
                        condition += (condition.empty() ? "(" : " or (") + c.as<std::string>() + ")";
                    }
                }
                continue;
            }
            if (key == "timeframe") continue;
            auto sel = rb.selection(key, kv.second);
            if (!sel) return fail(file, rule.info.id, sel.error().detail);
            names.push_back(key);
            rule.selections.push_back(std::move(*sel));
        }
        if (condition.empty()) return fail(file, rule.info.id, "missing detection.condition");
        auto cond = parse_condition(condition, names);
        if (!cond) return fail(file, rule.info.id, cond.error().detail);
        rule.condition = std::move(*cond);

        // Commit: rebase the rule's atom ids onto the set.
        const auto base = static_cast<std::uint32_t>(impl_->atoms.size());
        for (auto& sel : rule.selections) {
            for (auto& alt : sel.alternatives) {
                for (auto& t : alt) {
                    for (auto& a : t.atoms) a += base;
                }
            }
        }
        rule.always_candidate = evaluate_condition(rule.condition, [&](std::size_t s) {
            return selection_on_empty(rule.selections[s], rb.atoms, base);
        });
        std::vector<Tri> tri;
        for (const auto& sel : rule.selections) tri.push_back(tri_selection(sel, rb.atoms, base));
        rule.needs_pattern = tri_condition(rule.condition, tri) == Tri::False;
        std::vector<std::size_t> selectivity(rb.atoms.size(), 0);
        for (const auto& p : rb.patterns) {
            auto& s = selectivity[p.atom];
            s = s == 0 ? p.literal_bytes : std::min(s, p.literal_bytes);
        }
        choose_triggers(rule, rb.atoms, base, selectivity);
        mark_selections(rule, rb.atoms, base, selectivity, impl_->selection_marks);
        for (auto& a : rb.atoms) {
            if (a.kind == Atom::Kind::Cidr) a.range += static_cast<std::uint32_t>(impl_->cidr_ranges.size());
            impl_->atoms.push_back(a);
        }
        for (auto& r : rb.cidr_ranges) impl_->cidr_ranges.push_back(std::move(r));
        for (auto& p : rb.patterns) {
            p.atom += base;
            pending_patterns_.push_back(std::move(p));
        }
        impl_->has_keywords = impl_->has_keywords || rb.uses_keywords;
        impl_->by_id.emplace(rule.info.id, index);
        impl_->rules.push_back(std::move(rule));
    }

    std::optional<std::uint32_t> find_base(const std::string& ref, std::uint32_t self) {
        for (std::uint32_t i = 0; i < impl_->rules.size(); ++i) {
            const auto& r = impl_->rules[i];
            if (i != self && (r.info.id == ref || r.name == ref)) return i;
        }
        return std::nullopt;
    }

    void resolve_correlations() {
        std::vector<bool> dropped(impl_->rules.size(), false);
        for (auto& pc : pending_correlations_) {
            core::Result<Correlation> c = unprocessable("correlation: not compiled");
            try {
                c = correlation(pc);
            } catch (const YAML::Exception& e) {
                c = unprocessable(std::string("correlation: YAML: ") + e.what());
            }
            if (!c) {
                fail(pc.file, impl_->rules[pc.rule].info.id, c.error().detail);
                dropped[pc.rule] = true;
                continue;
            }
            impl_->correlations.push_back(std::move(*c));
        }
        // A correlation over a failed correlation fails too.
        for (bool changed = true; changed;) {
            changed = false;
            for (auto it = impl_->correlations.begin(); it != impl_->correlations.end();) {
                const bool broken = std::any_of(it->bases.begin(), it->bases.end(), [&](auto b) { return dropped[b]; });
                if (broken) {
                    fail(impl_->rules[it->rule].info.file, impl_->rules[it->rule].info.id,
                         "correlation: a referenced correlation failed");
                    dropped[it->rule] = true;
                    it = impl_->correlations.erase(it);
                    changed = true;
                } else {
                    ++it;
                }
            }
        }
        if (std::find(dropped.begin(), dropped.end(), true) == dropped.end()) {
            finish_correlation_links();
            return;
        }
        // Remove failed correlations from the rule list, renumbering the indexes.
        std::vector<std::uint32_t> renumber(impl_->rules.size());
        std::vector<CompiledRule> kept;
        for (std::uint32_t i = 0; i < impl_->rules.size(); ++i) {
            renumber[i] = static_cast<std::uint32_t>(kept.size());
            if (!dropped[i]) kept.push_back(std::move(impl_->rules[i]));
        }
        impl_->rules = std::move(kept);
        for (auto& a : impl_->atoms) a.rule = renumber[a.rule];
        for (auto& c : impl_->correlations) {
            c.rule = renumber[c.rule];
            for (auto& b : c.bases) b = renumber[b];
        }
        impl_->by_id.clear();
        for (std::uint32_t i = 0; i < impl_->rules.size(); ++i) impl_->by_id.emplace(impl_->rules[i].info.id, i);
        finish_correlation_links();
    }

    void finish_correlation_links() {
        impl_->correlations_of_rule.assign(impl_->rules.size(), {});
        for (std::uint32_t c = 0; c < impl_->correlations.size(); ++c) {
            for (auto b : impl_->correlations[c].bases) {
                auto& list = impl_->correlations_of_rule[b];
                if (std::find(list.begin(), list.end(), c) == list.end()) list.push_back(c);
            }
        }
    }

    core::Result<Correlation> correlation(const PendingCorrelation& pc) {
        const YAML::Node c = pc.doc["correlation"];
        if (!c.IsMap()) return unprocessable("correlation: expected a map");
        Correlation out;
        out.rule = pc.rule;
        const std::string type = scalar(c, "type");
        if (type == "event_count") out.type = Correlation::Type::EventCount;
        else if (type == "value_count") out.type = Correlation::Type::ValueCount;
        else if (type == "temporal") out.type = Correlation::Type::Temporal;
        else if (type == "temporal_ordered") out.type = Correlation::Type::TemporalOrdered;
        else if (type == "new_value") out.type = Correlation::Type::NewValue;
        else return unprocessable("correlation: unknown type '" + type + "'");
        const YAML::Node rules = c["rules"];
        std::vector<std::string> refs;
        if (rules && rules.IsSequence()) {
            for (const auto& r : rules) refs.push_back(r.as<std::string>());
        } else if (rules && rules.IsScalar()) {
            refs.push_back(rules.Scalar());
        }
        if (refs.empty()) return unprocessable("correlation: 'rules' lists no rule");
        for (const auto& ref : refs) {
            auto base = find_base(ref, pc.rule);
            if (!base) return unprocessable("correlation: referenced rule '" + ref + "' not found");
            out.bases.push_back(*base);
        }
        if (const YAML::Node g = c["group-by"]; g) {
            std::vector<std::string> fields;
            if (g.IsSequence()) {
                for (const auto& f : g) fields.push_back(f.as<std::string>());
            } else if (g.IsScalar()) {
                fields.push_back(g.Scalar());
            }
            for (auto& f : fields) {
                out.group_slots.push_back(builder_.slot_of(f));
                out.group_fields.push_back(std::move(f));
            }
        }
        std::string span = scalar(c, "timespan");
        if (span.empty()) span = scalar(c, "timeframe");
        auto ms = timespan_ms(span);
        if (!ms) return unprocessable("correlation: timespan '" + span + "' is not like 30s, 5m, 1h, 7d");
        out.timespan_ms = *ms;
        const YAML::Node cond = c["condition"];
        if (out.type == Correlation::Type::NewValue) {
            const std::string field = scalar(c, "field");
            if (field.empty()) return unprocessable("correlation: new_value needs 'field'");
            out.value_slot = builder_.slot_of(field);
            out.has_value_field = true;
        } else if (out.type == Correlation::Type::Temporal || out.type == Correlation::Type::TemporalOrdered) {
            out.min = static_cast<std::int64_t>(out.bases.size());
        }
        if (cond && cond.IsMap()) {
            for (const auto& kv : cond) {
                const std::string op = kv.first.Scalar();
                if (op == "field") {
                    out.value_slot = builder_.slot_of(kv.second.Scalar());
                    out.has_value_field = true;
                    continue;
                }
                std::int64_t n = 0;
                const std::string& t = kv.second.Scalar();
                auto r = std::from_chars(t.data(), t.data() + t.size(), n);
                if (r.ec != std::errc{} || r.ptr != t.data() + t.size() || n < 0) {
                    return unprocessable("correlation: condition " + op + " needs a count");
                }
                if (op == "gte") out.min = std::max(out.min, n);
                else if (op == "gt") out.min = std::max(out.min, n + 1);
                else if (op == "lte") out.max = std::min(out.max, n);
                else if (op == "lt") out.max = std::min(out.max, n - 1);
                else if (op == "eq") { out.min = n; out.max = n; }
                else return unprocessable("correlation: unknown condition '" + op + "'");
            }
        } else if (out.type == Correlation::Type::EventCount || out.type == Correlation::Type::ValueCount) {
            return unprocessable("correlation: " + type + " needs a condition such as {gte: 10}");
        }
        if (out.type == Correlation::Type::ValueCount && !out.has_value_field) {
            return unprocessable("correlation: value_count needs condition.field");
        }
        if (out.max < out.min) return unprocessable("correlation: the condition can never hold");
        // Base detection rules feed correlations; unless asked (generate: true by any of
        // the correlations over them) they stay silent themselves. A correlation used by
        // another correlation still reports.
        const bool generate = c["generate"] && c["generate"].as<bool>();
        for (auto b : out.bases) {
            auto& base = impl_->rules[b];
            if (base.info.correlation) continue;
            base.generate_asked = base.generate_asked || generate;
            base.generate = base.generate_asked;
        }
        return out;
    }

    void compile_db(std::vector<PendingPattern*>& list, HsDatabase& target) {
        while (!list.empty()) {
            // One Hyperscan pattern per distinct (expression, flags), shared by its atoms.
            std::map<std::pair<std::string_view, unsigned>, std::vector<std::uint32_t>> distinct;
            std::vector<std::pair<std::string_view, unsigned>> order;
            for (auto* p : list) {
                auto [it, inserted] = distinct.try_emplace({p->expr, p->flags});
                if (inserted) order.push_back(it->first);
                it->second.push_back(p->atom);
            }
            std::vector<std::string> exprs;
            std::vector<const char*> cexprs;
            std::vector<unsigned> flags, ids;
            const auto first_id = static_cast<unsigned>(impl_->pattern_first.size() - 1);
            for (const auto& key : order) {
                exprs.emplace_back(key.first);
                flags.push_back(key.second);
                ids.push_back(first_id + static_cast<unsigned>(ids.size()));
            }
            for (const auto& e : exprs) cexprs.push_back(e.c_str());
            hs_compile_error_t* err = nullptr;
            hs_database_t* db = nullptr;
            if (hs_compile_multi(cexprs.data(), flags.data(), ids.data(), static_cast<unsigned>(cexprs.size()),
                                 HS_MODE_BLOCK, nullptr, &db, &err) == HS_SUCCESS) {
                for (const auto& key : order) {
                    const auto& atoms = distinct[key];
                    for (auto a : atoms) {
                        const auto& atom = impl_->atoms[a];
                        const auto candidate = atom.trigger ? atom.rule : PatternAtom::kNoCandidate;
                        impl_->pattern_atoms.push_back({a, candidate, atom.mark});
                    }
                    impl_->pattern_first.push_back(static_cast<std::uint32_t>(impl_->pattern_atoms.size()));
                    impl_->pattern_bytes += key.first.size();
                }
                target.db = db;
                target.id = impl_->databases++;
                return;
            }
            // A pattern that compiled alone failed in company (e.g. resource limits):
            // drop it, and its rules, and retry.
            const int bad = err != nullptr ? err->expression : -1;
            const std::string why = err != nullptr ? err->message : "unknown";
            hs_free_compile_error(err);
            if (bad < 0) {
                for (auto* p : list) broken_rules_.insert(impl_->atoms[p->atom].rule);
                broken_reason_ = "Hyperscan: " + why;
                return;
            }
            const auto key = order[static_cast<std::size_t>(bad)];
            for (auto a : distinct[key]) broken_rules_.insert(impl_->atoms[a].rule);
            broken_reason_ = "Hyperscan: " + why;
            const std::string expr(key.first);
            std::erase_if(list, [&](const PendingPattern* p) { return p->expr == expr && p->flags == key.second; });
        }
    }

    /// Rules in the classes of `set`.
    std::size_t rules_in(const ClassSet& set) const {
        std::size_t n = 0;
        for (std::uint32_t c = 0; c < impl_->class_rule.size(); ++c) n += has_class(set, c) ? impl_->class_size[c] : 0;
        return n;
    }

    static ClassSet unite(ClassSet a, const ClassSet& b) {
        for (std::size_t w = 0; w < a.size(); ++w) a[w] |= b[w];
        return a;
    }

    /// Merges two sets while their union is at most a fifth larger than either (e.g. Sysmon
    /// and Security process creation): little more to scan, one compile.
    void merge_similar(std::vector<ClassSet>& sets) const {
        for (bool merged = true; merged;) {
            merged = false;
            for (std::size_t i = 0; i < sets.size() && !merged; ++i) {
                for (std::size_t j = i + 1; j < sets.size() && !merged; ++j) {
                    ClassSet u = unite(sets[i], sets[j]);
                    if (rules_in(u) * 5 <= std::min(rules_in(sets[i]), rules_in(sets[j])) * 6) {
                        sets[i] = std::move(u);
                        sets.erase(sets.begin() + static_cast<std::ptrdiff_t>(j));
                        merged = true;
                    }
                }
            }
        }
    }

    /// Class sets of the partitions, fewest rules first: the classes applying to each
    /// typical source, similar sets merged (fewer databases to compile), and the classes
    /// no typical source meets (e.g. a Windows service the tables do not name).
    std::vector<ClassSet> partition_classes() const {
        const ClassSet none((impl_->class_rule.size() + 63) / 64, 0);
        std::set<std::string> products;
        for (const auto& r : impl_->rules) {
            if (!r.logsource.product.empty()) products.insert(r.logsource.product);
        }
        // Non-Windows events of any product share one partition, as do Windows events
        // that no category applies to (their channel only selects service rules).
        ClassSet other = none, windows_plain = none;
        std::vector<ClassSet> sets;
        for (const auto& source : typical_sources({products.begin(), products.end()})) {
            ClassSet set = applying_classes(*impl_, source);
            if (!source.windows) other = unite(other, set);
            else if (source.event_id < 0) windows_plain = unite(windows_plain, set);
            else sets.push_back(std::move(set));
        }
        sets.push_back(std::move(other));
        sets.push_back(std::move(windows_plain));
        merge_similar(sets);
        ClassSet rest = none;
        for (std::uint32_t c = 0; c < impl_->class_rule.size(); ++c) {
            if (std::none_of(sets.begin(), sets.end(), [&](const ClassSet& set) { return has_class(set, c); })) {
                add_class(rest, c);
            }
        }
        if (rest != none) sets.push_back(std::move(rest));
        std::stable_sort(sets.begin(), sets.end(),
                         [&](const ClassSet& a, const ClassSet& b) { return rules_in(a) < rules_in(b); });
        return sets;
    }

    void build_partitions() {
        for (auto& classes : partition_classes()) {
            Partition part;
            part.classes = std::move(classes);
            part.matchers.resize(impl_->slot_names.size());
            std::vector<std::vector<PendingPattern*>> lists(impl_->slot_names.size());
            for (auto& p : pending_patterns_) {
                if (has_class(part.classes, impl_->rules[impl_->atoms[p.atom].rule].logsource_class)) {
                    lists[p.slot].push_back(&p);
                }
            }
            for (std::size_t s = 0; s < impl_->slot_names.size(); ++s) compile_db(lists[s], part.matchers[s]);
            impl_->partitions.push_back(std::move(part));
        }
        for (auto r : broken_rules_) {
            // Keep the rule out of evaluation: its atoms may be missing from the databases.
            auto& rule = impl_->rules[r];
            fail(rule.info.file, rule.info.id, broken_reason_);
            rule.selections.clear();
            rule.condition = ConditionNode{ConditionNode::Kind::Or, 0, {}};
        }
    }

    /// Rules of equal logsource (and absence matching) share a logsource class.
    void assign_classes() {
        std::map<std::tuple<std::string, std::string, std::string, bool>, std::uint32_t> classes;
        for (std::uint32_t i = 0; i < impl_->rules.size(); ++i) {
            auto& r = impl_->rules[i];
            const auto key = std::make_tuple(r.logsource.product, r.logsource.category, r.logsource.service, r.always_candidate);
            auto [it, inserted] = classes.try_emplace(key, static_cast<std::uint32_t>(impl_->class_rule.size()));
            if (inserted) {
                impl_->class_rule.push_back(i);
                impl_->class_size.push_back(0);
            }
            r.logsource_class = it->second;
            ++impl_->class_size[it->second];
        }
    }

    /// The rules in their evaluation form (compiled.hpp, above CompiledRule); after the
    /// partitions, which clear the selections and condition of broken rules.
    void build_code() {
        auto& code = impl_->code;
        for (const auto& rule : impl_->rules) {
            impl_->rule_code.push_back(code_index());
            code.push_back(rule.logsource_class);
            code.push_back(rule.info.correlation ? 0 : 1);
            const auto marks = code.size();
            code.push_back(0);
            for (const auto& selection : rule.selections) {
                if (selection.mark != Atom::kNoMark) code.push_back(selection.mark);
            }
            code[marks] = static_cast<std::uint32_t>(code.size() - marks - 1);
            code.push_back(static_cast<std::uint32_t>(rule.selections.size()));
            const auto starts = code.size();
            code.resize(starts + rule.selections.size());
            add_code(rule.condition);
            for (std::size_t s = 0; s < rule.selections.size(); ++s) {
                code[starts + s] = code_index();
                add_code(rule.selections[s]);
            }
        }
    }

    std::uint32_t code_index() const { return static_cast<std::uint32_t>(impl_->code.size()); }

    void add_code(const Selection& selection) {
        auto& code = impl_->code;
        code.push_back(static_cast<std::uint32_t>(selection.alternatives.size()));
        for (const auto& alt : selection.alternatives) {
            const auto end_at = code.size();
            code.push_back(0);
            for (const auto& t : alt) {
                code.push_back(static_cast<std::uint32_t>(t.atoms.size()) | (t.all ? test_header::kAll : 0) |
                               (t.patterns_only ? test_header::kPatternsOnly : 0));
                code.insert(code.end(), t.atoms.begin(), t.atoms.end());
            }
            code[end_at] = code_index();
        }
    }

    void add_code(const ConditionNode& node) {
        namespace cn = condition_node;
        auto& code = impl_->code;
        switch (node.kind) {
            case ConditionNode::Kind::Selection:
                code.push_back(static_cast<std::uint32_t>(node.selection));
                return;
            case ConditionNode::Kind::Not:
                code.push_back(cn::kNot << cn::kShift);
                add_code(node.children.front());
                return;
            default: {
                code.push_back((node.kind == ConditionNode::Kind::And ? cn::kAnd : cn::kOr) << cn::kShift);
                const auto end_at = code.size();
                code.push_back(0);
                for (const auto& c : node.children) add_code(c);
                code[end_at] = code_index();
            }
        }
    }

    void build_indexes() {
        impl_->direct_rules.assign(impl_->slot_names.size(), {});
        auto add = [&](std::uint32_t slot, std::uint32_t rule) {
            auto& v = impl_->direct_rules[slot];
            if (v.empty() || v.back() != rule) v.push_back(rule);
        };
        for (const auto& a : impl_->atoms) {
            // Rules that need a pattern to match are found through their patterns only.
            if (a.kind == Atom::Kind::Pattern || broken_rules_.count(a.rule) != 0 || impl_->rules[a.rule].needs_pattern) {
                continue;
            }
            add(a.slot, a.rule);
            if (a.kind == Atom::Kind::FieldRef) add(a.other_slot, a.rule);
        }
        for (std::uint32_t i = 0; i < impl_->rules.size(); ++i) {
            if (impl_->rules[i].always_candidate && broken_rules_.count(i) == 0) impl_->always_rules.push_back(i);
        }
        impl_->counters = std::make_unique<RuleCounters[]>(impl_->rules.size());
    }

    const CompileOptions& options_;
    LoadReport& report_;
    std::unique_ptr<CompiledRuleSet::Impl> impl_;
    Builder builder_;
    std::vector<PendingPattern> pending_patterns_;
    std::vector<PendingCorrelation> pending_correlations_;
    std::set<std::uint32_t> broken_rules_;
    std::string broken_reason_;
};

}  // namespace

HsDatabase::~HsDatabase() {
    if (db != nullptr) hs_free_database(db);
}

CompiledRuleSet::CompiledRuleSet(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledRuleSet::~CompiledRuleSet() = default;

std::size_t CompiledRuleSet::size() const noexcept { return impl_->rules.size(); }
const RuleInfo& CompiledRuleSet::rule(std::size_t index) const { return impl_->rules.at(index).info; }
const RuleCounters& CompiledRuleSet::counters(std::size_t index) const {
    SAI_CHECK(index < impl_->rules.size(), "rule index out of range");
    return impl_->counters[index];
}
std::size_t CompiledRuleSet::find(std::string_view id) const noexcept {
    auto it = impl_->by_id.find(std::string(id));
    return it == impl_->by_id.end() ? npos : it->second;
}

std::size_t CompiledRuleSet::memory_bytes() const noexcept {
    std::size_t bytes = sizeof(Impl) + impl_->atoms.capacity() * sizeof(Atom) + (impl_->code.capacity() + impl_->rule_code.capacity()) * sizeof(std::uint32_t) +
                        impl_->pattern_atoms.capacity() * sizeof(PatternAtom) + impl_->pattern_first.capacity() * sizeof(std::uint32_t) + impl_->pattern_bytes +
                        impl_->rules.capacity() * (sizeof(CompiledRule) + sizeof(RuleCounters));
    for (const auto& p : impl_->partitions) {
        for (const auto& m : p.matchers) {
            std::size_t size = 0;
            if (m.db != nullptr && hs_database_size(m.db, &size) == HS_SUCCESS) bytes += size;
        }
    }
    for (const auto& r : impl_->rules) {
        bytes += r.info.title.size() + r.info.description.size() + r.info.id.size() + r.info.file.size();
        for (const auto& s : r.selections) {
            for (const auto& alt : s.alternatives) bytes += alt.size() * sizeof(FieldTest);
        }
    }
    for (const auto& [low, high] : impl_->cidr_ranges) bytes += sizeof(low) + sizeof(high) + low.size() + high.size();
    return bytes;
}

std::shared_ptr<const CompiledRuleSet> compile_rules(const std::vector<RuleSource>& sources, LoadReport& report,
                                                     const CompileOptions& options) {
    Compiler compiler(options, report);
    for (const auto& s : sources) compiler.add_source(s);
    return compiler.finish();
}

std::shared_ptr<const CompiledRuleSet> load_rule_directories(const std::vector<std::filesystem::path>& dirs,
                                                             LoadReport& report, const CompileOptions& options) {
    namespace fs = std::filesystem;
    std::vector<fs::path> files;
    for (const auto& dir : dirs) {
        std::error_code ec;
        if (fs::is_regular_file(dir, ec)) {
            files.push_back(dir);
            continue;
        }
        fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
        if (ec) {
            ++report.total;
            report.failed.push_back({dir.string(), "", "cannot read directory: " + ec.message()});
            continue;
        }
        for (; it != end; it.increment(ec)) {
            if (ec) break;
            const auto ext = it->path().extension();
            if (it->is_regular_file(ec) && (ext == ".yml" || ext == ".yaml")) files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<RuleSource> sources;
    for (const auto& f : files) {
        std::error_code ec;
        const auto size = fs::file_size(f, ec);
        if (ec || size > options.max_file_bytes) {
            ++report.total;
            report.failed.push_back({f.string(), "", ec ? "cannot read: " + ec.message() : "file too large"});
            continue;
        }
        std::ifstream in(f, std::ios::binary);
        std::ostringstream text;
        text << in.rdbuf();
        if (!in) {
            ++report.total;
            report.failed.push_back({f.string(), "", "cannot read"});
            continue;
        }
        sources.push_back({f.string(), text.str()});
    }
    return compile_rules(sources, report, options);
}

std::uint64_t rule_directories_fingerprint(const std::vector<std::filesystem::path>& dirs) {
    namespace fs = std::filesystem;
    std::vector<std::string> entries;
    for (const auto& dir : dirs) {
        std::error_code ec;
        fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
        for (; !ec && it != end; it.increment(ec)) {
            const auto ext = it->path().extension();
            if (ext != ".yml" && ext != ".yaml") continue;
            std::error_code e2;
            const auto size = it->file_size(e2);
            const auto mtime = it->last_write_time(e2).time_since_epoch().count();
            entries.push_back(it->path().string() + "|" + std::to_string(size) + "|" + std::to_string(mtime));
        }
    }
    std::sort(entries.begin(), entries.end());
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (const auto& e : entries) {
        for (unsigned char c : e) h = (h ^ c) * 1099511628211ULL;
        h = (h ^ 0xff) * 1099511628211ULL;
    }
    return h;
}

std::shared_ptr<const CompiledRuleSet> load_rules_from_yaml(std::string_view yaml, LoadReport& report,
                                                            std::string_view name, const CompileOptions& options) {
    return compile_rules({RuleSource{std::string(name), std::string(yaml)}}, report, options);
}

}  // namespace sai::detection
