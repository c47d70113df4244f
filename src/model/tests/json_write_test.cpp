#include "model/json_write.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace sai::model {
namespace bj = boost::json;
namespace {

TEST(JsonWrite, DoublesInPlainNotationThatReadBackAsDoubles) {
    EXPECT_EQ(to_json_text(bj::value(75.0)), "75.0");
    EXPECT_EQ(to_json_text(bj::value(0.0)), "0.0");
    EXPECT_EQ(to_json_text(bj::value(-0.0)), "-0.0");
    EXPECT_EQ(to_json_text(bj::value(85.045)), "85.045");
    EXPECT_EQ(to_json_text(bj::value(0.1)), "0.1");
    EXPECT_EQ(to_json_text(bj::value(1e300)), "1e+300");
    EXPECT_EQ(to_json_text(bj::value(1.5e-7)), "1.5e-07");
    EXPECT_EQ(to_json_text(bj::value(std::nan(""))), "null");
    EXPECT_EQ(to_json_text(bj::value(std::numeric_limits<double>::infinity())), "null");
    EXPECT_TRUE(bj::parse("75.0").is_double());
    EXPECT_TRUE(bj::parse("1e+300").is_double());
}

TEST(JsonWrite, ScalarsAndStructureAsBoostWritesThem) {
    const bj::value v = bj::parse(R"({"a":[1,-2,18446744073709551615,true,false,null],"b":{"c":"d"},"":[],"e":{}})");
    EXPECT_EQ(to_json_text(v), bj::serialize(v));
    EXPECT_EQ(to_json_text(v.get_object()), bj::serialize(v));
    EXPECT_EQ(to_json_text(v.at("a").get_array()), bj::serialize(v.at("a")));
}

TEST(JsonWrite, StringsAreEscapedAndReadBackEqual) {
    std::string s = "quote \" backslash \\ newline \n tab \t nul ";
    s.push_back('\0');
    s += " \x01 \x1f \x7f caf\xc3\xa9 \xf0\x9f\x94\x92 /";
    const std::string text = to_json_text(bj::value(s));
    EXPECT_EQ(bj::parse(text).get_string(), s);
    EXPECT_EQ(text.find('\n'), std::string::npos);
    // Invalid UTF-8 becomes U+FFFD, so the text is always valid JSON.
    EXPECT_EQ(bj::parse(to_json_text(bj::value("a\xff" "b"))).get_string(), "a\xef\xbf\xbd" "b");
}

TEST(JsonWrite, EverySpecialByteIsFoundWhereverItStands) {
    // Special bytes at every offset of a longer text, so that the scan sixteen bytes
    // at a time and the byte loop after it both meet each of them.
    for (const std::string& special : std::vector<std::string>{"\"", "\\", "\n", std::string(1, '\0'), "\x1f", "\x7f", "\xc3\xa9", "\xff"}) {
        for (std::size_t at = 0; at < 40; ++at) {
            std::string s(40, 'x');
            s.insert(at, special);
            const std::string text = to_json_text(bj::value(s));
            const std::string expected = special == "\xff" ? std::string(s).replace(at, 1, "\xef\xbf\xbd") : s;
            ASSERT_EQ(bj::parse(text).get_string(), expected) << at;
            if (special != "\"" && special != "\\" && special != "\xc3\xa9") {  // control bytes are escaped
                ASSERT_EQ(text.find(special, 1), std::string::npos) << at << " " << text;
            }
        }
    }
}

bj::value random_value(std::mt19937_64& rng, int depth) {
    switch (rng() % (depth > 3 ? 5 : 7)) {
    case 0: return nullptr;
    case 1: return static_cast<std::int64_t>(rng());
    case 2: return (static_cast<double>(rng() % 2000001) - 1000000.0) / 64.0;  // exact in few digits
    case 3: return rng() % 2 == 0;
    case 4: {
        std::string s;
        for (std::size_t i = 0, n = rng() % 12; i < n; ++i) s.push_back(static_cast<char>(rng() % 128));
        return bj::value(s);
    }
    case 5: {
        bj::array a;
        for (std::size_t i = 0, n = rng() % 4; i < n; ++i) a.push_back(random_value(rng, depth + 1));
        return a;
    }
    default: {
        bj::object o;
        for (std::size_t i = 0, n = rng() % 4; i < n; ++i) {
            o[std::to_string(rng() % 100)] = random_value(rng, depth + 1);
        }
        return o;
    }
    }
}

// Boost 1.81's parser may miss the last bit of a long number, so the exact round trip
// of any double is checked with the standard library's correctly rounded reader.
TEST(JsonWrite, EveryDoubleReadsBackExactly) {
    std::mt19937_64 rng(11);
    for (int i = 0; i < 100000; ++i) {
        double d;
        const std::uint64_t bits = rng();
        std::memcpy(&d, &bits, sizeof d);
        if (!std::isfinite(d)) {
            continue;
        }
        const std::string text = to_json_text(bj::value(d));
        double back = 0;
        ASSERT_EQ(std::from_chars(text.data(), text.data() + text.size(), back).ec, std::errc()) << text;
        ASSERT_EQ(std::memcmp(&back, &d, sizeof d), 0) << text;
        ASSERT_TRUE(bj::parse(text).is_double()) << text;
    }
}

TEST(JsonWrite, EveryValueReadsBackEqual) {
    std::mt19937_64 rng(7);
    for (int i = 0; i < 2000; ++i) {
        const bj::value v = random_value(rng, 0);
        ASSERT_EQ(bj::parse(to_json_text(v)), v) << bj::serialize(v);
    }
}

}  // namespace
}  // namespace sai::model
