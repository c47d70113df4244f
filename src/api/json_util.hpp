#pragma once
// Private helpers for handlers that speak JSON (Boost.JSON): parse a body into
// an object with clear 400s, read typed fields, write common shapes.

#include "api/http.hpp"
#include "core/error.hpp"
#include "model/identity.hpp"

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::api::json {

/// Parses JSON text, naming where it failed: "invalid JSON at byte 17: syntax error", or
/// "invalid UTF-8 at byte 9" when the text is not UTF-8 there. Reusable for many texts
/// (NDJSON lines) without reallocating its buffers.
class TextParser {
public:
    explicit TextParser(const boost::json::parse_options& options);
    core::Result<boost::json::value> parse(std::string_view text);

private:
    boost::json::parser parser_;
};

/// The body as a JSON object. JSON bodies and, when `allow_form` is set,
/// application/x-www-form-urlencoded bodies (as string fields).
core::Result<boost::json::object> parse_object(const Request& request, bool allow_form = false);

/// A required string field (InvalidArgument naming the field when missing or not a string).
core::Result<std::string> required_string(const boost::json::object& obj, std::string_view field,
                                          std::size_t max_bytes = 1024);
/// An optional string field; error when present but not a string.
core::Result<std::optional<std::string>> optional_string(const boost::json::object& obj, std::string_view field,
                                                         std::size_t max_bytes = 1024);
core::Result<std::optional<bool>> optional_bool(const boost::json::object& obj, std::string_view field);
core::Result<std::optional<model::Role>> optional_role(const boost::json::object& obj, std::string_view field);
/// Rejects fields other than `allowed`, so typos are not silently ignored.
core::Result<void> only_fields(const boost::json::object& obj, std::initializer_list<std::string_view> allowed);

Response ok(int status, const boost::json::value& body);
/// Parses ?limit= (1..max, default `fallback`).
core::Result<std::size_t> limit_param(const Request& request, std::size_t fallback, std::size_t max);

/// The offset behind an opaque ?cursor= (0 when absent); InvalidArgument when malformed.
core::Result<std::size_t> offset_cursor(const Request& request);
/// The opaque cursor of the page starting at `offset`.
std::string offset_next_cursor(std::size_t offset);

boost::json::value nullable(const std::optional<std::string>& text);

/// An optional RFC 3339 query parameter as Unix milliseconds.
core::Result<std::optional<std::int64_t>> time_param(const Request& request, const char* name);
/// An optional array of strings (at most `max_items`, each at most `max_bytes`).
core::Result<std::vector<std::string>> string_list(const boost::json::object& obj, std::string_view field,
                                                   std::size_t max_items = 64, std::size_t max_bytes = 256);

}  // namespace sai::api::json
