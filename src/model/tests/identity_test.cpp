#include "model/identity.hpp"

#include <gtest/gtest.h>

namespace sai::model {
namespace {

TEST(IdentityTest, RolesRoundTripAndOrder) {
    for (auto r : {Role::Viewer, Role::Analyst, Role::Admin}) {
        EXPECT_EQ(parse_role(to_string(r)), r);
    }
    EXPECT_FALSE(parse_role("root"));
    EXPECT_FALSE(parse_role("Admin"));
    EXPECT_LT(Role::Viewer, Role::Analyst);
    EXPECT_LT(Role::Analyst, Role::Admin);
}

TEST(IdentityTest, ActorNamesTheKind) {
    Principal p{.kind = Principal::Kind::ApiKey, .id = "k1", .name = "shipper"};
    EXPECT_EQ(p.actor(), "apikey:shipper");
    p.kind = Principal::Kind::User;
    p.name = "alice";
    EXPECT_EQ(p.actor(), "user:alice");
}

}  // namespace
}  // namespace sai::model
