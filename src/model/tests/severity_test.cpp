#include "model/severity.hpp"

#include <gtest/gtest.h>

namespace sai::model {
namespace {

TEST(SeverityTest, RoundTripsNamesAndNumbers) {
    for (auto s : {Severity::Info, Severity::Low, Severity::Medium, Severity::High, Severity::Critical}) {
        EXPECT_EQ(parse_severity(to_string(s)), s);
    }
    EXPECT_EQ(parse_severity("HIGH"), Severity::High);
    EXPECT_EQ(parse_severity("3"), Severity::High);
    EXPECT_FALSE(parse_severity("5"));
    EXPECT_FALSE(parse_severity("severe"));
    EXPECT_FALSE(parse_severity(""));
}

TEST(SeverityTest, MapsSyslogLevels) {
    EXPECT_EQ(severity_from_syslog(0), Severity::Critical);
    EXPECT_EQ(severity_from_syslog(3), Severity::High);
    EXPECT_EQ(severity_from_syslog(4), Severity::Medium);
    EXPECT_EQ(severity_from_syslog(6), Severity::Info);
}

}  // namespace
}  // namespace sai::model
