#include "model/event.hpp"

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/json_text.hpp"
#include "core/time.hpp"
#include "model/json_write.hpp"
#include "model/severity.hpp"
#include "windows_event.hpp"

#include <arpa/inet.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace sai::model {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

core::Error bad(std::string_view field, std::string why) {
    return make_error(Errc::InvalidArgument, std::string(field) + ": " + why);
}

struct StrField {
    std::string_view path;
    std::string Event::*member;
};
struct IntField {
    std::string_view path;
    std::optional<std::int64_t> Event::*member;
    std::int64_t min;
    std::int64_t max;
};

constexpr std::int64_t kMaxCount = std::int64_t{1} << 53;

const StrField kStrings[] = {
    {"event.kind", &Event::kind},
    {"event.category", &Event::category},
    {"event.type", &Event::type},
    {"event.action", &Event::action},
    {"event.outcome", &Event::outcome},
    {"event.dataset", &Event::dataset},
    {"message", &Event::message},
    {"log.level", &Event::log_level},
    {"host.name", &Event::host_name},
    {"host.ip", &Event::host_ip},
    {"source.ip", &Event::source_ip},
    {"destination.ip", &Event::destination_ip},
    {"network.transport", &Event::network_transport},
    {"network.protocol", &Event::network_protocol},
    {"user.name", &Event::user_name},
    {"process.name", &Event::process_name},
    {"url.original", &Event::url_original},
    {"file.path", &Event::file_path},
    {"log.template_id", &Event::template_id},
    {"log.template", &Event::log_template},
    {"ml.threat_class", &Event::threat_class},
    {"ml.explanation", &Event::ml_explanation},
};

const IntField kInts[] = {
    {"source.port", &Event::source_port, 0, 65535},
    {"destination.port", &Event::destination_port, 0, 65535},
    {"source.bytes", &Event::source_bytes, 0, kMaxCount},
    {"destination.bytes", &Event::destination_bytes, 0, kMaxCount},
    {"network.bytes", &Event::network_bytes, 0, kMaxCount},
    {"process.pid", &Event::process_pid, 0, kMaxCount},
    {"event.duration", &Event::duration_ns, 0, kMaxCount},
};

/// The seed's flat names, and a few common spellings, for canonical paths.
std::string_view alias(std::string_view path) {
    static const std::pair<std::string_view, std::string_view> kAliases[] = {
        {"event_type", "event.action"},
        {"source_ip", "source.ip"},
        {"src_ip", "source.ip"},
        {"destination_ip", "destination.ip"},
        {"dest_ip", "destination.ip"},
        {"dst_ip", "destination.ip"},
        {"source_port", "source.port"},
        {"destination_port", "destination.port"},
        {"user", "user.name"},
        {"username", "user.name"},
        {"host", "host.name"},
        {"hostname", "host.name"},
        {"bytes_transferred", "network.bytes"},
        {"bytes", "network.bytes"},
        {"severity", "event.severity"},
        {"timestamp", "@timestamp"},
        {"protocol", "network.transport"},
        {"outcome", "event.outcome"},
        {"category", "event.category"},
        {"action", "event.action"},
    };
    for (const auto& [from, to] : kAliases) {
        if (path == from) {
            return to;
        }
    }
    return path;
}

std::optional<std::int64_t> as_integer(const bj::value& v) {
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double() &&
        std::fabs(v.get_double()) < 9.0e15) {
        return static_cast<std::int64_t>(v.get_double());
    }
    if (v.is_string()) {
        const auto& s = v.get_string();
        std::int64_t n = 0;
        const char* end = s.data() + s.size();
        auto r = std::from_chars(s.data(), end, n);
        if (r.ec == std::errc{} && r.ptr == end && !s.empty()) {
            return n;
        }
    }
    return std::nullopt;
}

std::optional<double> as_number(const bj::value& v) {
    if (v.is_double()) {
        return std::isfinite(v.get_double()) ? std::optional<double>(v.get_double()) : std::nullopt;
    }
    if (auto i = as_integer(v)) {
        return static_cast<double>(*i);
    }
    return std::nullopt;
}

/// Text of a scalar (numbers and booleans as text), for string fields that
/// clients send as numbers ("host.ip": 3232235777 is not accepted, but "process.pid": "42" is).
std::optional<std::string> as_text(const bj::value& v) {
    if (v.is_string()) {
        return std::string(v.get_string());
    }
    if (v.is_int64() || v.is_uint64() || v.is_double() || v.is_bool()) {
        return model::to_json_text(v);
    }
    return std::nullopt;
}

