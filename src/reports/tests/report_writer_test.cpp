#include "reports/report_writer.hpp"

#include "report_test_util.hpp"
#include "testkit/temp_dir.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sai::reports {
namespace {

using namespace sai::reports::testing;

const Column kColumns[] = {{"name", 2, false}, {"count", 1, true}, {"note", 3, false}};

std::string write(const std::filesystem::path& file, std::string_view format, int rows, WriteSummary* summary = nullptr) {
    auto w = make_report_writer(format, file);
    EXPECT_TRUE(w);
    (*w)->begin({"0190a3c4-8b7e-7d2f-9e1a-000000000001", "alerts", "Test <report>", 1'795'000'000'000,
                 1'794'000'000'000, 1'795'000'000'000});
    (*w)->heading("Section");
    (*w)->paragraph("A paragraph with <script>alert(1)</script> in it.");
    (*w)->chart({Chart::Kind::Bar, "Bars", "kind", "n", {{"a", 3, ""}, {"b", 5, "#e5533d"}}});
    (*w)->table_begin("Rows", kColumns);
    for (int i = 0; i < rows; ++i) {
        const std::string cells[] = {i == 0 ? "=HYPERLINK(\"http://evil\")" : "row " + std::to_string(i),
                                     std::to_string(i * 10),
                                     i == 1 ? std::string(400, 'x') + " then, a \"quote\"\nand a new line" : "ok"};
        (*w)->table_row(cells);
    }
    (*w)->table_end();
    auto done = (*w)->finish();
    EXPECT_TRUE(done);
    if (done && summary) *summary = *done;
    return read_file(file);
}

TEST(ReportWriterTest, CsvQuotesAndDefusesFormulas) {
    testkit::TempDir dir;
    const auto blocks = parse_csv_blocks(write(dir.path() / "r.csv", "csv", 3));
    const auto rows = find_block(blocks, {"name", "count", "note"});
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[1][0], "'=HYPERLINK(\"http://evil\")");
    EXPECT_EQ(rows[2][2], std::string(400, 'x') + " then, a \"quote\"\nand a new line");
    EXPECT_EQ(find_block(blocks, {"kind", "n"}).size(), 3u);
    EXPECT_EQ(find_block(blocks, {"note"}).at(1).at(0), "A paragraph with <script>alert(1)</script> in it.");
}

TEST(ReportWriterTest, JsonIsValidWithNumbersAsNumbers) {
    testkit::TempDir dir;
    const auto doc = boost::json::parse(write(dir.path() / "r.json", "json", 3)).as_object();
    EXPECT_EQ(doc.at("report").at("title"), "Test <report>");
    const auto& sections = doc.at("sections").as_array();
    ASSERT_EQ(sections.size(), 4u);
    const auto& rows = sections[3].at("rows").as_array();
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[2].at("count").to_number<double>(), 20);
    EXPECT_EQ(sections[2].at("points").as_array()[1].at("value").to_number<double>(), 5);
}

TEST(ReportWriterTest, HtmlIsEscapedAndSelfContained) {
    testkit::TempDir dir;
    const auto html = write(dir.path() / "r.html", "html", 3);
    EXPECT_EQ(html.find("<script>"), std::string::npos);
    EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
    EXPECT_NE(html.find("<svg"), std::string::npos);
    EXPECT_NE(html.find("<rect"), std::string::npos);
    for (const char* external : {"<link", "src=", "href=", "url("}) {
        EXPECT_EQ(html.find(external), std::string::npos) << external;
    }
}

TEST(ReportWriterTest, PdfBreaksLongTablesIntoNumberedPages) {
    testkit::TempDir dir;
    WriteSummary summary;
    const auto pdf = write(dir.path() / "r.pdf", "pdf", 400, &summary);
    EXPECT_TRUE(pdf.starts_with("%PDF-"));
    EXPECT_GE(summary.pages, 5);
    ASSERT_EQ(summary.charts.size(), 1u);
    if (have_pdftoppm()) {
        const Image last = render_page(dir.path() / "r.pdf", summary.pages, 50);
        ASSERT_GT(last.width, 0);
        const auto& box = summary.charts[0];
        EXPECT_GT(coloured_pixels(render_page(dir.path() / "r.pdf", 1, 50), 50, box.x, box.y, box.width, box.height),
                  100);
        EXPECT_EQ(std::system(("pdftotext -f 3 -l 3 '" + (dir.path() / "r.pdf").string() + "' '" +
                               (dir.path() / "p3.txt").string() + "'")
                                  .c_str()),
                  0);
        const auto text = read_file(dir.path() / "p3.txt");
        EXPECT_NE(text.find("Page 3"), std::string::npos);
        EXPECT_NE(text.find("count"), std::string::npos) << "the header row is repeated on each page";
    }
}

TEST(ReportWriterTest, UnwritableFileIsAnError) {
    EXPECT_FALSE(make_report_writer("csv", "/nonexistent-dir/r.csv"));
    EXPECT_FALSE(make_report_writer("pdf", "/nonexistent-dir/r.pdf"));
    EXPECT_FALSE(make_report_writer("docx", "/tmp/r.docx"));
}

}  // namespace
}  // namespace sai::reports
