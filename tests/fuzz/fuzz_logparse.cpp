// Fuzz target: log header formats (compile and match), template mining and entity
// extraction over untrusted bytes. The first byte picks a built-in format; the rest is
// split into lines, each parsed; the first line is also compiled as a format string and
// matched against the second. The miner is shared across inputs with a small cap, so
// eviction paths run too.
#include "parser/log_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

sai::parser::LogParser& shared_parser() {
    static auto parser = [] {
        sai::parser::ParserConfig config;
        config.limits.max_templates = 64;
        config.limits.shards = 2;
        config.defaults.max_children = 8;
        config.defaults.masks = {"@ipv4_port", R"(blk_-?\d+)"};
        return sai::parser::LogParser::create(config).value();
    }();
    return *parser;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    auto& parser = shared_parser();
    const auto formats = sai::parser::builtin_formats();
    const auto& builtin = formats[data[0] % formats.size()];
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    sai::parser::ParsedLine parsed;
    std::string_view rest = input;
    std::string_view lines[2];
    for (int n = 0; !rest.empty() && n < 64; ++n) {
        const auto nl = rest.find('\n');
        const auto line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        if (n < 2) {
            lines[n] = line;
        }
        (void)parser.parse(builtin.name, line, n, parsed);
    }
    if (auto format = sai::parser::LogFormat::compile(lines[0]); format) {
        sai::parser::HeaderMatch match;
        (void)format->match(lines[1], match);
    }
    return 0;
}
