#include "parser/log_format.hpp"

#include "text.hpp"

#include <algorithm>
#include <array>

namespace sai::parser {
namespace {

using Kind = LogFormat::Element::Kind;

// Backtracking is bounded so that a hostile line cannot make one match quadratic
// in its length times the number of fields.
constexpr std::size_t kStepBudget = 20'000;
// How far the first path may look for a field's end before an optional group (see
// field_end_before_group): the search gets there in three steps per character, so within
// this distance it cannot run out of its budget first.
constexpr std::size_t kGroupSkipLimit = 1'000;

using detail::is_space;

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

core::Error syntax_error(std::string_view spec, std::size_t at, std::string_view what) {
    return core::make_error(core::Errc::InvalidArgument, "log format at offset " + std::to_string(at) + ": " +
                                                             std::string(what) + " in '" + std::string(spec) + "'");
}

class Matcher {
public:
    Matcher(const std::vector<LogFormat::Element>& elements, std::string_view line, HeaderMatch& out)
        : elements_(elements), line_(line), out_(out) {}

    bool run() { return first_path() || step(0, 0); }

private:
    // Index of the first element at or after i that consumes input (GroupEnd consumes nothing).
    std::size_t next_consuming(std::size_t i) const {
        while (i < elements_.size() && elements_[i].kind == Kind::GroupEnd) {
            ++i;
        }
        return i;
    }

    void clear_fields(std::size_t from, std::size_t to) {
        for (std::size_t k = from; k < to; ++k) {
            if (elements_[k].kind == Kind::Field) {
                out_.values[static_cast<std::size_t>(elements_[k].field)] = {};
            }
        }
    }

    /// The path the search tries first (every field as short as possible, every optional group
    /// present), walked without recursion: when it fits the whole line it is the match, and
    /// well-formed lines take it.
    bool first_path() {
        std::size_t pos = 0;
        for (std::size_t i = 0; i < elements_.size(); ++i) {
            const auto& e = elements_[i];
            switch (e.kind) {
                case Kind::Literal:
                    if (line_.substr(pos, e.text.size()) != e.text) {
                        return false;
                    }
                    pos += e.text.size();
                    break;
                case Kind::Space: {
                    const std::size_t start = pos;
                    while (pos < line_.size() && is_space(line_[pos])) {
                        ++pos;
                    }
                    if (pos == start) {
                        return false;
                    }
                    break;
                }
                case Kind::GroupStart: {
                    // The search tries the group first; when it starts with a literal that is
                    // not here, that fails at once and the group is absent.
                    const std::size_t inside = next_consuming(i + 1);
                    if (inside < e.end && elements_[inside].kind == Kind::Literal &&
                        line_.substr(pos, elements_[inside].text.size()) != elements_[inside].text) {
                        i = e.end;
                    }
                    break;
                }
                case Kind::GroupEnd: break;
                case Kind::Field: {
                    const std::size_t end = shortest_field_end(i, pos);
                    if (end == std::string_view::npos) {
                        return false;
                    }
                    out_.values[static_cast<std::size_t>(e.field)] = line_.substr(pos, end - pos);
                    pos = end;
                    break;
                }
            }
        }
        return pos == line_.size();
    }

    /// Where the field at element i, starting at pos, ends at the earliest: before the next
    /// occurrence of the literal or space that follows it, at pos when a field or group
    /// follows, at the end of the line when it is last; npos when it cannot end.
    std::size_t shortest_field_end(std::size_t i, std::size_t pos) const {
        const std::size_t next = next_consuming(i + 1);
        if (next == elements_.size()) {
            return line_.size();
        }
        const auto& n = elements_[next];
        if (n.kind == Kind::Literal) {
            return line_.find(n.text, pos);
        }
        if (n.kind == Kind::Space) {
            pos = detail::next_space(line_, pos);
            return pos == line_.size() ? std::string_view::npos : pos;
        }
        if (n.kind == Kind::GroupStart) {
            return field_end_before_group(next, pos);
        }
        return pos;
    }

