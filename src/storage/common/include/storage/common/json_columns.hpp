#pragma once
// What every SQL backend does with the JSON it keeps in text columns (string
// arrays, objects of details): read it back leniently, since a damaged column
// must not make a whole row unreadable.

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sai::storage {

/// The string members of a JSON array text ("" or anything else: none).
std::vector<std::string> strings_from_json_array(std::string_view text);
/// The string members of an array value (null, or not an array: none).
std::vector<std::string> strings_from(const boost::json::value* v);
/// The parsed text, or null when it is not JSON.
boost::json::value parse_json_or_null(std::string_view text);

}  // namespace sai::storage
