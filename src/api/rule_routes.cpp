#include "api/rule_routes.hpp"

#include "core/crypto.hpp"
#include "core/time.hpp"
#include "json_util.hpp"
#include "model/event.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

constexpr std::size_t kMaxRuleBytes = 256 * 1024;

bool is_under(const std::filesystem::path& file, const std::filesystem::path& dir) {
    const auto f = file.lexically_normal().string();
    const auto d = dir.lexically_normal().string();
    return f.size() > d.size() && f.compare(0, d.size(), d) == 0;
}

/// Rule ids become file names: letters, digits and . _ - only.
bool safe_id(std::string_view id) {
    return !id.empty() && id.size() <= 128 && id.front() != '.' &&
           std::all_of(id.begin(), id.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

bj::object rule_json(const detection::CompiledRuleSet& set, std::size_t i, const std::filesystem::path& api_dir) {
    const auto& r = set.rule(i);
    const auto& c = set.counters(i);
    const std::int64_t last = c.last_match_ms.load();
    return {{"id", r.id},
            {"title", r.title},
            {"level", r.level},
            {"status", r.status},
            {"description", r.description},
            {"tags", bj::array(r.tags.begin(), r.tags.end())},
            {"correlation", r.correlation},
            {"source", is_under(r.file, api_dir) ? "api" : "file"},
            {"file", r.file},
            {"matches", c.matches.load()},
            {"last_match", last ? bj::value(core::format_rfc3339_ms(last))
                                : bj::value(nullptr)}};
}

bj::array issues_json(const detection::LoadReport& report) {
    bj::array out;
    for (const auto& f : report.failed) {
        out.push_back(bj::object{{"file", f.file}, {"rule_id", f.rule_id}, {"reason", f.reason}});
    }
    return out;
}

/// The YAML of a request: a YAML body, or JSON {"yaml": "..."}.
core::Result<std::string> rule_text(const Request& r) {
    const std::string_view type = r.header("Content-Type");
    if (type.starts_with("application/json")) {
        auto body = json::parse_object(r);
        if (!body) return body.error();
        auto yaml = json::required_string(*body, "yaml", kMaxRuleBytes);
        if (!yaml) return yaml.error();
        return *yaml;
    }
    if (!(type.starts_with("application/yaml") || type.starts_with("application/x-yaml") ||
          type.starts_with("text/yaml") || type.starts_with("text/plain"))) {
        return make_error(Errc::InvalidArgument, "send the rule as application/yaml, or JSON {\"yaml\": \"...\"}");
    }
    if (r.body.empty()) return make_error(Errc::InvalidArgument, "the rule is empty");
    return r.body;
}

/// Compiles a rule text on its own: the located issues as a 422 body, else the set.
core::Result<std::shared_ptr<const detection::CompiledRuleSet>> compile_text(const std::string& text,
                                                                             detection::LoadReport& report) {
    auto set = detection::load_rules_from_yaml(text, report, "api");
    if (!report.failed.empty() || !set || set->size() == 0) {
        std::string why = report.failed.empty() ? "no rule in the document" : report.failed.front().reason;
        return make_error(Errc::Unprocessable, "the rule does not compile: " + why);
    }
    return set;
}

Response compile_error(const Request& r, const core::Error& e, const detection::LoadReport& report) {
    if (e.code != Errc::Unprocessable) return error_response(r, e);
    return json::ok(422, bj::object{{"error", bj::object{{"code", "unprocessable"},
                                                          {"message", e.detail},
                                                          {"request_id", r.request_id},
                                                          {"issues", issues_json(report)}}}});
}

core::Result<void> write_file(const std::filesystem::path& file, const std::string& text) {
    const auto tmp = file.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) return make_error(Errc::Internal, "cannot write " + tmp);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) return make_error(Errc::Internal, "cannot write " + file.string() + ": " + ec.message());
    return {};
}

}  // namespace

