#include "parser/log_parser.hpp"

#include "text.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <map>
#include <unordered_map>
#include <mutex>
#include <shared_mutex>
#include <sstream>

namespace sai::parser {
namespace {

using detail::StringHash;

core::Error bad_key(std::string_view source, std::string_view key, std::string_view why) {
    return core::make_error(core::Errc::InvalidArgument,
                            std::string(source) + ": " + std::string(key) + ": " + std::string(why));
}

core::Result<std::vector<std::string>> string_list(const toml::node& node, std::string_view source,
                                                   std::string_view key) {
    const auto* arr = node.as_array();
    if (!arr) {
        return bad_key(source, key, "expected an array of strings");
    }
    std::vector<std::string> out;
    for (const auto& item : *arr) {
        const auto* s = item.as_string();
        if (!s) {
            return bad_key(source, key, "expected an array of strings");
        }
        out.push_back(s->get());
    }
    return out;
}

/// Applies the mining keys of `table` to `options`; other keys go to `other`.
core::Result<void> read_options(const toml::table& table, std::string_view source, std::string_view prefix,
                                MinerOptions& options, const std::function<core::Result<bool>(
                                                           std::string_view, const toml::node&)>& other) {
    for (const auto& [k, v] : table) {
        const std::string key = std::string(prefix) + std::string(k.str());
        const auto name = k.str();
        if (name == "similarity") {
            auto d = v.value<double>();
            if (!d) return bad_key(source, key, "expected a number");
            options.similarity = *d;
        } else if (name == "depth" || name == "max_children") {
            auto i = v.value<std::int64_t>();
            if (!i || *i < 0) return bad_key(source, key, "expected a non-negative integer");
            (name == "depth" ? options.depth : options.max_children) = static_cast<std::size_t>(*i);
        } else if (name == "settled_after") {
            auto i = v.value<std::int64_t>();
            if (!i || *i < 0) return bad_key(source, key, "expected a non-negative integer");
            options.settled_after = static_cast<std::size_t>(*i);
        } else if (name == "generic_masking") {
            auto b = v.value<bool>();
            if (!b) return bad_key(source, key, "expected true or false");
            options.generic_masking = *b;
        } else if (name == "masks") {
            auto list = string_list(v, source, key);
            if (!list) return list.error();
            options.masks.insert(options.masks.end(), list->begin(), list->end());
        } else {
            auto handled = other(name, v);
            if (!handled) return handled.error();
            if (!*handled) return bad_key(source, key, "unknown key");
        }
    }
    return {};
}

}  // namespace

core::Result<ParserConfig> ParserConfig::from_toml(std::string_view toml_text, std::string_view source) {
    toml::table doc;
    try {
        doc = toml::parse(toml_text, source);
    } catch (const toml::parse_error& e) {
        std::ostringstream msg;
        msg << source << ":" << e.source().begin.line << ": " << e.description();
        return core::make_error(core::Errc::InvalidArgument, msg.str());
    }
    ParserConfig config;
    const auto* parser = doc["parser"].as_table();
    if (!parser) {
        if (doc.contains("parser")) {
            return bad_key(source, "parser", "expected a table");
        }
        return config;
    }
    const toml::array* formats = nullptr;
    auto top = read_options(*parser, source, "parser.", config.defaults,
                            [&](std::string_view name, const toml::node& v) -> core::Result<bool> {
                                auto size_key = [&](std::size_t& field) -> core::Result<bool> {
                                    auto i = v.value<std::int64_t>();
                                    if (!i || *i <= 0) {
                                        return bad_key(source, "parser." + std::string(name),
                                                       "expected a positive integer");
                                    }
                                    field = static_cast<std::size_t>(*i);
                                    return true;
                                };
                                if (name == "max_templates") return size_key(config.limits.max_templates);
                                if (name == "max_tokens") return size_key(config.limits.max_tokens);
                                if (name == "max_content_bytes") return size_key(config.limits.max_content_bytes);
                                if (name == "shards") return size_key(config.limits.shards);
                                if (name == "entities") {
                                    auto b = v.value<bool>();
                                    if (!b) return bad_key(source, "parser.entities", "expected true or false");
                                    config.entities = *b;
                                    return true;
                                }
                                if (name == "formats") {
                                    formats = v.as_array();
                                    if (!formats) return bad_key(source, "parser.formats", "expected [[parser.formats]]");
                                    return true;
                                }
                                return false;
                            });
    if (!top) {
        return top.error();
    }
    if (formats) {
        std::size_t index = 0;
        for (const auto& node : *formats) {
            const std::string where = "parser.formats[" + std::to_string(index++) + "].";
            const auto* t = node.as_table();
            if (!t) {
                return bad_key(source, where, "expected a table");
            }
            FormatConfig f;
            f.options = config.defaults;
            auto r = read_options(*t, source, where, f.options,
                                  [&](std::string_view name, const toml::node& v) -> core::Result<bool> {
                                      if (name == "name" || name == "format") {
                                          auto s = v.value<std::string>();
                                          if (!s) return bad_key(source, where + std::string(name), "expected a string");
                                          (name == "name" ? f.name : f.spec) = *s;
                                          return true;
                                      }
                                      return false;
                                  });
            if (!r) {
                return r.error();
            }
            if (f.name.empty()) {
                return bad_key(source, where + "name", "required");
            }
            if (f.spec.empty()) {
                const auto* builtin = find_builtin_format(f.name);
                if (!builtin) {
                    return bad_key(source, where + "format", "required (no built-in format '" + f.name + "')");
                }
                f.spec = std::string(builtin->spec);
            }
            if (auto compiled = LogFormat::compile(f.spec, f.name); !compiled) {
                return bad_key(source, where + "format", compiled.error().detail);
            }
            config.formats.push_back(std::move(f));
        }
    }
    return config;
}

core::Result<ParserConfig> ParserConfig::load_file(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return core::make_error(core::Errc::NotFound, "cannot read " + file.string());
    }
    std::ostringstream text;
    text << in.rdbuf();
    return from_toml(text.str(), file.string());
}

