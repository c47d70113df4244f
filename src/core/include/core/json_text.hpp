#pragma once
// Writing JSON text by hand where a DOM would cost too much (log lines, error
// bodies). Everything that is not a fixed key goes through append_json_string.

#include <string>
#include <string_view>

namespace sai::core {

/// Appends `text` as a JSON string literal (quotes included). Control characters
/// are escaped and invalid UTF-8 bytes become U+FFFD, so output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

/// Appends `value` as a JSON number: the shortest text that reads back as the same
/// double, in plain notation where that is as short ("85.045", "75.0", "1e+300"),
/// always with a fraction or an exponent so that it reads back as a double, not an
/// integer; `null` for NaN and infinities, which JSON cannot hold.
void append_json_number(std::string& out, double value);

/// Length of the valid UTF-8 sequence starting at text[i] (1-4), or 0 when the
/// bytes there are not valid UTF-8 (overlong forms and surrogates included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept;

/// `text` with every invalid UTF-8 byte replaced by U+FFFD.
std::string sanitize_utf8(std::string_view text);

}  // namespace sai::core
