#include "model/severity.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace sai::model {

std::string_view to_string(Severity severity) noexcept {
    switch (severity) {
    case Severity::Info: return "info";
    case Severity::Low: return "low";
    case Severity::Medium: return "medium";
    case Severity::High: return "high";
    case Severity::Critical: return "critical";
    }
    return "info";
}

std::optional<Severity> parse_severity(std::string_view text) noexcept {
    if (text.size() == 1 && text[0] >= '0' && text[0] <= '4') {
        return static_cast<Severity>(text[0] - '0');
    }
    if (text.size() > 8) {
        return std::nullopt;
    }
    std::array<char, 8> lower{};
    std::transform(text.begin(), text.end(), lower.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    const std::string_view t(lower.data(), text.size());
    for (auto s : {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical}) {
        if (t == to_string(s)) {
            return s;
        }
    }
    return std::nullopt;
}

Severity severity_from_syslog(int level) noexcept {
    if (level <= 2) {
        return Severity::Critical;  // emergency, alert, critical
    }
    if (level == 3) {
        return Severity::High;  // error
    }
    if (level == 4) {
        return Severity::Medium;  // warning
    }
    if (level == 5) {
        return Severity::Low;  // notice
    }
    return Severity::Info;  // informational, debug
}

}  // namespace sai::model
