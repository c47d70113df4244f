#include "graph/geoip.hpp"

#include <GeoIP.h>

#include <charconv>
#include <fstream>
#include <unordered_map>

namespace sai::graph {
namespace {

struct GeoIpCloser {
    void operator()(::GeoIP* g) const { GeoIP_delete(g); }
};
using GeoIpHandle = std::unique_ptr<::GeoIP, GeoIpCloser>;

/// "+DDMM" / "+DDMMSS" (latitude, 2 degree digits) or "+DDDMM" / "+DDDMMSS" (longitude, 3).
std::optional<double> parse_angle(std::string_view text, std::size_t degree_digits) {
    if (text.size() < 1 + degree_digits + 2 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
    const std::string_view digits = text.substr(1);
    if (digits.size() != degree_digits + 2 && digits.size() != degree_digits + 4) return std::nullopt;
    int parts[3] = {0, 0, 0};
    std::size_t pos = 0;
    for (int i = 0; i < 3 && pos < digits.size(); ++i) {
        const std::size_t len = i == 0 ? degree_digits : 2;
        if (std::from_chars(digits.data() + pos, digits.data() + pos + len, parts[i]).ec != std::errc{}) return std::nullopt;
        pos += len;
    }
    if (parts[1] >= 60 || parts[2] >= 60) return std::nullopt;
    const double value = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0;
    return text[0] == '-' ? -value : value;
}

}  // namespace

std::optional<Coordinates> parse_iso6709(std::string_view text) {
    const auto split = text.find_first_of("+-", 1);
    if (split == std::string_view::npos) return std::nullopt;
    auto lat = parse_angle(text.substr(0, split), 2);
    auto lon = parse_angle(text.substr(split), 3);
    if (!lat || !lon || *lat > 90 || *lat < -90 || *lon > 180 || *lon < -180) return std::nullopt;
    return Coordinates{*lat, *lon};
}

struct GeoIp::Impl {
    GeoIpHandle v4;
    GeoIpHandle v6;
    std::unordered_map<std::string, Coordinates> positions;
};

GeoIp::GeoIp(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GeoIp::~GeoIp() = default;

core::Result<std::unique_ptr<GeoIp>> GeoIp::open(const GeoIpOptions& options) {
    auto impl = std::make_unique<Impl>();
    // GEOIP_MEMORY_CACHE: the whole file in memory, read-only, so lookups from
    // several threads need no lock (the *_gl calls keep their state on the stack).
    impl->v4.reset(GeoIP_open(options.v4_database.c_str(), GEOIP_MEMORY_CACHE | GEOIP_SILENCE));
    if (!impl->v4) {
        return core::make_error(core::Errc::Unavailable,
                                "cannot open the GeoIP country database " + options.v4_database +
                                    " (install the geoip-database package)");
    }
    if (!options.v6_database.empty()) {
        impl->v6.reset(GeoIP_open(options.v6_database.c_str(), GEOIP_MEMORY_CACHE | GEOIP_SILENCE));
    }
    std::ifstream zones(options.zone_tab);
    std::string line;
    while (std::getline(zones, line)) {
        if (line.empty() || line[0] == '#') continue;
        const auto tab1 = line.find('\t');
        const auto tab2 = line.find('\t', tab1 + 1);
        if (tab1 != 2 || tab2 == std::string::npos) continue;
        // The first zone listed for a country is its most populous region's city.
        const std::string code = line.substr(0, 2);
        if (impl->positions.contains(code)) continue;
        if (auto c = parse_iso6709(std::string_view(line).substr(tab1 + 1, tab2 - tab1 - 1))) impl->positions[code] = *c;
    }
    return std::unique_ptr<GeoIp>(new GeoIp(std::move(impl)));
}

std::optional<Country> GeoIp::lookup(std::string_view ip) const {
    const std::string text(ip);
    GeoIPLookup gl{};
    int id = 0;
    if (text.find(':') != std::string::npos) {
        if (!impl_->v6) return std::nullopt;
        id = GeoIP_id_by_addr_v6_gl(impl_->v6.get(), text.c_str(), &gl);
    } else {
        id = GeoIP_id_by_addr_gl(impl_->v4.get(), text.c_str(), &gl);
    }
    const char* code = id > 0 ? GeoIP_code_by_id(id) : nullptr;
    // "--" is unknown; A1/A2/AP/EU/O1 are pseudo-countries (proxies, satellite, regions).
    if (!code || code[0] == '-' || code[0] == 0) return std::nullopt;
    const char* name = GeoIP_name_by_id(id);
    return Country{code, name ? name : code};
}

std::optional<Coordinates> GeoIp::coordinates(std::string_view country_code) const {
    auto it = impl_->positions.find(std::string(country_code));
    if (it == impl_->positions.end()) return std::nullopt;
    return it->second;
}

std::optional<std::string> GeoIp::country_name(std::string_view country_code) const {
    const int id = GeoIP_id_by_code(std::string(country_code).c_str());
    if (id <= 0) return std::nullopt;
    const char* name = GeoIP_name_by_id(id);
    return name ? std::optional<std::string>(name) : std::nullopt;
}

}  // namespace sai::graph
