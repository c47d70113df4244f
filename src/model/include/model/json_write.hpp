#pragma once
// JSON text of Boost.JSON values, for everything the server writes out. Boost 1.81's
// `boost::json::serialize` writes every double in scientific notation ("7.5E1" for a risk
// of 75, "0E0" for zero) and has no option for another form; people reading the API expect
// "75.0". Strings, integers and structure come out as boost writes them (escapes aside:
// control characters other than \n, \r and \t are written as \u00XX), and the text reads
// back into an equal value.

#include <string>

namespace boost::json {
class value;
class object;
class array;
}  // namespace boost::json

namespace sai::model {

void append_json_text(std::string& out, const boost::json::value& value);

std::string to_json_text(const boost::json::value& value);
std::string to_json_text(const boost::json::object& object);
std::string to_json_text(const boost::json::array& array);

}  // namespace sai::model
