#pragma once
// The project's own small HTTP request/response types. Handlers and services see
// only these; Boost.Beast stays inside server.cpp, which keeps most of the code
// free of Beast's compile cost and of its types.

#include "core/error.hpp"
#include "model/identity.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sai::api {

enum class Method { Get, Head, Post, Put, Patch, Delete, Options, Other };

std::string_view to_string(Method method) noexcept;
Method parse_method(std::string_view text) noexcept;

struct Header {
    std::string name;
    std::string value;
};

struct Request {
    Method method = Method::Get;
    std::string method_text;  // as sent, for logs and errors
    std::string target;       // raw request target: path and query
    std::string path;         // target before '?', still percent-encoded
    std::string query;        // target after '?'
    std::vector<Header> headers;
    std::string body;
    std::string remote_address;
    std::string request_id;  // set by the dispatcher before any handler runs
    std::vector<std::pair<std::string, std::string>> params;  // path parameters, decoded
    std::optional<model::Principal> principal;  // set by the dispatcher on authenticated routes
    std::vector<Header> response_headers;       // added to whatever response this request gets

    /// Header value by case-insensitive name; empty when absent.
    std::string_view header(std::string_view name) const;
    /// Decoded query parameter; nullopt when absent.
    std::optional<std::string> query_param(std::string_view name) const;
    /// Path parameter by name; empty when absent.
    std::string_view param(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<Header> headers;
    bool close = false;  // close the connection after this response

    void set_header(std::string name, std::string value);
    std::string_view header(std::string_view name) const;
};

/// A response with an already-serialised JSON body.
Response json_response(int status, std::string body);
/// 204 No Content.
Response no_content();

/// The HTTP status for an error code; the one place where Errc meets HTTP.
int http_status(core::Errc code) noexcept;

/// `{"error": {"code", "message", "request_id"}}` with the status for `error.code`.
/// 5xx details stay out of the body (they belong in the server log).
Response error_response(const Request& request, const core::Error& error);
/// The same with an explicit status and code, for protocol-level errors (405, 408, 431...).
Response error_response(std::string_view request_id, int status, std::string_view code, std::string_view message);

/// Parses "a=1&b=x+y" (query strings, form bodies) into decoded pairs; nullopt on bad escapes.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text);

/// Percent-decodes a URL component ('+' is a space when `plus_is_space`); nullopt on bad escapes.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space);

bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace sai::api