struct LogParser::Formats {
    std::shared_mutex mu;
    std::vector<std::unique_ptr<LogFormat>> headers;
    std::unordered_map<std::string, Format, StringHash, std::equal_to<>> by_name;
};

LogParser::~LogParser() = default;

core::Result<std::shared_ptr<LogParser>> LogParser::create(const ParserConfig& config) {
    std::shared_ptr<LogParser> p(new LogParser());
    p->config_ = config;
    auto miner = TemplateMiner::create(config.defaults, config.limits);
    if (!miner) {
        return miner.error();
    }
    p->miner_ = std::move(*miner);
    p->formats_ = std::make_unique<Formats>();
    for (const auto& f : config.formats) {
        auto compiled = LogFormat::compile(f.spec, f.name);
        if (!compiled) {
            return compiled.error();
        }
        if (auto r = p->miner_->add_format(f.name, f.options); !r) {
            return r.error();
        }
        p->formats_->headers.push_back(std::make_unique<LogFormat>(std::move(*compiled)));
        p->formats_->by_name[f.name] = Format{p->formats_->headers.back().get(), p->miner_->format_id(f.name)};
    }
    if (config.entities) {
        auto e = EntityExtractor::create();
        if (!e) {
            return e.error();
        }
        p->entities_ = std::move(*e);
    }
    return p;
}

core::Result<LogParser::Format> LogParser::resolve(std::string_view format) {
    {
        std::shared_lock lock(formats_->mu);
        if (auto it = formats_->by_name.find(format); it != formats_->by_name.end()) {
            return it->second;
        }
    }
    std::string spec;
    if (const auto* builtin = find_builtin_format(format)) {
        spec = std::string(builtin->spec);
    } else if (format.find('<') != std::string_view::npos) {
        spec = std::string(format);
    } else {
        return core::make_error(core::Errc::NotFound, "unknown log format '" + std::string(format) + "'");
    }
    auto compiled = LogFormat::compile(spec, std::string(format));
    if (!compiled) {
        return compiled.error();
    }
    const auto miner_format = miner_->format_id(format);
    std::unique_lock lock(formats_->mu);
    auto it = formats_->by_name.find(format);
    if (it == formats_->by_name.end()) {
        formats_->headers.push_back(std::make_unique<LogFormat>(std::move(*compiled)));
        it = formats_->by_name.emplace(std::string(format), Format{formats_->headers.back().get(), miner_format}).first;
    }
    return it->second;
}

core::Result<void> LogParser::parse(std::string_view format, std::string_view line, std::int64_t now_ms,
                                    ParsedLine& out) {
    auto resolved = resolve(format);
    if (!resolved) {
        return resolved.error();
    }
    parse(*resolved, line, now_ms, out);
    return {};
}

void LogParser::parse(const Format& format, std::string_view line, std::int64_t now_ms, ParsedLine& out) {
    out.header = format.header;
    out.header_matched = format.header->match(line, out.match);
    miner_->parse(format.miner_format, out.match.content, now_ms, out.tmpl);
    if (entities_) {
        entities_->extract(line, out.entities);
    } else {
        out.entities.items.clear();
        out.entities.outcome.clear();
        out.entities.authentication = false;
    }
}

void apply_to_event(const ParsedLine& parsed, model::Event& event) {
    event.template_id = parsed.tmpl.template_id;
    event.log_template = parsed.tmpl.template_text;
    if (parsed.tmpl.is_new) {
        event.labels["log.template_new"] = "true";
    }
    const auto& e = parsed.entities;
    if (event.source_ip.empty()) {
        if (const auto* ip = e.first(EntityType::Ipv4)) {
            event.source_ip = ip->value;
        } else if (const auto* ip6 = e.first(EntityType::Ipv6)) {
            event.source_ip = ip6->value;
        }
    }
    if (event.user_name.empty()) {
        if (const auto* u = e.first(EntityType::User)) {
            event.user_name = u->value;
        }
    }
    if (event.outcome.empty() && !e.outcome.empty()) {
        event.outcome = e.outcome;
    }
    // A log line of a login that succeeded or failed ("Failed password for", "Accepted
    // publickey for", "authentication failure") is an authentication event: what the
    // reports count, the graph follows from host to host and the ML features read, for
    // syslog and raw lines as for JSON events that say so themselves.
    if (event.category.empty() && e.authentication && (e.outcome == "success" || e.outcome == "failure")) {
        event.category = "authentication";
    }
    if (event.process_name.empty()) {
        if (const auto* p = e.first(EntityType::Process)) {
            event.process_name = p->value;
        }
    }
    if (!event.process_pid) {
        if (const auto* pid = e.first(EntityType::Pid); pid && pid->value.size() <= 10) {
            event.process_pid = std::stoll(pid->value);
        }
    }
}

}  // namespace sai::parser
