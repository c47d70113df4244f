#include "json_util.hpp"

#include "core/crypto.hpp"
#include "core/json_text.hpp"
#include "core/time.hpp"
#include "model/json_write.hpp"

#include <charconv>

namespace sai::api::json {

using core::Errc;
using core::make_error;

TextParser::TextParser(const boost::json::parse_options& options) : parser_({}, options) {}

core::Result<boost::json::value> TextParser::parse(std::string_view text) {
    parser_.reset();
    boost::system::error_code ec;
    const std::size_t used = parser_.write(text.data(), text.size(), ec);
    if (!ec) {
        return parser_.release();
    }
    // Boost.JSON calls a byte that is not UTF-8 a syntax error; say which it was.
    for (std::size_t i = 0; i < text.size() && i <= used;) {
        const std::size_t n = core::utf8_sequence_length(text, i);
        if (n == 0) {
            return make_error(Errc::InvalidArgument, "invalid UTF-8 at byte " + std::to_string(i));
        }
        i += n;
    }
    return make_error(Errc::InvalidArgument, "invalid JSON at byte " + std::to_string(used) + ": " + ec.message());
}

core::Result<boost::json::object> parse_object(const Request& request, bool allow_form) {
    const std::string_view type = request.header("Content-Type");
    if (allow_form && type.starts_with("application/x-www-form-urlencoded")) {
        auto pairs = parse_form(request.body);
        if (!pairs) {
            return make_error(Errc::InvalidArgument, "malformed form body");
        }
        boost::json::object obj;
        for (auto& [k, v] : *pairs) {
            obj[k] = v;
        }
        return obj;
    }
    if (!type.empty() && !type.starts_with("application/json")) {
        return make_error(Errc::InvalidArgument, "Content-Type must be application/json");
    }
    if (request.body.empty()) {
        return make_error(Errc::InvalidArgument, "request body must be a JSON object");
    }
    boost::json::parse_options options;
    options.max_depth = 32;
    auto parsed = TextParser(options).parse(request.body);
    if (!parsed) {
        return parsed.error();
    }
    boost::json::value& value = *parsed;
    if (!value.is_object()) {
        return make_error(Errc::InvalidArgument, "request body must be a JSON object");
    }
    return std::move(value.as_object());
}

core::Result<std::optional<std::string>> optional_string(const boost::json::object& obj, std::string_view field,
                                                         std::size_t max_bytes) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) {
        return std::optional<std::string>();
    }
    if (!it->value().is_string()) {
        return make_error(Errc::InvalidArgument, "field '" + std::string(field) + "' must be a string");
    }
    const auto& s = it->value().get_string();
    if (s.size() > max_bytes) {
        return make_error(Errc::InvalidArgument,
                          "field '" + std::string(field) + "' exceeds " + std::to_string(max_bytes) + " bytes");
    }
    return std::optional<std::string>(std::string(s));
}

core::Result<std::string> required_string(const boost::json::object& obj, std::string_view field,
                                          std::size_t max_bytes) {
    auto value = optional_string(obj, field, max_bytes);
    if (!value) {
        return value.error();
    }
    if (!*value) {
        return make_error(Errc::InvalidArgument, "field '" + std::string(field) + "' is required");
    }
    return std::move(**value);
}

core::Result<std::optional<bool>> optional_bool(const boost::json::object& obj, std::string_view field) {
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) {
        return std::optional<bool>();
    }
    if (!it->value().is_bool()) {
        return make_error(Errc::InvalidArgument, "field '" + std::string(field) + "' must be true or false");
    }
    return std::optional<bool>(it->value().get_bool());
}

core::Result<std::optional<model::Role>> optional_role(const boost::json::object& obj, std::string_view field) {
    auto text = optional_string(obj, field, 32);
    if (!text) {
        return text.error();
    }
    if (!*text) {
        return std::optional<model::Role>();
    }
    auto role = model::parse_role(**text);
    if (!role) {
        return make_error(Errc::InvalidArgument, "field '" + std::string(field) + "' must be viewer, analyst or admin");
    }
    return std::optional<model::Role>(*role);
}

core::Result<void> only_fields(const boost::json::object& obj, std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : obj) {
        bool known = false;
        for (auto a : allowed) {
            known = known || kv.key() == a;
        }
        if (!known) {
            std::string message = "unknown field '" + std::string(kv.key().substr(0, 64)) + "'; the fields are:";
            for (auto a : allowed) {
                message += " " + std::string(a);
            }
            return make_error(Errc::InvalidArgument, message);
        }
    }
    return {};
}

Response ok(int status, const boost::json::value& body) { return json_response(status, model::to_json_text(body)); }

core::Result<std::size_t> limit_param(const Request& request, std::size_t fallback, std::size_t max) {
    auto text = request.query_param("limit");
    if (!text) {
        return fallback;
    }
    std::size_t n = 0;
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc{} || end != text->data() + text->size() || n < 1 || n > max) {
        return make_error(Errc::InvalidArgument, "limit must be an integer from 1 to " + std::to_string(max));
    }
    return n;
}

boost::json::value nullable(const std::optional<std::string>& text) {
    return text ? boost::json::value(*text) : boost::json::value(nullptr);
}

core::Result<std::optional<std::int64_t>> time_param(const Request& r, const char* name) {
    auto text = r.query_param(name);
    if (!text) {
        return std::optional<std::int64_t>();
    }
    auto t = core::parse_rfc3339_ms(*text);
    if (!t) {
        return make_error(Errc::InvalidArgument, std::string(name) + " must be an RFC 3339 time");
    }
    return std::optional<std::int64_t>(*t);
}

core::Result<std::vector<std::string>> string_list(const boost::json::object& obj, std::string_view field,
                                                   std::size_t max_items, std::size_t max_bytes) {
    std::vector<std::string> out;
    auto it = obj.find(field);
    if (it == obj.end() || it->value().is_null()) {
        return out;
    }
    const auto bad = make_error(Errc::InvalidArgument, "field '" + std::string(field) + "' must be an array of at most " +
                                                           std::to_string(max_items) + " strings of at most " +
                                                           std::to_string(max_bytes) + " bytes");
    if (!it->value().is_array() || it->value().get_array().size() > max_items) {
        return bad;
    }
    for (const auto& v : it->value().get_array()) {
        if (!v.is_string() || v.get_string().size() > max_bytes) {
            return bad;
        }
        out.emplace_back(v.get_string());
    }
    return out;
}

core::Result<std::size_t> offset_cursor(const Request& r) {
    auto cursor = r.query_param("cursor");
    if (!cursor || cursor->empty()) return std::size_t{0};
    auto raw = cursor->size() <= 64 ? core::base64url_decode(*cursor) : std::nullopt;
    std::size_t offset = 0;
    if (!raw || !raw->starts_with("o:") ||
        std::from_chars(raw->data() + 2, raw->data() + raw->size(), offset).ec != std::errc{} || offset > 10'000'000) {
        return make_error(Errc::InvalidArgument, "malformed cursor");
    }
    return offset;
}

std::string offset_next_cursor(std::size_t offset) { return core::base64url_encode("o:" + std::to_string(offset)); }

}  // namespace sai::api::json