    /// A field followed by an optional group that starts with a literal ("<Component>(\[<Pid>\])?: "):
    /// the search tries each end from pos with the group present, which fails until that
    /// literal, then absent, which fails until the literal after the group. So the search's
    /// first path ends the field at whichever literal comes first (the group's on a tie), with
    /// the group present or absent (see first_path()); at pos when neither comes.
    std::size_t field_end_before_group(std::size_t group, std::size_t pos) const {
        const std::size_t group_end = elements_[group].end;
        const std::size_t inside = next_consuming(group + 1);
        const std::size_t after = next_consuming(group_end + 1);
        if (inside >= group_end || elements_[inside].kind != Kind::Literal || after == elements_.size() ||
            elements_[after].kind != Kind::Literal) {
            return pos;
        }
        const std::size_t end =
            std::min(line_.find(elements_[inside].text, pos), line_.find(elements_[after].text, pos));
        if (end == std::string_view::npos || end - pos > kGroupSkipLimit) {
            return pos;
        }
        return end;
    }

    bool step(std::size_t i, std::size_t pos) {
        if (++steps_ > kStepBudget) {
            return false;
        }
        if (i == elements_.size()) {
            return pos == line_.size();
        }
        const auto& e = elements_[i];
        switch (e.kind) {
            case Kind::Literal:
                if (line_.substr(pos, e.text.size()) != e.text) {
                    return false;
                }
                return step(i + 1, pos + e.text.size());
            case Kind::Space: {
                std::size_t end = pos;
                while (end < line_.size() && is_space(line_[end])) {
                    ++end;
                }
                return end > pos && step(i + 1, end);
            }
            case Kind::GroupEnd:
                return step(i + 1, pos);
            case Kind::GroupStart:
                if (step(i + 1, pos)) {
                    return true;
                }
                clear_fields(i, e.end);
                return step(e.end + 1, pos);
            case Kind::Field:
                return field(i, pos);
        }
        return false;
    }

    bool field(std::size_t i, std::size_t pos) {
        auto& value = out_.values[static_cast<std::size_t>(elements_[i].field)];
        const std::size_t next = next_consuming(i + 1);
        if (next == elements_.size()) {
            value = line_.substr(pos);  // the last field takes the rest of the line
            return step(next, line_.size());
        }
        const auto& n = elements_[next];
        for (std::size_t k = pos; k <= line_.size(); ++k) {
            if (n.kind == Kind::Literal) {
                k = line_.find(n.text, k);
                if (k == std::string_view::npos) {
                    return false;
                }
            } else if (n.kind == Kind::Space) {
                k = detail::next_space(line_, k);
                if (k == line_.size()) {
                    return false;
                }
            }
            value = line_.substr(pos, k - pos);
            if (step(i + 1, k)) {
                return true;
            }
            if (steps_ > kStepBudget) {
                return false;
            }
        }
        return false;
    }

