#pragma once
// Typed entities in a log line, found by hand-written scans (entity_scanner.hpp has the
// exact rules: the regular expressions they replaced):
//
//   ipv4, ipv6 (validated with inet_pton), mac, email, url, domain (common TLDs),
//   unix_path (two or more components), windows_path (C:\...), md5 / sha1 / sha256
//   (32 / 40 / 64 hex digits), port ("port 22", "port=22", "ip:port"), user ("user=X",
//   "user X", "for [invalid ]user X", "for X from"), process and pid ("name[pid]"),
//   http_method (GET, POST... followed by a path or URL), http_status ("HTTP/1.1" 404,
//   "status 503", "status code 403"), and outcome words mapped to an outcome:
//   success (accepted, succeeded, successful, success, granted, allowed, opened,
//   authenticated), failure (failed, failure, denied, invalid, illegal, rejected, refused,
//   unauthorized, forbidden, error, bad), unknown (closed, disconnected, timeout, timed out,
//   reset). Failure wins over success within a line.

#include "core/error.hpp"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::parser {

enum class EntityType {
    Ipv4,
    Ipv6,
    Mac,
    Email,
    Url,
    Domain,
    UnixPath,
    WindowsPath,
    Md5,
    Sha1,
    Sha256,
    Port,
    User,
    Process,
    Pid,
    HttpMethod,
    HttpStatus,
};

/// Stable snake_case name ("ipv4", "unix_path"...), used as the JSON key.
std::string_view to_string(EntityType type) noexcept;

struct Entity {
    EntityType type = EntityType::Ipv4;
    std::string value;
    std::size_t begin = 0;  // byte offsets in the scanned text
    std::size_t end = 0;
};

/// Entities of one line, in order of position, plus the outcome ("success", "failure",
/// "unknown", or empty when no outcome word occurs).
struct Entities {
    std::vector<Entity> items;
    std::string outcome;
    bool authentication = false;  // the line speaks of a password, public key, login or logon

    /// The first entity of a type, or nullptr.
    const Entity* first(EntityType type) const;
};

/// The entity extractor. Create once and share: extract() is const and thread-safe.
/// create() keeps the shape of a construction that can fail, for extractors with
/// configured patterns; this one cannot fail.
class EntityExtractor {
public:
    static core::Result<std::shared_ptr<const EntityExtractor>> create();

    /// Scans at most the first 64 KiB of `text`; never fails.
    Entities extract(std::string_view text) const;
    void extract(std::string_view text, Entities& out) const;

private:
    EntityExtractor() = default;
};

}  // namespace sai::parser
