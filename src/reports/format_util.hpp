#pragma once
// Private helpers shared by the writers and the report builders.

#include "reports/report_writer.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace sai::reports {

inline constexpr std::int64_t kDayMs = 86'400'000;

/// "2026-11-29 09:00 UTC".
std::string format_time(std::int64_t ms);
/// "1h 23m", "4m 10s", "12s"; "n/a" for negative values.
std::string format_duration(std::int64_t ms);
/// Integral values without decimals, others with `decimals` digits.
std::string format_number(double value, int decimals = 1);

/// The top of a chart's value axis: a round number >= max (1, 2 or 5 times a power of ten).
double axis_max(double max);

/// The palette colour `i` (saturated, so rendered charts are easy to tell from text).
std::string_view palette(std::size_t i) noexcept;
/// "#rrggbb" -> components 0..1; false when malformed.
bool parse_color(std::string_view hex, double& r, double& g, double& b) noexcept;

std::string html_escape(std::string_view text);

/// False when a chart has no point above zero: laid-out formats then say so instead of drawing.
bool has_data(const Chart& chart) noexcept;

}  // namespace sai::reports
