#include "graph/geoip.hpp"

#include <gtest/gtest.h>

namespace sai::graph {
namespace {

TEST(GeoIpTest, ParsesIso6709) {
    auto paris = parse_iso6709("+4852+00220");
    ASSERT_TRUE(paris);
    EXPECT_NEAR(paris->latitude, 48.867, 0.001);
    EXPECT_NEAR(paris->longitude, 2.333, 0.001);
    auto seconds = parse_iso6709("-332154-0703828");
    ASSERT_TRUE(seconds);
    EXPECT_NEAR(seconds->latitude, -33.365, 0.001);
    EXPECT_NEAR(seconds->longitude, -70.641, 0.001);
    EXPECT_FALSE(parse_iso6709("4852+00220"));
    EXPECT_FALSE(parse_iso6709("+4872+00220"));
    EXPECT_FALSE(parse_iso6709(""));
}

// Debian's geoip-database (a build and runtime dependency, see scripts/install-deps.sh).
TEST(GeoIpTest, LooksUpCountriesFromTheDebianDatabase) {
    auto geo = GeoIp::open();
    ASSERT_TRUE(geo) << geo.error().detail;
    auto us = (*geo)->lookup("8.8.8.8");  // Google DNS, US in every edition of the database
    ASSERT_TRUE(us);
    EXPECT_EQ(us->code, "US");
    EXPECT_EQ(us->name, "United States");
    auto nl = (*geo)->lookup("193.0.6.139");  // RIPE NCC, Amsterdam
    ASSERT_TRUE(nl);
    EXPECT_EQ(nl->code, "NL");
    EXPECT_FALSE((*geo)->lookup("10.0.0.1"));
    EXPECT_FALSE((*geo)->lookup("203.0.113.5"));  // documentation range
    EXPECT_FALSE((*geo)->lookup("not an address"));
    auto pos = (*geo)->coordinates("NL");
    ASSERT_TRUE(pos);
    EXPECT_NEAR(pos->latitude, 52.4, 0.5);  // Europe/Amsterdam
    EXPECT_FALSE((*geo)->coordinates("XX"));
}

TEST(GeoIpTest, AMissingDatabaseIsAnError) {
    GeoIpOptions o;
    o.v4_database = "/nonexistent/GeoIP.dat";
    auto geo = GeoIp::open(o);
    ASSERT_FALSE(geo);
    EXPECT_EQ(geo.error().code, core::Errc::Unavailable);
}

}  // namespace
}  // namespace sai::graph
