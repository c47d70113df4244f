#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sai::core {
namespace {

TEST(IdsTest, UuidV7HasVersionAndVariant) {
    const std::string id = new_uuid_v7();
    ASSERT_TRUE(is_uuid(id)) << id;
    EXPECT_EQ(id[14], '7');
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
}

TEST(IdsTest, UuidV7SortsByCreationAndIsUnique) {
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 10000; ++i) {
        std::string id = new_uuid_v7();
        EXPECT_GT(id, previous);
        EXPECT_TRUE(seen.insert(id).second);
        previous = std::move(id);
    }
}

TEST(IdsTest, UuidV7StaysOrderedWhenTheCounterRunsOutWithinOneMillisecond) {
    const auto t = std::chrono::system_clock::now() + std::chrono::hours(1);  // a millisecond of its own
    std::string previous = new_uuid_v7(t);
    for (int i = 0; i < 10000; ++i) {  // far more than the 4,096 a counter holds
        std::string id = new_uuid_v7(t);
        ASSERT_GT(id, previous) << i;
        previous = std::move(id);
    }
    // A clock stepping back does not break the order either.
    EXPECT_GT(new_uuid_v7(t - std::chrono::seconds(5)), previous);
}

TEST(IdsTest, UuidV7EncodesTheTimestamp) {
    const auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(0x0123456789ab));
    EXPECT_EQ(new_uuid_v7(t).substr(0, 13), "01234567-89ab");
}

TEST(IdsTest, RejectsMalformedUuids) {
    EXPECT_FALSE(is_uuid(""));
    EXPECT_FALSE(is_uuid("0123456789abcdef0123456789abcdef0123"));
    EXPECT_FALSE(is_uuid("0193a4b0-7c1e-7abc-8def-0123456789ag"));
    EXPECT_TRUE(is_uuid("0193A4B0-7C1E-7ABC-8DEF-0123456789AB"));
}

TEST(IdsTest, RequestIdValidation) {
    EXPECT_TRUE(is_valid_request_id("abc-123_x.y:z"));
    EXPECT_FALSE(is_valid_request_id(""));
    EXPECT_FALSE(is_valid_request_id(std::string(129, 'a')));
    EXPECT_FALSE(is_valid_request_id("bad id"));
    EXPECT_FALSE(is_valid_request_id("line\nbreak"));
    EXPECT_FALSE(is_valid_request_id("quote\""));
}

}  // namespace
}  // namespace sai::core
