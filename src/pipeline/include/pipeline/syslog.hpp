#pragma once
// Syslog messages into Events: RFC 5424 and RFC 3164 (BSD), and RFC 6587 TCP
// framing (octet counting and newline-delimited, detected per frame).
//
//   RFC 5424: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]
//   RFC 3164: <PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: MSG
//
// Mapping: PRI severity -> event.severity (0..4) and log.level; facility, msgid and
// structured data -> labels ("syslog.facility", "syslog.msgid", "sd.<id>.<name>");
// HOSTNAME -> host.name; APP-NAME/TAG -> process.name; PROCID -> process.pid (when
// numeric); the rest -> message. Invalid UTF-8 bytes become U+FFFD.

#include "core/error.hpp"
#include "model/event.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sai::pipeline {

inline constexpr std::size_t kMaxSyslogMessage = 64 * 1024;

/// Where a syslog message comes from: the network, where every message starts with its
/// <PRI>, or a log file (/var/log/auth.log), whose lines rsyslog and syslog-ng write
/// without it: "Nov 30 00:10:01 bastion-01 sshd[1201]: Failed password ...".
enum class SyslogSource { Network, File };

/// Parses one syslog message. `now_ms` is the ingest time (and the year for RFC 3164).
/// InvalidArgument for anything that is not syslog (no <PRI> from the network, bad header,
/// oversize). A file line without <PRI> has no severity, level or facility.
core::Result<model::Event> parse_syslog(std::string_view message, std::int64_t now_ms, std::string_view peer = {},
                                        SyslogSource source = SyslogSource::Network);

/// RFC 6587 framing of a TCP stream. Feed bytes as they arrive; complete frames
/// come out in order. A frame longer than kMaxSyslogMessage is reported as an error
/// and skipped, and the framer resynchronises on the next newline.
class SyslogFramer {
public:
    struct Output {
        std::vector<std::string> frames;
        std::size_t errors = 0;
    };
    Output feed(std::string_view bytes);
    /// Bytes buffered and not yet a frame.
    std::size_t pending() const { return buffer_.size(); }

private:
    std::string buffer_;
    bool skipping_ = false;  // discarding an oversize frame up to the next newline
};

/// Replaces invalid UTF-8 sequences with U+FFFD.
std::string sanitize_utf8(std::string_view text);

}  // namespace sai::pipeline
