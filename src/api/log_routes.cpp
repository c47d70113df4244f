#include "api/log_routes.hpp"

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "json_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

bj::object template_json(const parser::TemplateRecord& t) {
    return {{"id", t.id},
            {"format", t.format},
            {"template", t.template_text},
            {"count", t.count},
            {"first_seen", core::format_rfc3339_ms(t.first_seen_ms)},
            {"last_seen", core::format_rfc3339_ms(t.last_seen_ms)}};
}

bool contains_nocase(std::string_view haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
           }) != haystack.end();
}

}  // namespace

void add_log_routes(Router& router, pipeline::ParseStage& stage) {
    router.add(Method::Get, "/api/v1/logs/templates", [&stage](Request& r) {
        auto limit = json::limit_param(r, 100, 1000);
        if (!limit) return error_response(r, limit.error());
        auto since = json::time_param(r, "new_since");
        if (!since) return error_response(r, since.error());
        const auto format = r.query_param("format");
        const auto text = r.query_param("q");
        if (text && text->size() > 256) return error_response(r, make_error(Errc::InvalidArgument, "q is longer than 256 bytes"));
        const std::string sort = r.query_param("sort").value_or("-count");
        if (sort != "-count" && sort != "count" && sort != "-first_seen" && sort != "-last_seen") {
            return error_response(r, make_error(Errc::InvalidArgument, "sort must be -count, count, -first_seen or -last_seen"));
        }
        auto offset_or = json::offset_cursor(r);
        if (!offset_or) return error_response(r, offset_or.error());
        const std::size_t offset = *offset_or;
        auto all = stage.parser().miner().snapshot();
        std::erase_if(all, [&](const parser::TemplateRecord& t) {
            return (format && t.format != *format) || (*since && t.first_seen_ms < **since) ||
                   (text && !contains_nocase(t.template_text, *text));
        });
        std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) {
            if (sort == "count") return a.count < b.count;
            if (sort == "-first_seen") return a.first_seen_ms > b.first_seen_ms;
            if (sort == "-last_seen") return a.last_seen_ms > b.last_seen_ms;
            return a.count > b.count;
        });
        bj::array items;
        for (std::size_t i = offset; i < all.size() && items.size() < *limit; ++i) {
            items.push_back(template_json(all[i]));
        }
        const bool more = offset + *limit < all.size();
        const auto stats = stage.stats();
        return json::ok(200, bj::object{{"items", std::move(items)},
                                        {"next_cursor", more ? bj::value(json::offset_next_cursor(offset + *limit))
                                                             : bj::value(nullptr)},
                                        {"total", all.size()},
                                        {"templates_known", stats.templates},
                                        {"evictions", stats.evictions}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/logs/templates/{id}", [&stage](Request& r) {
        auto t = stage.parser().miner().find(r.param("id"));
        if (!t) return error_response(r, make_error(Errc::NotFound, "no template with this id"));
        return json::ok(200, template_json(*t));
    }, {.blocking = true});
}

}  // namespace sai::api