    const std::vector<LogFormat::Element>& elements_;
    std::string_view line_;
    HeaderMatch& out_;
    std::size_t steps_ = 0;
};

constexpr std::array<BuiltinFormat, 27> kBuiltins{{
    {"raw", "<Content>", "the whole line is the message"},
    {"syslog", "<Component>(\\[<Pid>\\])?: <Content>",
     "syslog message part after the RFC 3164/5424 header: app[pid]: message"},
    {"syslog-file", "<Month> <Day> <Time> <Host> <Component>(\\[<Pid>\\])?: <Content>",
     "a /var/log/syslog or /var/log/messages line (RFC 3164 without <PRI>)"},
    {"auth", "<Month> <Day> <Time> <Host> <Component>(\\[<Pid>\\])?: <Content>",
     "/var/log/auth.log and /var/log/secure (sshd, sudo, PAM)"},
    {"openssh", "<Date> <Day> <Time> <Component> sshd\\[<Pid>\\]: <Content>", "OpenSSH lines as in Loghub OpenSSH"},
    {"linux", "<Month> <Date> <Time> <Level> <Component>(\\[<PID>\\])?: <Content>",
     "Linux /var/log/messages as in Loghub Linux"},
    {"apache-error", "\\[<Time>\\] \\[<Level>\\] <Content>", "Apache 2.2 error_log (Loghub Apache)"},
    {"apache24-error", "\\[<Time>\\] \\[<Module>:<Level>\\] \\[pid <Pid>(:tid <Tid>)?\\] <Content>",
     "Apache 2.4 error_log"},
    {"apache-access", "<Client> <Ident> <User> \\[<Time>\\] <Content>",
     "Apache common/combined access log; the message is the request and what follows"},
    {"nginx-access", "<Client> - <User> \\[<Time>\\] <Content>", "Nginx combined access log"},
    {"nginx-error", "<Date> <Time> \\[<Level>\\] <Pid>#<Tid>: <Content>", "Nginx error.log"},
    {"windows-cbs", "<Date> <Time>, <Level> <Component> <Content>", "Windows CBS.log (Loghub Windows)"},
    {"windows", "<Date> <Time>, <Level> <Component> <Content>", "alias of windows-cbs"},
    {"hdfs", "<Date> <Time> <Pid> <Level> <Component>: <Content>", "HDFS (Loghub HDFS)"},
    {"hadoop", "<Date> <Time> <Level> \\[<Process>\\] <Component>: <Content>", "Hadoop MapReduce (Loghub Hadoop)"},
    {"spark", "<Date> <Time> <Level> <Component>: <Content>", "Spark / log4j default layout (Loghub Spark)"},
    {"java", "<Date> <Time> <Level> <Component>: <Content>", "log4j-style Java lines, alias of spark"},
    {"zookeeper", "<Date> <Time> - <Level> \\[<Node>:<Component>@<Id>\\] - <Content>", "ZooKeeper (Loghub)"},
    {"bgl", "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
     "Blue Gene/L RAS log (Loghub BGL)"},
    {"hpc", "<LogId> <Node> <Component> <State> <Time> <Flag> <Content>", "HPC cluster log (Loghub HPC)"},
    {"thunderbird",
     "<Label> <Timestamp> <Date> <User> <Month> <Day> <Time> <Location> <Component>(\\[<PID>\\])?: <Content>",
     "Thunderbird supercomputer syslog (Loghub Thunderbird)"},
    {"healthapp", "<Time>\\|<Component>\\|<Pid>\\|<Content>", "HealthApp (Loghub)"},
    {"proxifier", "\\[<Time>\\] <Program> - <Content>", "Proxifier (Loghub)"},
    {"android", "<Date> <Time> <Pid> <Tid> <Level> <Component>: <Content>", "Android logcat threadtime (Loghub)"},
    {"mac", "<Month> <Date> <Time> <User> <Component>\\[<PID>\\]( \\(<Address>\\))?: <Content>",
     "macOS system.log (Loghub Mac)"},
    {"openstack", "<Logrecord> <Date> <Time> <Pid> <Level> <Component> \\[<ADDR>\\] <Content>",
     "OpenStack services (Loghub OpenStack)"},
    {"apache-loghub", "\\[<Time>\\] \\[<Level>\\] <Content>", "alias of apache-error"},
}};

}  // namespace

std::string_view trim_line(std::string_view line) {
    while (!line.empty() && is_space(line.front())) {
        line.remove_prefix(1);
    }
    while (!line.empty() && is_space(line.back())) {
        line.remove_suffix(1);
    }
    return line;
}

core::Result<LogFormat> LogFormat::compile(std::string_view spec, std::string name) {
    LogFormat f;
    f.name_ = name.empty() ? std::string(spec) : std::move(name);
    f.spec_ = std::string(spec);
    std::vector<std::size_t> open_groups;
    auto literal = [&f](char c) {
        if (f.elements_.empty() || f.elements_.back().kind != Kind::Literal) {
            f.elements_.push_back({Kind::Literal, {}, -1, 0});
        }
        f.elements_.back().text.push_back(c);
    };
    auto space = [&f] {
        if (f.elements_.empty() || f.elements_.back().kind != Kind::Space) {
            f.elements_.push_back({Kind::Space, {}, -1, 0});
        }
    };
    for (std::size_t i = 0; i < spec.size(); ++i) {
        const char c = spec[i];
        if (c == '<') {
            std::size_t j = i + 1;
            while (j < spec.size() && is_name_char(spec[j])) {
                ++j;
            }
            if (j == i + 1 || j >= spec.size() || spec[j] != '>') {
                return syntax_error(spec, i, "expected <FieldName>");
            }
            std::string field(spec.substr(i + 1, j - i - 1));
            if (f.field_index(field) >= 0) {
                return syntax_error(spec, i, "duplicate field <" + field + ">");
            }
            if (!f.elements_.empty() && f.elements_.back().kind == Kind::Field) {
                return syntax_error(spec, i, "two adjacent fields cannot be split");
            }
            f.fields_.push_back(field);
            f.elements_.push_back({Kind::Field, {}, static_cast<int>(f.fields_.size() - 1), 0});
            if (field == "Content") {
                f.content_ = static_cast<int>(f.fields_.size() - 1);
            }
            i = j;
        } else if (is_space(c)) {
            space();
        } else if (c == '\\') {
            if (i + 1 >= spec.size()) {
                return syntax_error(spec, i, "dangling backslash");
            }
            const char e = spec[++i];
            if (e == 's') {
                space();
                if (i + 1 < spec.size() && (spec[i + 1] == '+' || spec[i + 1] == '*')) {
                    ++i;
                }
            } else if (is_name_char(e)) {
                return syntax_error(spec, i - 1, "unsupported escape");
            } else {
                literal(e);
            }
        } else if (c == '(') {
            open_groups.push_back(f.elements_.size());
            f.elements_.push_back({Kind::GroupStart, {}, -1, 0});
        } else if (c == ')') {
            if (open_groups.empty() || i + 1 >= spec.size() || spec[i + 1] != '?') {
                return syntax_error(spec, i, "only optional groups '( ... )?' are supported");
            }
            f.elements_[open_groups.back()].end = f.elements_.size();
            open_groups.pop_back();
            f.elements_.push_back({Kind::GroupEnd, {}, -1, 0});
            ++i;
        } else if (c == '*' || c == '+' || c == '?' || c == '|' || c == '.' || c == '[' || c == ']' || c == '{' ||
                   c == '}' || c == '^' || c == '$' || c == '>') {
            return syntax_error(spec, i, std::string("unsupported regular-expression character '") + c + "'");
        } else {
            literal(c);
        }
    }
    if (!open_groups.empty()) {
        return syntax_error(spec, spec.size(), "unclosed group");
    }
    return f;
}

int LogFormat::field_index(std::string_view field) const {
    for (std::size_t i = 0; i < fields_.size(); ++i) {
        if (fields_[i] == field) {
            return static_cast<int>(i);
        }
    }
    return -1;
}

bool LogFormat::match(std::string_view line, HeaderMatch& out) const {
    line = trim_line(line);
    out.values.assign(fields_.size(), std::string_view{});
    out.content = line;
    if (!Matcher(elements_, line, out).run()) {
        out.values.assign(fields_.size(), std::string_view{});
        return false;
    }
    out.content = content_ >= 0 ? out.values[static_cast<std::size_t>(content_)] : line;
    return true;
}

std::span<const BuiltinFormat> builtin_formats() { return kBuiltins; }

const BuiltinFormat* find_builtin_format(std::string_view name) {
    for (const auto& b : kBuiltins) {
        if (b.name == name) {
            return &b;
        }
    }
    return nullptr;
}

}  // namespace sai::parser
