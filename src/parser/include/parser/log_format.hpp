#pragma once
// Header formats: how a raw log line splits into header fields and the message
// (`Content`) whose template is mined. The language is the one of the Loghub
// benchmark (logpai/logparser), compiled to a small backtracking matcher:
//
//   format   := element*
//   element  := field | space | literal | escape | group
//   field    := '<' name '>'        name: [A-Za-z0-9_]+ ; matches any text, shortest first
//                                  (the last element of the format takes the rest of the line)
//   space    := ' '+                one or more whitespace characters in the line
//   escape   := '\' char            the char itself, e.g. \[ \] \| \( \. ; \s is a space element
//   group    := '(' element* ')?'   optional part, tried present first, then absent
//   literal  := any other character, matched exactly
//
// Other regular-expression syntax (`*`, `+`, `|`, `.`, `[...]` classes, non-optional groups)
// is rejected by compile() with a message. The line is trimmed (spaces, tabs, CR, LF) and the
// whole of it must match. A field named `Content` is the message; a format without one mines
// the whole line. Example: `<Date> <Time> <Pid> <Level> <Component>: <Content>`.

#include "core/error.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sai::parser {

/// Fields of one matched header; views into the caller's line.
struct HeaderMatch {
    std::vector<std::string_view> values;  // one per LogFormat::fields(), empty when in an absent group
    std::string_view content;              // the `Content` field, or the whole line
};

/// A compiled header format. Immutable after compile(); match() is const and thread-safe.
class LogFormat {
public:
    /// Compiles a format string. InvalidArgument, with the offending offset, for bad syntax.
    static core::Result<LogFormat> compile(std::string_view spec, std::string name = {});

    /// Matches a whole (trimmed) line. False when it does not match, or when the line is so
    /// ambiguous that matching would take more than a fixed step budget.
    bool match(std::string_view line, HeaderMatch& out) const;

    const std::string& name() const { return name_; }
    const std::string& spec() const { return spec_; }
    const std::vector<std::string>& fields() const { return fields_; }
    /// Index of a field by name, or -1.
    int field_index(std::string_view field) const;

    struct Element {
        enum class Kind { Literal, Space, Field, GroupStart, GroupEnd } kind = Kind::Literal;
        std::string text;     // Literal
        int field = -1;       // Field
        std::size_t end = 0;  // GroupStart: index of its GroupEnd
    };

private:
    std::string name_;
    std::string spec_;
    std::vector<std::string> fields_;
    std::vector<Element> elements_;
    int content_ = -1;
};

/// A built-in format: a name users pass to `--format` or `[[parser.formats]]`, its format
/// string and a one-line description.
struct BuiltinFormat {
    std::string_view name;
    std::string_view spec;
    std::string_view description;
};

/// The formats compiled into the binary (syslog, auth.log, Apache, Nginx, CBS, Loghub systems...).
std::span<const BuiltinFormat> builtin_formats();

/// A built-in format by name, or nullptr.
const BuiltinFormat* find_builtin_format(std::string_view name);

/// Removes leading and trailing spaces, tabs, CR and LF.
std::string_view trim_line(std::string_view line);

}  // namespace sai::parser
