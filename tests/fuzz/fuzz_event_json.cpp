// Fuzz target: the event JSON mapping (nested, dotted, flat forms) and its round trip.
#include "model/event.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 16;
    auto value = boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, options);
    if (ec || !value.is_object()) {
        return 0;
    }
    auto event = sai::model::event_from_json(value.as_object(), 1'795'000'000'000);
    if (!event) {
        return 0;
    }
    // What was accepted must serialise and map back to the same id.
    auto again = sai::model::event_from_json(sai::model::event_to_json(*event), 1'795'000'000'000);
    if (!again || again->id != event->id) {
        std::abort();
    }
    (void)sai::model::cidr_range(event->source_ip);
    return 0;
}
