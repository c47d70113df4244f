#pragma once
// Country of an address, from the legacy GeoIP country databases that Debian
// ships in `geoip-database` (/usr/share/GeoIP/GeoIP.dat and GeoIPv6.dat, read
// with libGeoIP; loaded into memory, no download at run time), and an
// approximate position per country: the coordinates of the country's first
// time zone in tzdata's zone.tab (its principal city), good enough for a map.
// Thread-safe after open(): lookups only read.

#include "core/error.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sai::graph {

struct GeoIpOptions {
    std::string v4_database = "/usr/share/GeoIP/GeoIP.dat";
    std::string v6_database = "/usr/share/GeoIP/GeoIPv6.dat";  // optional: skipped when missing
    std::string zone_tab = "/usr/share/zoneinfo/zone.tab";     // optional: no coordinates when missing
};

struct Country {
    std::string code;  // ISO 3166 alpha-2
    std::string name;
};

struct Coordinates {
    double latitude = 0;
    double longitude = 0;
};

/// Parses zone.tab's ISO 6709 "+DDMM+DDDMM" or "+DDMMSS+DDDMMSS"; nullopt when malformed.
std::optional<Coordinates> parse_iso6709(std::string_view text);

class GeoIp {
public:
    /// Unavailable when the IPv4 database cannot be opened.
    static core::Result<std::unique_ptr<GeoIp>> open(const GeoIpOptions& options = {});
    ~GeoIp();

    /// nullopt for internal, reserved or unknown addresses.
    std::optional<Country> lookup(std::string_view ip) const;
    std::optional<Coordinates> coordinates(std::string_view country_code) const;
    std::optional<std::string> country_name(std::string_view country_code) const;

private:
    struct Impl;
    explicit GeoIp(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::graph
