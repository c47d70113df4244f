#pragma once
// Private: whole-file writes that readers never see half done.

#include "core/error.hpp"

#include <filesystem>
#include <string_view>

namespace sai::ml::detail {

/// Writes `bytes` to `file` through a temporary file and a rename.
/// Errors: Unavailable, naming the path.
core::Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view bytes);

}  // namespace sai::ml::detail