std::optional<std::int64_t> parse_time_ms(const bj::value& v) {
    if (v.is_string()) {
        return core::parse_rfc3339_ms(v.get_string());
    }
    if (auto n = as_number(v)) {
        // Epoch seconds or milliseconds, told apart by magnitude (seconds until year 33658).
        // Held within ±2^62 so the cast is defined; such times then fail the range check.
        constexpr double kLimit = 4.6e18;
        return static_cast<std::int64_t>(std::clamp(*n < 1e12 ? *n * 1000.0 : *n, -kLimit, kLimit));
    }
    return std::nullopt;
}

struct Mapper {
    Event& e;
    std::int64_t now_ms;
    bj::object extra;

    core::Result<void> field(std::string_view raw_path, const bj::value& v) {
        // Flat aliases name scalars: {"user": "root"}; {"user": {"name": ...}} is nested ECS.
        const std::string_view path = v.is_object() ? raw_path : alias(raw_path);
        if (v.is_null()) {
            return {};
        }
        for (const auto& f : kStrings) {
            if (f.path == path) {
                auto text = as_text(v);
                if (!text) {
                    return bad(path, "must be a string");
                }
                const std::size_t limit = path == "message" ? kMaxMessageBytes : kMaxFieldBytes;
                if (text->size() > limit) {
                    return bad(path, "longer than " + std::to_string(limit) + " bytes");
                }
                if (path == "source.ip" || path == "destination.ip" || path == "host.ip") {
                    auto ip = canonical_ip(*text);
                    if (!ip) {
                        return bad(path, "not an IP address");
                    }
                    *text = std::move(*ip);
                }
                e.*f.member = std::move(*text);
                return {};
            }
        }
        for (const auto& f : kInts) {
            if (f.path == path) {
                std::optional<std::int64_t> n = as_integer(v);
                if (path == "event.duration" && !n) {
                    if (auto d = as_number(v)) {
                        n = static_cast<std::int64_t>(*d);
                    }
                }
                if (!n || *n < f.min || *n > f.max) {
                    return bad(path, "must be an integer from " + std::to_string(f.min) + " to " + std::to_string(f.max));
                }
                e.*f.member = *n;
                return {};
            }
        }
        if (path == "id") {
            auto text = as_text(v);
            if (!text || text->empty() || text->size() > 128 || !core::is_valid_request_id(*text)) {
                return bad(path, "must be 1-128 characters of A-Z a-z 0-9 . _ : -");
            }
            e.id = std::move(*text);
            return {};
        }
        if (path == "@timestamp") {
            auto ms = parse_time_ms(v);
            if (!ms) {
                return bad(path, "must be an RFC 3339 time or epoch seconds/milliseconds");
            }
            e.timestamp = *ms;
            return {};
        }
        if (path == "duration") {
            // The seed's duration is in seconds; ECS event.duration is nanoseconds.
            auto seconds = as_number(v);
            if (!seconds || *seconds < 0 || *seconds > 9.0e6) {
                return bad(path, "must be a number of seconds");
            }
            e.duration_ns = static_cast<std::int64_t>(*seconds * 1e9);
            return {};
        }
        if (path == "event.severity") {
            if (v.is_string()) {
                auto s = parse_severity(v.get_string());
                if (!s) {
                    return bad(path, "must be 0-4 or info, low, medium, high, critical");
                }
                e.severity = static_cast<std::int64_t>(*s);
                return {};
            }
            auto n = as_integer(v);
            if (!n || *n < 0 || *n > 4) {
                return bad(path, "must be 0-4 or info, low, medium, high, critical");
            }
            e.severity = *n;
            return {};
        }
        if (path == "ml.anomaly_score" || path == "ml.confidence" || path == "risk") {
            auto n = as_number(v);
            if (!n) {
                return bad(path, "must be a number");
            }
            (path == "risk" ? e.risk : path == "ml.confidence" ? e.ml_confidence : e.anomaly_score) = *n;
            return {};
        }
        if (path == "rule.ids") {
            if (!v.is_array()) {
                return bad(path, "must be an array of strings");
            }
            for (const auto& item : v.get_array()) {
                if (!item.is_string() || item.get_string().size() > 256 || e.rule_ids.size() >= 256) {
                    return bad(path, "must be an array of strings");
                }
                e.rule_ids.emplace_back(item.get_string());
            }
            return {};
        }
        if (path == "entities") {
            if (!v.is_object() || v.get_object().size() > kMaxEntityTypes) {
                return bad(path, "must be an object of at most " + std::to_string(kMaxEntityTypes) +
                                     " arrays of strings");
            }
            for (const auto& kv : v.get_object()) {
                const std::string type(kv.key().substr(0, 64));
                if (!kv.value().is_array() || kv.value().get_array().size() > kMaxEntityValues) {
                    return bad("entities." + type, "must be an array of at most " + std::to_string(kMaxEntityValues) +
                                                       " strings");
                }
                auto& values = e.entities[type];
                for (const auto& item : kv.value().get_array()) {
                    if (!item.is_string() || item.get_string().size() > 1024) {
                        return bad("entities." + type, "must be strings of at most 1024 bytes");
                    }
                    values.emplace_back(item.get_string());
                }
            }
            return {};
        }
        if (path == "labels") {
            if (!v.is_object()) {
                return bad(path, "must be an object of strings");
            }
            for (const auto& kv : v.get_object()) {
                auto text = as_text(kv.value());
                if (!text || kv.key().size() > 128 || text->size() > 1024) {
                    return bad("labels." + std::string(kv.key().substr(0, 64)), "must be a string of at most 1024 bytes");
                }
                e.labels[std::string(kv.key())] = std::move(*text);
            }
            if (e.labels.size() > kMaxLabels) {
                return bad(path, "more than " + std::to_string(kMaxLabels) + " labels");
            }
            return {};
        }
        if (path == "event.ingested") {
            return {};  // set by the server, never by the client
        }
        if (v.is_object() && !v.get_object().empty()) {
            for (const auto& kv : v.get_object()) {
                if (auto r = field(std::string(path) + "." + std::string(kv.key()), kv.value()); !r) {
                    return r;
                }
            }
            return {};
        }
        if (path.size() > 256) {
            return bad(path.substr(0, 64), "field name longer than 256 bytes");
        }
        extra[path] = v;  // unknown: kept, never dropped
        return {};
    }
};

