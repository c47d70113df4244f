#pragma once
// Severity, shared by events, detections and alerts.

#include <optional>
#include <string_view>

namespace sai::model {

enum class Severity { Info = 0, Low = 1, Medium = 2, High = 3, Critical = 4 };

std::string_view to_string(Severity severity) noexcept;

/// Accepts the names above (any case) and the numbers 0..4.
std::optional<Severity> parse_severity(std::string_view text) noexcept;

/// ECS `event.severity` is a number; syslog levels run 0 (emergency) .. 7 (debug).
Severity severity_from_syslog(int level) noexcept;

}  // namespace sai::model
