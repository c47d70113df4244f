#include "graph/user_behavior.hpp"

#include <gtest/gtest.h>

namespace sai::graph {
namespace {

constexpr std::int64_t kDay0 = 1'795'000'000'000 / 86'400'000 * 86'400'000;  // a midnight UTC
constexpr std::int64_t kHour = 3'600'000;

UserActivity office(const std::string& user, int day, int hour, const std::string& host = "ws-01") {
    return {user, kDay0 + day * 24 * kHour + hour * kHour, host, "10.0.1.5", "", 1000, true, "e"};
}

TEST(UserBehaviorTest, NormalActivityScoresZeroAndDeviationsScoreHigh) {
    UserBehavior b;
    for (int day = 0; day < 10; ++day) {
        for (int hour = 9; hour < 17; hour += 2) EXPECT_DOUBLE_EQ(b.observe(office("alice", day, hour)), 0.0);
    }
    EXPECT_DOUBLE_EQ(b.observe(office("alice", 10, 11)), 0.0);
    auto night = office("alice", 10, 3, "db-01");
    night.country = "RU";
    night.bytes = 50'000'000;
    const double score = b.observe(night);
    EXPECT_GT(score, 0.75);
    const UserProfile* p = b.find("alice");
    ASSERT_TRUE(p);
    ASSERT_EQ(p->deviations.size(), 1u);
    EXPECT_EQ(p->deviations[0].reasons,
              (std::vector<std::string>{"unusual_hour", "new_host", "new_country", "volume"}));
    EXPECT_DOUBLE_EQ(p->score, score);
}

TEST(UserBehaviorTest, NoScoresBeforeABaselineExistsAndRankingPutsRiskyUsersFirst) {
    UserBehavior b;
    auto odd = office("bob", 0, 3, "db-01");
    odd.country = "KP";
    EXPECT_DOUBLE_EQ(b.observe(odd), 0.0);  // nothing to compare with yet
    for (int day = 0; day < 10; ++day) {
        for (int hour = 9; hour < 17; hour += 2) {
            b.observe(office("carol", day, hour));
            b.observe(office("dave", day, hour));
        }
    }
    b.observe(office("dave", 10, 2, "dc-01"));
    auto ranked = b.ranked(10);
    ASSERT_EQ(ranked.size(), 3u);
    EXPECT_EQ(ranked[0]->user, "dave");
}

TEST(UserBehaviorTest, UsersAreBounded) {
    UserBehaviorOptions o;
    o.max_users = 10;
    UserBehavior b(o);
    for (int i = 0; i < 100; ++i) b.observe(office("u" + std::to_string(i), 0, i % 24));
    EXPECT_EQ(b.size(), 10u);
    EXPECT_TRUE(b.find("u99"));
}

}  // namespace
}  // namespace sai::graph