void put(bj::object& root, std::string_view path, bj::value v) {
    bj::object* node = &root;
    while (true) {
        const auto dot = path.find('.');
        if (dot == std::string_view::npos) {
            (*node)[path] = std::move(v);
            return;
        }
        auto& child = (*node)[path.substr(0, dot)];
        if (!child.is_object()) {
            child = bj::object();
        }
        node = &child.get_object();
        path = path.substr(dot + 1);
    }
}

}  // namespace

core::Result<Event> event_from_json(const bj::object& object, std::int64_t now_ms) {
    Event e;
    Mapper m{e, now_ms, {}};
    for (const auto& kv : object) {
        // A Windows event exported from .evtx is mapped as Winlogbeat would ship it.
        bj::object winlog;
        if (kv.key() == "Event" && kv.value().is_object() &&
            windows_event_to_winlog(kv.value().get_object(), winlog)) {
            for (const auto& w : winlog) {
                if (auto r = m.field(w.key(), w.value()); !r) {
                    return r.error();
                }
            }
            continue;
        }
        if (auto r = m.field(kv.key(), kv.value()); !r) {
            return r.error();
        }
    }
    if (!m.extra.empty()) {
        e.extra = model::to_json_text(m.extra);
        if (e.extra.size() > kMaxExtraBytes) {
            return bad("extra", "unknown fields take more than " + std::to_string(kMaxExtraBytes) + " bytes");
        }
    }
    e.ingested = now_ms;
    if (e.timestamp == 0) {
        e.timestamp = now_ms;
    }
    constexpr std::int64_t kDay = 24LL * 3600 * 1000;
    constexpr std::int64_t kYear2000 = 946'684'800'000;
    if (e.timestamp > now_ms + kDay) {
        return bad("@timestamp", "more than a day in the future");
    }
    if (e.timestamp < kYear2000) {
        return bad("@timestamp", "before the year 2000");
    }
    if (e.id.empty()) {
        e.id = core::new_uuid_v7();
    }
    return e;
}

void ensure_identity(Event& e, std::int64_t now_ms) {
    if (e.id.empty()) {
        e.id = core::new_uuid_v7();
    }
    if (e.ingested == 0) {
        e.ingested = now_ms;
    }
    if (e.timestamp == 0) {
        e.timestamp = e.ingested;
    }
}

