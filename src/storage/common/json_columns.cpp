#include "storage/common/json_columns.hpp"

#include <boost/json.hpp>

namespace sai::storage {

std::vector<std::string> strings_from(const boost::json::value* v) {
    std::vector<std::string> out;
    if (v && v->is_array()) {
        for (const auto& item : v->get_array()) {
            if (item.is_string()) out.emplace_back(item.get_string());
        }
    }
    return out;
}

boost::json::value parse_json_or_null(std::string_view text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    return ec ? boost::json::value(nullptr) : v;
}

std::vector<std::string> strings_from_json_array(std::string_view text) {
    const auto v = parse_json_or_null(text);
    return strings_from(&v);
}

}  // namespace sai::storage
