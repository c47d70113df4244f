#include "format_util.hpp"

#include "core/json_text.hpp"
#include "core/time.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace sai::reports {

std::string format_time(std::int64_t ms) {
    const std::string t = core::format_rfc3339_ms(ms);
    return t.substr(0, 10) + " " + t.substr(11, 5) + " UTC";
}

std::string format_duration(std::int64_t ms) {
    if (ms < 0) {
        return "n/a";
    }
    const std::int64_t s = ms / 1000;
    const std::int64_t d = s / 86400;
    const std::int64_t h = (s % 86400) / 3600;
    const std::int64_t m = (s % 3600) / 60;
    if (d > 0) {
        return std::to_string(d) + "d " + std::to_string(h) + "h";
    }
    if (h > 0) {
        return std::to_string(h) + "h " + std::to_string(m) + "m";
    }
    if (m > 0) {
        return std::to_string(m) + "m " + std::to_string(s % 60) + "s";
    }
    return std::to_string(s) + "s";
}

std::string format_number(double value, int decimals) {
    if (!std::isfinite(value)) {
        return "n/a";
    }
    char buf[64];
    if (std::abs(value - std::round(value)) < 1e-9 && std::abs(value) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", value);
    } else {
        std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    }
    return buf;
}

double axis_max(double max) {
    if (!(max > 0)) {
        return 1;
    }
    const double power = std::pow(10.0, std::floor(std::log10(max)));
    for (double step : {1.0, 2.0, 5.0, 10.0}) {
        if (step * power >= max) {
            return step * power;
        }
    }
    return 10 * power;
}

std::string_view palette(std::size_t i) noexcept {
    static constexpr std::string_view kColors[] = {"#2b6cd9", "#e5533d", "#f0a020", "#2e9e5b", "#8e44ad",
                                                   "#16a2b8", "#d6336c", "#6c8e0e"};
    return kColors[i % std::size(kColors)];
}

bool parse_color(std::string_view hex, double& r, double& g, double& b) noexcept {
    if (hex.size() != 7 || hex[0] != '#') {
        return false;
    }
    unsigned v = 0;
    auto [end, ec] = std::from_chars(hex.data() + 1, hex.data() + 7, v, 16);
    if (ec != std::errc{} || end != hex.data() + 7) {
        return false;
    }
    r = ((v >> 16) & 0xff) / 255.0;
    g = ((v >> 8) & 0xff) / 255.0;
    b = (v & 0xff) / 255.0;
    return true;
}

bool has_data(const Chart& chart) noexcept {
    for (const auto& p : chart.points) {
        if (p.value > 0) return true;
    }
    return false;
}

std::string html_escape(std::string_view text) {
    std::string out;
    const std::string clean = core::sanitize_utf8(text);
    out.reserve(clean.size());
    for (char c : clean) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

}  // namespace sai::reports