namespace {

/// Calls `out.member(path, value)` for every member of the stored document, in
/// document order: the one layout that event_to_json and event_to_json_text share.
/// Paths have at most two parts ("event.kind"); the second-level members of a
/// group follow each other in the order of this walk.
template <class Sink>
void write_members(const Event& e, Sink& out) {
    out.member("id", std::string_view(e.id));
    out.member("@timestamp", std::string_view(core::format_rfc3339_ms(e.timestamp)));
    out.member("event.ingested", std::string_view(core::format_rfc3339_ms(e.ingested)));
    for (const auto& f : kStrings) {
        if (!(e.*f.member).empty()) {
            out.member(f.path, std::string_view(e.*f.member));
        }
    }
    for (const auto& f : kInts) {
        if (e.*f.member) {
            out.member(f.path, *(e.*f.member));
        }
    }
    if (e.severity) {
        out.member("event.severity", *e.severity);
    }
    if (e.anomaly_score) {
        out.member("ml.anomaly_score", *e.anomaly_score);
    }
    if (e.ml_confidence) {
        out.member("ml.confidence", *e.ml_confidence);
    }
    if (e.risk) {
        out.member("risk", *e.risk);
    }
    if (!e.rule_ids.empty()) {
        out.member("rule.ids", e.rule_ids);
    }
    if (!e.entities.empty()) {
        out.member("entities", e.entities);
    }
    if (!e.labels.empty()) {
        out.member("labels", e.labels);
    }
    if (!e.extra.empty()) {
        boost::system::error_code ec;
        auto parsed = bj::parse(e.extra, ec);
        if (!ec && parsed.is_object()) {
            out.member("extra", std::move(parsed.get_object()));
        }
    }
}

class ObjectSink {
public:
    template <class V>
    void member(std::string_view path, V&& v) {
        put(root_, path, to_value(std::forward<V>(v)));
    }
    bj::object take() { return std::move(root_); }

private:
    static bj::value to_value(std::string_view v) { return bj::value(v); }
    static bj::value to_value(std::int64_t v) { return bj::value(v); }
    static bj::value to_value(double v) { return bj::value(v); }
    static bj::value to_value(bj::object v) { return bj::value(std::move(v)); }
    static bj::value to_value(const std::vector<std::string>& v) { return bj::array(v.begin(), v.end()); }
    static bj::value to_value(const std::map<std::string, std::vector<std::string>>& v) {
        bj::object out;
        for (const auto& [type, values] : v) {
            out[type] = bj::array(values.begin(), values.end());
        }
        return out;
    }
    static bj::value to_value(const std::map<std::string, std::string>& v) {
        bj::object out;
        for (const auto& [k, value] : v) {
            out[k] = value;
        }
        return out;
    }

    bj::object root_;
};

/// Writes the document's text directly, the same bytes as to_json_text of
/// ObjectSink's object (key order, escapes, number forms), without building it (the writer
/// of the embedded store runs this for every event).
class TextSink {
public:
    TextSink() {
        // Room for a typical event, so that the buffers are allocated once.
        tops_.reserve(16);
        members_.reserve(32);
        body_.reserve(1024);
    }

    template <class V>
    void member(std::string_view path, const V& v) {
        const auto dot = path.find('.');
        const bool nested = dot != std::string_view::npos;
        members_.push_back({top(path.substr(0, dot), nested), body_.size(), 0});
        if (nested) {
            core::append_json_string(body_, path.substr(dot + 1));
            body_ += ':';
        }
        append_value(body_, v);
        members_.back().to = body_.size();
    }

    std::string take() const {
        std::string out;
        out.reserve(body_.size() + 16 * tops_.size() + 2);
        out += '{';
        for (std::size_t t = 0; t < tops_.size(); ++t) {
            if (t > 0) out += ',';
            core::append_json_string(out, tops_[t].key);
            out += ':';
            if (tops_[t].group) out += '{';
            bool first = true;
            for (const auto& m : members_) {
                if (m.top != t) continue;
                if (!first) out += ',';
                first = false;
                out.append(body_, m.from, m.to - m.from);
            }
            if (tops_[t].group) out += '}';
        }
        out += '}';
        return out;
    }

private:
    struct Top {
        std::string_view key;
        bool group;  // an object of second-level members
    };
    struct Member {
        std::size_t top, from, to;  // its text in body_: "key":value in a group, the value alone otherwise
    };

    /// The index of a first-level key, added in order of first use (an object
    /// keeps its members in insertion order).
    std::size_t top(std::string_view key, bool group) {
        for (std::size_t t = 0; t < tops_.size(); ++t) {
            if (tops_[t].key == key) return t;
        }
        tops_.push_back({key, group});
        return tops_.size() - 1;
    }

