#include "core/log.hpp"

#include "core/json_text.hpp"

#include <gtest/gtest.h>

namespace sai::core::log {
namespace {

TEST(LogTest, LineIsOneJsonObjectWithTypedFields) {
    const std::string line = format_line(Level::Info, "request", {{"path", "/health"}, {"status", 200},
                                                                  {"ok", true}, {"ms", 1.5}},
                                         "2026-11-29T09:00:00.000Z");
    EXPECT_EQ(line,
              R"({"ts":"2026-11-29T09:00:00.000Z","level":"info","msg":"request","path":"/health","status":200,)"
              R"("ok":true,"ms":1.5})");
}

TEST(LogTest, EscapesControlCharactersQuotesAndInvalidUtf8) {
    std::string out;
    core::append_json_string(out, std::string("a\"b\\c\nd\x01" "\xff" "\xc3\xa9", 11));
    EXPECT_EQ(out, R"("a\"b\\c\nd\u0001\ufffdé")");
}

TEST(LogTest, RejectsOverlongUtf8) {
    std::string out;
    core::append_json_string(out, "\xc0\xaf");
    EXPECT_EQ(out, R"("\ufffd\ufffd")");
}

TEST(LogTest, ParsesLevels) {
    Level level = Level::Info;
    EXPECT_TRUE(parse_level("warning", level));
    EXPECT_EQ(level, Level::Warn);
    EXPECT_FALSE(parse_level("loud", level));
}

}  // namespace
}  // namespace sai::core::log
