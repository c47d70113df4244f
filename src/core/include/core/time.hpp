#pragma once
// Time helpers: RFC 3339 UTC text, the format of every time in the API and logs.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sai::core {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::system_clock::time_point;

/// "2026-11-29T09:00:00.123Z" (milliseconds, always UTC).
std::string format_rfc3339(TimePoint t);

/// Parses RFC 3339 ("2026-11-29T09:00:00Z", fractional seconds and numeric offsets allowed).
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace sai::core