    static void append_value(std::string& out, std::string_view v) { core::append_json_string(out, v); }
    static void append_value(std::string& out, std::int64_t v) {
        char buf[24];
        out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    }
    static void append_value(std::string& out, double v) { core::append_json_number(out, v); }
    static void append_value(std::string& out, const bj::object& v) { out += to_json_text(v); }
    static void append_value(std::string& out, const std::vector<std::string>& v) {
        out += '[';
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (i > 0) out += ',';
            core::append_json_string(out, v[i]);
        }
        out += ']';
    }
    template <class V>
    static void append_value(std::string& out, const std::map<std::string, V>& v) {
        out += '{';
        bool first = true;
        for (const auto& [k, value] : v) {
            if (!first) out += ',';
            first = false;
            core::append_json_string(out, k);
            out += ':';
            append_value(out, value);
        }
        out += '}';
    }

    std::vector<Top> tops_;
    std::vector<Member> members_;
    std::string body_;
};

}  // namespace

bj::object event_to_json(const Event& e) {
    ObjectSink out;
    write_members(e, out);
    return out.take();
}

std::string event_to_json_text(const Event& e) {
    TextSink out;
    write_members(e, out);
    return out.take();
}

void visit_fields(const Event& e, const std::function<void(std::string_view, std::string_view)>& visit) {
    for (const auto& f : kStrings) {
        if (!(e.*f.member).empty()) {
            visit(f.path, e.*f.member);
        }
    }
    for (const auto& f : kInts) {
        if (e.*f.member) {
            visit(f.path, std::to_string(*(e.*f.member)));
        }
    }
    if (e.severity) {
        visit("event.severity", std::to_string(*e.severity));
    }
    const std::pair<std::string_view, const std::optional<double>*> doubles[] = {
        {"ml.anomaly_score", &e.anomaly_score}, {"ml.confidence", &e.ml_confidence}, {"risk", &e.risk}};
    for (const auto& [path, value] : doubles) {
        if (*value) {
            visit(path, model::to_json_text(bj::value(**value)));
        }
    }
    for (const auto& id : e.rule_ids) {
        visit("rule.ids", id);
    }
    for (const auto& [k, v] : e.labels) {
        visit("labels." + k, v);
    }
}

std::optional<std::string> canonical_ip(std::string_view text) {
    if (text.empty() || text.size() > 45) {
        return std::nullopt;
    }
    const std::string s(text);
    char out[INET6_ADDRSTRLEN];
    unsigned char buf[16];
    if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
        return std::string(inet_ntop(AF_INET, buf, out, sizeof out));
    }
    if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
        return std::string(inet_ntop(AF_INET6, buf, out, sizeof out));
    }
    return std::nullopt;
}

namespace {

bool to_bytes(std::string_view text, unsigned char (&b)[16], bool& v4) {
    const std::string s(text);
    if (inet_pton(AF_INET, s.c_str(), b + 12) == 1) {
        std::memset(b, 0, 10);
        b[10] = b[11] = 0xff;
        v4 = true;
        return true;
    }
    v4 = false;
    return inet_pton(AF_INET6, s.c_str(), b) == 1;
}

std::string hex_of(const unsigned char (&b)[16]) {
    return core::hex_encode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
}

}  // namespace

std::string ip_sort_key(std::string_view ip) {
    unsigned char b[16];
    bool v4 = false;
    if (ip.empty() || ip.size() > 45 || !to_bytes(ip, b, v4)) {
        return {};
    }
    return hex_of(b);
}

std::optional<std::pair<std::string, std::string>> cidr_range(std::string_view cidr) {
    const auto slash = cidr.find('/');
    const std::string_view addr = cidr.substr(0, slash);
    unsigned char lo[16];
    bool v4 = false;
    if (addr.empty() || addr.size() > 45 || !to_bytes(addr, lo, v4)) {
        return std::nullopt;
    }
    int prefix = v4 ? 32 : 128;
    if (slash != std::string_view::npos) {
        const auto p = cidr.substr(slash + 1);
        auto r = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (r.ec != std::errc{} || r.ptr != p.data() + p.size() || prefix < 0 || prefix > (v4 ? 32 : 128)) {
            return std::nullopt;
        }
    }
    const int bits = v4 ? prefix + 96 : prefix;
    unsigned char hi[16];
    for (int i = 0; i < 16; ++i) {
        const int keep = std::clamp(bits - 8 * i, 0, 8);
        const unsigned char mask = static_cast<unsigned char>(keep == 0 ? 0 : (0xff << (8 - keep)) & 0xff);
        lo[i] = static_cast<unsigned char>(lo[i] & mask);
        hi[i] = static_cast<unsigned char>(lo[i] | static_cast<unsigned char>(~mask));
    }
    return std::pair<std::string, std::string>{hex_of(lo), hex_of(hi)};
}

}  // namespace sai::model
