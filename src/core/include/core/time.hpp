#pragma once
// Time helpers: RFC 3339 UTC text, the format of every time in the API and logs.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sai::core {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::system_clock::time_point;

/// Unix time in milliseconds, the unit of every stored time.
inline std::int64_t unix_ms(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline std::int64_t now_unix_ms() { return unix_ms(Clock::now()); }

/// "2026-11-29T09:00:00.123Z" (milliseconds, always UTC).
std::string format_rfc3339(TimePoint t);

/// The same for Unix milliseconds, the unit of every stored time (any year).
std::string format_rfc3339_ms(std::int64_t unix_ms);

/// Parses RFC 3339 ("2026-11-29T09:00:00Z", fractional seconds and numeric offsets allowed).
/// Empty for malformed text and for times the clock cannot hold (before 1678, after 2262).
std::optional<TimePoint> parse_rfc3339(std::string_view text);

/// The same as Unix milliseconds, for every year RFC 3339 can write (0000-9999).
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view text);

}  // namespace sai::core
