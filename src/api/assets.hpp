#pragma once
// Private: files embedded into the binary at build time (see CMakeLists.txt):
// the OpenAPI document, Swagger UI and ReDoc.

#include <span>
#include <string_view>

namespace sai::api {

struct Asset {
    std::string_view url_path;  // where it is served
    std::string_view content_type;
    std::string_view data;
};

std::span<const Asset> embedded_assets();

}  // namespace sai::api