void add_rule_routes(Router& router, RuleServices& services) {
    router.add(Method::Get, "/api/v1/rules", [&services](Request& r) {
        auto limit = json::limit_param(r, 100, 1000);
        if (!limit) return error_response(r, limit.error());
        auto offset_or = json::offset_cursor(r);
        if (!offset_or) return error_response(r, offset_or.error());
        const std::size_t offset = *offset_or;
        const auto level = r.query_param("level");
        const auto q = r.query_param("q");
        const auto set = services.stage.rules();
        bj::array items;
        std::size_t matched = 0;
        bool more = false;
        for (std::size_t i = 0; set && i < set->size(); ++i) {
            const auto& info = set->rule(i);
            if (level && info.level != *level) continue;
            if (q && info.title.find(*q) == std::string::npos && info.id.find(*q) == std::string::npos) continue;
            if (matched++ < offset) continue;
            if (items.size() == *limit) {
                more = true;
                break;
            }
            items.push_back(rule_json(*set, i, services.api_dir));
        }
        return json::ok(200, bj::object{{"items", std::move(items)},
                                        {"next_cursor", more ? bj::value(json::offset_next_cursor(offset + *limit))
                                                             : bj::value(nullptr)}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/rules/stats", [&services](Request& r) {
        const auto set = services.stage.rules();
        const auto report = services.stage.report();
        bj::array rules;
        for (std::size_t i = 0; set && i < set->size(); ++i) {
            const auto& c = set->counters(i);
            const std::uint64_t evaluations = c.evaluations.load();
            rules.push_back(bj::object{{"id", set->rule(i).id},
                                       {"matches", c.matches.load()},
                                       {"evaluations", evaluations},
                                       {"mean_eval_ns", evaluations ? static_cast<double>(c.eval_ns.load()) * 16.0 / evaluations : 0.0},
                                       {"last_match", c.last_match_ms.load()
                                                          ? bj::value(core::format_rfc3339(core::TimePoint(
                                                                std::chrono::milliseconds(c.last_match_ms.load()))))
                                                          : bj::value(nullptr)}});
        }
        return json::ok(200, bj::object{{"total", report.total},
                                        {"compiled", report.compiled},
                                        {"failed", issues_json(report)},
                                        {"memory_bytes", set ? set->memory_bytes() : 0},
                                        {"rules", std::move(rules)}});
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/rules/{id}", [&services](Request& r) {
        const auto set = services.stage.rules();
        const auto i = set ? set->find(r.param("id")) : detection::CompiledRuleSet::npos;
        if (i == detection::CompiledRuleSet::npos) return error_response(r, make_error(Errc::NotFound, "no rule with this id"));
        bj::object out = rule_json(*set, i, services.api_dir);
        std::ifstream in(set->rule(i).file, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        out["yaml"] = text.str().substr(0, kMaxRuleBytes);  // the whole file the rule is in
        return json::ok(200, out);
    }, {.blocking = true});

    auto put_rule = [&services](Request& r, bool create) -> Response {
        auto text = rule_text(r);
        if (!text) return error_response(r, text.error());
        if (text->size() > kMaxRuleBytes) return error_response(r, make_error(Errc::PayloadTooLarge, "a rule is at most 256 KiB"));
        detection::LoadReport report;
        auto set = compile_text(*text, report);
        if (!set) return compile_error(r, set.error(), report);
        if ((*set)->size() != 1) {
            return error_response(r, make_error(Errc::InvalidArgument, "send one rule per request (got " +
                                                                       std::to_string((*set)->size()) + ")"));
        }
        const std::string id = (*set)->rule(0).id;
        if (!safe_id(id)) {
            return error_response(r, make_error(Errc::InvalidArgument, "the rule needs an id of letters, digits, '.', '_' or '-'"));
        }
        if (!create && id != r.param("id")) {
            return error_response(r, make_error(Errc::InvalidArgument, "the rule's id differs from the one in the path"));
        }
        const auto file = services.api_dir / (id + ".yml");
        const auto live = services.stage.rules();
        const auto existing = live ? live->find(id) : detection::CompiledRuleSet::npos;
        if (create && existing != detection::CompiledRuleSet::npos) {
            return error_response(r, make_error(Errc::Conflict, "a rule with id " + id + " exists; PUT to replace it"));
        }
        if (!create && (existing == detection::CompiledRuleSet::npos || !is_under(live->rule(existing).file, services.api_dir))) {
            return error_response(r, existing == detection::CompiledRuleSet::npos
                                         ? make_error(Errc::NotFound, "no rule with this id")
                                         : make_error(Errc::Conflict, "rule " + id + " comes from a rule file, not the API; "
                                                                      "change the file or suppress its alerts"));
        }
        if (auto w = write_file(file, *text); !w) return error_response(r, w.error());
        services.stage.reload(true);
        const auto now = services.stage.rules();
        const auto i = now ? now->find(id) : detection::CompiledRuleSet::npos;
        if (i == detection::CompiledRuleSet::npos) return error_response(r, make_error(Errc::Internal, "rule not loaded after writing"));
        Response res = json::ok(create ? 201 : 200, rule_json(*now, i, services.api_dir));
        if (create) res.set_header("Location", "/api/v1/rules/" + id);
        return res;
    };
    router.add(Method::Post, "/api/v1/rules", [put_rule](Request& r) { return put_rule(r, true); },
               {.blocking = true, .max_body_bytes = kMaxRuleBytes + 1024});
    router.add(Method::Put, "/api/v1/rules/{id}", [put_rule](Request& r) { return put_rule(r, false); },
               {.blocking = true, .max_body_bytes = kMaxRuleBytes + 1024});

    router.add(Method::Delete, "/api/v1/rules/{id}", [&services](Request& r) {
        const auto set = services.stage.rules();
        const auto i = set ? set->find(r.param("id")) : detection::CompiledRuleSet::npos;
        if (i == detection::CompiledRuleSet::npos) return error_response(r, make_error(Errc::NotFound, "no rule with this id"));
        const std::filesystem::path file = set->rule(i).file;
        if (!is_under(file, services.api_dir)) {
            return error_response(r, make_error(Errc::Conflict, "rule comes from a rule file, not the API; remove the file instead"));
        }
        std::error_code ec;
        std::filesystem::remove(file, ec);
        if (ec) return error_response(r, make_error(Errc::Internal, "cannot remove " + file.string()));
        services.stage.reload(true);
        return no_content();
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/rules/test", [&services](Request& r) {
        auto body = json::parse_object(r);
        if (!body) return error_response(r, body.error());
        if (auto ok = json::only_fields(*body, {"rule", "rule_id", "events", "from", "to", "limit"}); !ok) {
            return error_response(r, ok.error());
        }
        // The rule: YAML given here, or a loaded rule by id (the live set, filtered to it).
        std::shared_ptr<const detection::CompiledRuleSet> set;
        std::string only;
        detection::LoadReport report;
        auto rule = json::optional_string(*body, "rule", kMaxRuleBytes);
        auto rule_id = json::optional_string(*body, "rule_id", 128);
        if (!rule) return error_response(r, rule.error());
        if (!rule_id) return error_response(r, rule_id.error());
        if (rule->has_value() == rule_id->has_value()) {
            return error_response(r, make_error(Errc::InvalidArgument, "give exactly one of rule (YAML) and rule_id"));
        }
        if (*rule) {
            auto compiled = compile_text(**rule, report);
            if (!compiled) return compile_error(r, compiled.error(), report);
            set = *compiled;
        } else {
            set = services.stage.rules();
            if (!set || set->find(**rule_id) == detection::CompiledRuleSet::npos) {
                return error_response(r, make_error(Errc::NotFound, "no rule with this id"));
            }
            only = **rule_id;
        }
        // The events: given inline (up to 10,000), or stored ones in [from, to).
        std::vector<model::Event> events;
        const auto now = core::now_unix_ms();
        if (auto it = body->find("events"); it != body->end()) {
            if (!it->value().is_array() || it->value().get_array().size() > 10'000) {
                return error_response(r, make_error(Errc::InvalidArgument, "events must be an array of at most 10,000 objects"));
            }
            std::size_t index = 0;
            for (const auto& v : it->value().get_array()) {
                if (!v.is_object()) return error_response(r, make_error(Errc::InvalidArgument, "events[" + std::to_string(index) + "] is not an object"));
                auto e = model::event_from_json(v.get_object(), now);
                if (!e) return error_response(r, make_error(Errc::InvalidArgument, "events[" + std::to_string(index) + "]: " + e.error().detail));
                model::ensure_identity(*e, now);
                events.push_back(std::move(*e));
                ++index;
            }
        } else {
            storage::EventQuery q;
            for (auto [key, target] : {std::pair{"from", &q.from_ms}, std::pair{"to", &q.to_ms}}) {
                auto t = json::optional_string(*body, key, 64);
                if (!t) return error_response(r, t.error());
                if (*t) {
                    auto parsed = core::parse_rfc3339_ms(**t);
                    if (!parsed) return error_response(r, make_error(Errc::InvalidArgument, std::string(key) + " must be an RFC 3339 time"));
                    *target = *parsed;
                }
            }
            if (!q.from_ms) return error_response(r, make_error(Errc::InvalidArgument, "give events, or a from (and to) over stored events"));
            q.limit = 1000;
            while (events.size() < 10'000) {
                auto page = services.store.events().query(q);
                if (!page) return error_response(r, page.error());
                for (auto& e : *page) events.push_back(std::move(e));
                if (page->size() < q.limit) break;
                q.before = std::pair{events.back().timestamp, events.back().id};
            }
            // Oldest first, as they arrived: correlations depend on order.
            std::reverse(events.begin(), events.end());
        }
        // The same engine as live, on a private instance (no effect on live correlation state).
        detection::Engine engine(set);
        bj::array fired;
        std::size_t total = 0;
        for (const auto& d : engine.evaluate(events)) {
            if (!only.empty() && d.rule->id != only) continue;
            ++total;
            if (fired.size() >= 1000) continue;
            const auto* event = d.event_index < events.size() ? &events[d.event_index] : nullptr;
            auto m = pipeline::to_model_detection(d, event);
            fired.push_back(bj::object{{"rule_id", d.rule->id},
                                       {"title", d.rule->title},
                                       {"level", d.rule->level},
                                       {"event_ids", bj::array(d.event_ids.begin(), d.event_ids.end())},
                                       {"explanation", bj::parse(m.explanation)}});
        }
        return json::ok(200, bj::object{{"events", events.size()}, {"detections", total}, {"items", std::move(fired)}});
    }, {.blocking = true, .max_body_bytes = 16 << 20});
}

}  // namespace sai::api
