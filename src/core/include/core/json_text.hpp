#pragma once
// Writing JSON text by hand where a DOM would cost too much (log lines, error
// bodies). Everything that is not a fixed key goes through append_json_string.

#include <string>
#include <string_view>

namespace sai::core {

/// Appends `text` as a JSON string literal (quotes included). Control characters
/// are escaped and invalid UTF-8 bytes become U+FFFD, so output is always valid JSON.
void append_json_string(std::string& out, std::string_view text);

}  // namespace sai::core
