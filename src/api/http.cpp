#include "api/http.hpp"

#include "core/json_text.hpp"

#include <cctype>

namespace sai::api {

std::string_view to_string(Method method) noexcept {
    switch (method) {
    case Method::Get: return "GET";
    case Method::Head: return "HEAD";
    case Method::Post: return "POST";
    case Method::Put: return "PUT";
    case Method::Patch: return "PATCH";
    case Method::Delete: return "DELETE";
    case Method::Options: return "OPTIONS";
    case Method::Other: return "OTHER";
    }
    return "OTHER";
}

Method parse_method(std::string_view text) noexcept {
    if (text == "GET") return Method::Get;
    if (text == "HEAD") return Method::Head;
    if (text == "POST") return Method::Post;
    if (text == "PUT") return Method::Put;
    if (text == "PATCH") return Method::Patch;
    if (text == "DELETE") return Method::Delete;
    if (text == "OPTIONS") return Method::Options;
    return Method::Other;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

std::string_view Request::header(std::string_view name) const {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
            return h.value;
        }
    }
    return {};
}

std::optional<std::string> Request::query_param(std::string_view name) const {
    std::string_view rest = query;
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        const std::size_t eq = pair.find('=');
        auto decoded_key = url_decode(pair.substr(0, eq), true);
        if (!decoded_key || *decoded_key != name) {
            continue;
        }
        if (eq == std::string_view::npos) {
            return std::string();
        }
        return url_decode(pair.substr(eq + 1), true);
    }
    return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> out;
    while (!text.empty()) {
        const std::size_t amp = text.find('&');
        const std::string_view pair = text.substr(0, amp);
        text = amp == std::string_view::npos ? std::string_view{} : text.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        auto key = url_decode(pair.substr(0, eq), true);
        auto value = eq == std::string_view::npos ? std::optional<std::string>("") : url_decode(pair.substr(eq + 1), true);
        if (!key || !value) {
            return std::nullopt;
        }
        out.emplace_back(std::move(*key), std::move(*value));
    }
    return out;
}

std::string_view Request::param(std::string_view name) const {
    for (const auto& [k, v] : params) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

void Response::set_header(std::string name, std::string value) {
    for (auto& h : headers) {
        if (iequals(h.name, name)) {
            h.value = std::move(value);
            return;
        }
    }
    headers.push_back({std::move(name), std::move(value)});
}

std::string_view Response::header(std::string_view name) const {
    for (const auto& h : headers) {
        if (iequals(h.name, name)) {
            return h.value;
        }
    }
    return {};
}

Response json_response(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Response no_content() {
    Response r;
    r.status = 204;
    r.content_type.clear();
    return r;
}

int http_status(core::Errc code) noexcept {
    switch (code) {
    case core::Errc::InvalidArgument: return 400;
    case core::Errc::Unauthenticated: return 401;
    case core::Errc::PermissionDenied: return 403;
    case core::Errc::NotFound: return 404;
    case core::Errc::Conflict: return 409;
    case core::Errc::PayloadTooLarge: return 413;
    case core::Errc::Unprocessable: return 422;
    case core::Errc::RateLimited: return 429;
    case core::Errc::Timeout: return 503;
    case core::Errc::Unavailable: return 503;
    case core::Errc::Internal: return 500;
    }
    return 500;
}

Response error_response(std::string_view request_id, int status, std::string_view code, std::string_view message) {
    std::string body = R"({"error":{"code":)";
    core::append_json_string(body, code);
    body += R"(,"message":)";
    core::append_json_string(body, message);
    body += R"(,"request_id":)";
    core::append_json_string(body, request_id);
    body += "}}";
    return json_response(status, std::move(body));
}

Response error_response(const Request& request, const core::Error& error) {
    const int status = http_status(error.code);
    // 5xx details (SQL text, file paths) belong in the server log, not in the body.
    const std::string_view message = status >= 500 ? (status == 503 ? "service temporarily unavailable"
                                                                     : "internal error; see the server log")
                                                   : std::string_view(error.detail);
    return error_response(request.request_id, status, core::to_string(error.code), message);
}

std::optional<std::string> url_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return std::nullopt;
            }
            auto hex = [](char h) -> int {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            const int hi = hex(text[i + 1]);
            const int lo = hex(text[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

}  // namespace sai::api
