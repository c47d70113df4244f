// Fuzz target: syslog parsing (RFC 5424/3164) and RFC 6587 framing of untrusted bytes.
#include "pipeline/syslog.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)sai::pipeline::parse_syslog(input, 1'795'000'000'000, "127.0.0.1");
    sai::pipeline::SyslogFramer framer;
    // Feed in two pieces, as TCP reads would arrive.
    const std::size_t half = size / 2;
    for (auto part : {input.substr(0, half), input.substr(half)}) {
        for (const auto& frame : framer.feed(part).frames) {
            (void)sai::pipeline::parse_syslog(frame, 1'795'000'000'000);
        }
    }
    return 0;
}
