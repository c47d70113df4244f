#pragma once
// Test-only helpers. Never linked into the securityai binary.

#include <filesystem>

namespace sai::testkit {

/// A fresh directory under the system temp dir, removed (recursively) on destruction.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace sai::testkit
