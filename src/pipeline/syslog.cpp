#include "pipeline/syslog.hpp"

#include "core/ids.hpp"
#include "core/json_text.hpp"
#include "core/time.hpp"
#include "model/severity.hpp"

#include <charconv>
#include <ctime>

namespace sai::pipeline {
namespace {

using core::Errc;
using core::make_error;

constexpr std::string_view kLevels[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
constexpr std::string_view kFacilities[] = {"kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",
                                            "news",   "uucp",   "cron",   "authpriv", "ftp",  "ntp",    "audit",
                                            "alert",  "clock",  "local0", "local1", "local2", "local3", "local4",
                                            "local5", "local6", "local7"};

/// Splits off the next space-separated token.
std::string_view token(std::string_view& rest) {
    const auto sp = rest.find(' ');
    std::string_view t = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    return t;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// RFC 5424 structured data: [id name="value" ...][id2 ...] or "-".
bool parse_structured_data(std::string_view& rest, model::Event& e) {
    if (rest.starts_with("-")) {
        rest.remove_prefix(1);
        if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        return true;
    }
    while (!rest.empty() && rest.front() == '[') {
        std::size_t i = 1;
        std::string id;
        while (i < rest.size() && rest[i] != ' ' && rest[i] != ']') id += rest[i++];
        while (i < rest.size() && rest[i] != ']') {
            if (rest[i] == ' ') {
                ++i;
                continue;
            }
            std::string name;
            while (i < rest.size() && rest[i] != '=' && rest[i] != ']') name += rest[i++];
            if (i + 1 >= rest.size() || rest[i] != '=' || rest[i + 1] != '"') return false;
            i += 2;
            std::string value;
            while (i < rest.size() && rest[i] != '"') {
                if (rest[i] == '\\' && i + 1 < rest.size()) ++i;  // \" \\ \]
                value += rest[i++];
            }
            if (i >= rest.size()) return false;
            ++i;  // closing quote
            if (e.labels.size() < model::kMaxLabels && name.size() <= 64 && id.size() <= 64) {
                e.labels["sd." + id + "." + name] = sanitize_utf8(value.substr(0, 1024));
            }
        }
        if (i >= rest.size()) return false;
        rest.remove_prefix(i + 1);
    }
    if (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return true;
}

// "Nov  3 14:05:06" with no year: the most recent such time not more than a day ahead.
std::optional<std::int64_t> bsd_time(std::string_view t, std::int64_t now_ms) {
    static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (t.size() != 15 || t[3] != ' ' || t[6] != ' ' || t[9] != ':' || t[12] != ':') return std::nullopt;
    int month = -1;
    for (int m = 0; m < 12; ++m) {
        if (t.substr(0, 3) == kMonths[m]) month = m;
    }
    auto num = [&](std::size_t pos, std::size_t len, int& out) {
        std::string_view s = t.substr(pos, len);
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        return std::from_chars(s.data(), s.data() + s.size(), out).ec == std::errc{};
    };
    int day, h, mi, sec;
    if (month < 0 || !num(4, 2, day) || !num(7, 2, h) || !num(10, 2, mi) || !num(13, 2, sec)) return std::nullopt;
    std::time_t now_s = static_cast<std::time_t>(now_ms / 1000);
    std::tm now_tm{};
    gmtime_r(&now_s, &now_tm);
    for (int year = now_tm.tm_year + 1900; year >= now_tm.tm_year + 1899; --year) {
        std::tm tm{};
        tm.tm_year = year - 1900;
        tm.tm_mon = month;
        tm.tm_mday = day;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        const std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
        if (ms <= now_ms + 24 * 3600 * 1000LL) return ms;
    }
    return std::nullopt;
}

}  // namespace

std::string sanitize_utf8(std::string_view text) { return core::sanitize_utf8(text); }

core::Result<model::Event> parse_syslog(std::string_view msg, std::int64_t now_ms, std::string_view peer,
                                        SyslogSource source) {
    if (msg.size() > kMaxSyslogMessage) {
        return make_error(Errc::InvalidArgument, "syslog message longer than 64 KiB");
    }
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r' || msg.back() == '\0')) msg.remove_suffix(1);
    model::Event e;
    std::size_t header = 0;  // where the part after <PRI> starts
    if (!msg.empty() && msg[0] == '<') {
        const auto close = msg.find('>');
        int pri = -1;
        if (close == std::string_view::npos || close < 2 || close > 4 || !all_digits(msg.substr(1, close - 1)) ||
            std::from_chars(msg.data() + 1, msg.data() + close, pri).ec != std::errc{} || pri > 191) {
            return make_error(Errc::InvalidArgument, "not syslog: malformed <PRI>");
        }
        const int severity = pri & 7;
        e.severity = static_cast<std::int64_t>(model::severity_from_syslog(severity));
        e.log_level = std::string(kLevels[severity]);
        e.labels["syslog.facility"] = std::string(kFacilities[pri >> 3]);
        header = close + 1;
    } else if (source == SyslogSource::Network || msg.empty()) {
        return make_error(Errc::InvalidArgument, "not syslog: missing <PRI>");
    }
    e.id = core::new_uuid_v7();
    e.dataset = "syslog";
    e.kind = "event";
    e.ingested = now_ms;
    e.timestamp = now_ms;
    if (!peer.empty()) {
        if (auto ip = model::canonical_ip(peer)) e.labels["syslog.peer"] = *ip;
    }
    std::string_view rest = msg.substr(header);
    if (rest.size() >= 2 && rest[0] == '1' && rest[1] == ' ') {
        // RFC 5424
        rest.remove_prefix(2);
        const auto ts = token(rest);
        const auto host = token(rest);
        const auto app = token(rest);
        const auto procid = token(rest);
        const auto msgid = token(rest);
        if (ts.empty() || host.empty() || app.empty() || procid.empty() || msgid.empty()) {
            return make_error(Errc::InvalidArgument, "RFC 5424 header is incomplete");
        }
        if (ts != "-") {
            auto t = core::parse_rfc3339_ms(ts);
            if (!t) return make_error(Errc::InvalidArgument, "RFC 5424 timestamp is not RFC 3339");
            e.timestamp = *t;
        }
        if (host != "-") e.host_name = sanitize_utf8(host.substr(0, 255));
        if (app != "-") e.process_name = sanitize_utf8(app.substr(0, 48));
        if (procid != "-") {
            std::int64_t pid = 0;
            if (all_digits(procid) && std::from_chars(procid.data(), procid.data() + procid.size(), pid).ec == std::errc{}) {
                e.process_pid = pid;
            } else {
                e.labels["syslog.procid"] = sanitize_utf8(procid.substr(0, 128));
            }
        }
        if (msgid != "-") e.labels["syslog.msgid"] = sanitize_utf8(msgid.substr(0, 32));
        if (!parse_structured_data(rest, e)) {
            return make_error(Errc::InvalidArgument, "RFC 5424 structured data is malformed");
        }
        if (rest.starts_with("\xef\xbb\xbf")) rest.remove_prefix(3);  // BOM
        e.message = sanitize_utf8(rest);
    } else {
        // RFC 3164: an optional "Mmm dd hh:mm:ss HOST " header, then TAG[PID]: MSG.
        if (rest.size() >= 16 && rest[15] == ' ') {
            if (auto t = bsd_time(rest.substr(0, 15), now_ms)) {
                e.timestamp = *t;
                rest.remove_prefix(16);
                std::string_view probe = rest;
                const auto host = token(probe);
                // A hostname has no ':' or '[' (those belong to the tag).
                if (!host.empty() && host.find(':') == std::string_view::npos &&
                    host.find('[') == std::string_view::npos) {
                    e.host_name = sanitize_utf8(host.substr(0, 255));
                    rest = probe;
                }
            }
        }
        // TAG: up to 48 alphanumerics (and -_./), then [PID] and ':'.
        std::size_t i = 0;
        while (i < rest.size() && i < 48 && rest[i] != '[' && rest[i] != ':' && rest[i] != ' ') ++i;
        if (i > 0 && i < rest.size() && (rest[i] == '[' || rest[i] == ':')) {
            e.process_name = sanitize_utf8(rest.substr(0, i));
            if (rest[i] == '[') {
                const auto end = rest.find(']', i);
                if (end != std::string_view::npos) {
                    std::int64_t pid = 0;
                    const auto p = rest.substr(i + 1, end - i - 1);
                    if (all_digits(p) && std::from_chars(p.data(), p.data() + p.size(), pid).ec == std::errc{}) {
                        e.process_pid = pid;
                    }
                    i = end + 1;
                }
            }
            if (i < rest.size() && rest[i] == ':') ++i;
            // sudo pads its messages ("sudo:    alice : TTY=..."): the message starts at its text.
            while (i < rest.size() && rest[i] == ' ') ++i;
            rest.remove_prefix(i);
        }
        e.message = sanitize_utf8(rest);
    }
    if (e.host_name.empty() && !peer.empty()) {
        e.host_ip = model::canonical_ip(peer).value_or("");
    }
    constexpr std::int64_t kDay = 24LL * 3600 * 1000;
    if (e.timestamp > now_ms + kDay || e.timestamp < 946'684'800'000) {
        e.labels["syslog.timestamp_rejected"] = core::format_rfc3339_ms(e.timestamp);
        e.timestamp = now_ms;
    }
    return e;
}

SyslogFramer::Output SyslogFramer::feed(std::string_view bytes) {
    Output out;
    buffer_.append(bytes);
    std::size_t pos = 0;
    for (;;) {
        std::string_view rest(buffer_.data() + pos, buffer_.size() - pos);
        if (rest.empty()) break;
        if (skipping_) {
            const auto nl = rest.find('\n');
            if (nl == std::string_view::npos) {
                pos = buffer_.size();
                break;
            }
            pos += nl + 1;
            skipping_ = false;
            continue;
        }
        if (rest.front() >= '1' && rest.front() <= '9') {
            // Octet counting: MSG-LEN SP SYSLOG-MSG
            const auto sp = rest.find(' ');
            if (sp == std::string_view::npos) {
                if (rest.size() > 10) {  // no length is that long
                    ++out.errors;
                    skipping_ = true;
                    continue;
                }
                break;  // need more bytes
            }
            std::size_t len = 0;
            if (!all_digits(rest.substr(0, sp)) ||
                std::from_chars(rest.data(), rest.data() + sp, len).ec != std::errc{} || len > kMaxSyslogMessage) {
                ++out.errors;
                skipping_ = true;
                continue;
            }
            if (rest.size() < sp + 1 + len) break;  // need more bytes
            out.frames.emplace_back(rest.substr(sp + 1, len));
            pos += sp + 1 + len;
            continue;
        }
        const auto nl = rest.find('\n');
        if (nl == std::string_view::npos) {
            if (rest.size() > kMaxSyslogMessage) {
                ++out.errors;
                skipping_ = true;
                pos = buffer_.size();
            }
            break;
        }
        std::string_view frame = rest.substr(0, nl);
        if (!frame.empty() && frame.back() == '\r') frame.remove_suffix(1);
        if (!frame.empty()) out.frames.emplace_back(frame);
        pos += nl + 1;
    }
    buffer_.erase(0, pos);
    return out;
}

}  // namespace sai::pipeline
