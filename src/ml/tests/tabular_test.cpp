#include "ml/tabular.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

namespace sai::ml {
namespace {

CsvTable parse(std::string_view text) {
    auto t = parse_csv(text);
    EXPECT_TRUE(t) << t.error().detail;
    return t ? *t : CsvTable{};
}

TEST(CsvTest, ParsesQuotedCellsAndCrlf) {
    auto t = parse("a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n2,z,\r\n");
    ASSERT_EQ(t.rows, 2u);
    EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(t.columns[1][0], "x,y");
    EXPECT_EQ(t.columns[2][0], "say \"hi\"");
    EXPECT_EQ(t.columns[2][1], "");
}

TEST(CsvTest, RowWithWrongCellCountNamesTheLine) {
    auto t = parse_csv("a,b\n1,2\n3\n");
    ASSERT_FALSE(t);
    EXPECT_NE(t.error().detail.find("line 3"), std::string::npos) << t.error().detail;
}

TEST(CsvTest, EmptyInputDuplicateColumnsAndOpenQuoteAreErrors) {
    EXPECT_FALSE(parse_csv(""));
    EXPECT_FALSE(parse_csv("a,a\n1,2\n"));
    EXPECT_FALSE(parse_csv("a,b\n\"1,2\n"));
}

TEST(CsvTest, ReadsGzipFiles) {
    const auto path = std::filesystem::path(testing::TempDir()) / "tabular_test.csv.gz";
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string text = "x,y\n1,a\n2,b\n";
    gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
    gzclose(f);
    auto t = read_csv(path);
    ASSERT_TRUE(t) << t.error().detail;
    EXPECT_EQ(t->rows, 2u);
    EXPECT_EQ(t->columns[1][1], "b");

    // A truncated gzip file is an error, not a short table.
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    EXPECT_FALSE(read_csv(path));
    std::filesystem::remove(path);
}

TEST(TabularEncoderTest, NumericOneHotMedianFillAndUnseenCategory) {
    auto train = parse("n,proto,label\n1,tcp,a\n,udp,b\n5,tcp,a\n3,icmp,b\n");
    auto enc = TabularEncoder::fit(train, {.label_column = "label"});
    ASSERT_TRUE(enc) << enc.error().detail;
    EXPECT_EQ(enc->feature_names(), (std::vector<std::string>{"n", "proto=icmp", "proto=tcp", "proto=udp"}));
    auto m = enc->transform(train);
    ASSERT_TRUE(m);
    EXPECT_FLOAT_EQ(m->at(1, 0), 3.0f);  // median of 1, 5, 3
    EXPECT_FLOAT_EQ(m->at(0, 2), 1.0f);
    EXPECT_FLOAT_EQ(m->at(0, 1), 0.0f);

    auto test = parse("proto,n\ngre,7\n");  // other column order, unseen category
    auto mt = enc->transform(test);
    ASSERT_TRUE(mt) << mt.error().detail;
    EXPECT_FLOAT_EQ(mt->at(0, 0), 7.0f);
    EXPECT_FLOAT_EQ(mt->at(0, 1) + mt->at(0, 2) + mt->at(0, 3), 0.0f);
}

TEST(TabularEncoderTest, ManyCategoriesBecomeOrdinalByFrequency) {
    auto t = parse("c\nx\ny\ny\nz\n");
    auto enc = TabularEncoder::fit(t, {.max_one_hot = 2});
    ASSERT_TRUE(enc);
    ASSERT_EQ(enc->columns()[0].kind, ColumnEncoding::Kind::Ordinal);
    auto m = enc->transform(parse("c\ny\nx\nw\n"));
    ASSERT_TRUE(m);
    EXPECT_FLOAT_EQ(m->at(0, 0), 0.0f);  // most frequent first
    EXPECT_FLOAT_EQ(m->at(1, 0), 1.0f);
    EXPECT_FLOAT_EQ(m->at(2, 0), -1.0f);  // unseen
}

TEST(TabularEncoderTest, BadInputIsAnErrorNamingRowAndColumn) {
    auto enc = TabularEncoder::fit(parse("a,b\n1,2\n3,4\n"), {});
    ASSERT_TRUE(enc);
    auto bad_cell = enc->transform(parse("a,b\n1,2\n3,oops\n"));
    ASSERT_FALSE(bad_cell);
    EXPECT_NE(bad_cell.error().detail.find("row 2, column 'b'"), std::string::npos) << bad_cell.error().detail;
    auto missing = enc->transform(parse("a\n1\n"));
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().detail.find("'b'"), std::string::npos);
    EXPECT_FALSE(enc->transform(parse("a,b\n")));                         // zero rows
    EXPECT_FALSE(TabularEncoder::fit(parse("a,b\n"), {}));                // zero rows
    EXPECT_FALSE(TabularEncoder::fit(parse("a\n1\n"), {.label_column = "a"}));  // no feature left
    EXPECT_FALSE(TabularEncoder::fit(parse("a\n1\n"), {.label_column = "nope"}));
}

TEST(TabularEncoderTest, ConstantColumnIsKept) {
    auto enc = TabularEncoder::fit(parse("a,b\n1,7\n2,7\n"), {});
    ASSERT_TRUE(enc);
    EXPECT_EQ(enc->feature_names().size(), 2u);
}

TEST(LabelsTest, ClassesAreSortedAndUnknownLabelsMarked) {
    auto t = parse("y\nb\na\nc\na\n");
    auto l = read_labels(t, "y");
    ASSERT_TRUE(l);
    EXPECT_EQ(l->classes, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(l->labels, (std::vector<std::int32_t>{1, 0, 2, 0}));
    const std::vector<std::string> known{"a", "b"};
    auto k = read_labels(t, "y", &known);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->labels[2], -1);
    EXPECT_FALSE(read_labels(parse("x,y\n1,a\n\n2,?\n"), "y"));  // a blank line is skipped; "?" is missing
    EXPECT_FALSE(read_labels(t, "z"));
}

}  // namespace
}  // namespace sai::ml
