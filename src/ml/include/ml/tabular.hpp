#pragma once
// The tabular path: CSV files (plain or gzip) with a header row, numeric and
// categorical columns, encoded into a Matrix the same way at training and at
// evaluation time.
//
// Format: RFC 4180 CSV: comma-separated, optional double quotes ("" escapes a
// quote), LF or CRLF line ends, first line the column names. A gzip file is
// recognised by its magic bytes, whatever its name.
// Missing cells: "", "?", "NA", "NaN", "nan", "null" (case as written).
// A column is numeric when every present cell parses as a number; otherwise
// it is categorical: one-hot when it has at most TabularOptions::max_one_hot
// distinct values, else ordinal (categories by descending frequency).
// Missing numeric cells take the training median; a missing categorical cell
// is the category "". Categories unseen in training encode as all-zero
// one-hot / ordinal -1.

#include "core/error.hpp"
#include "ml/matrix.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sai::ml {

/// A CSV file held as text, column by column. Cells are unparsed.
struct CsvTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> columns;  // columns[c][row]
    std::size_t rows = 0;

    /// Index of the column named `name`, or -1.
    std::ptrdiff_t find(std::string_view name) const;
};

/// Parses CSV text. Errors (InvalidArgument, with the line number): no header,
/// duplicate or empty column names, a row with the wrong number of cells,
/// an unterminated quote.
core::Result<CsvTable> parse_csv(std::string_view text);
/// Reads and parses a .csv or gzip-compressed .csv.gz file.
core::Result<CsvTable> read_csv(const std::filesystem::path& file);

bool is_missing(std::string_view cell);

/// How to turn a table into features.
struct TabularOptions {
    std::string label_column;                // excluded from the features; "" = none
    std::vector<std::string> ignore_columns;  // excluded too (ids, other targets)
    std::size_t max_one_hot = 128;
};

/// How one input column becomes features; recorded in the model file.
struct ColumnEncoding {
    enum class Kind : std::uint8_t { Numeric = 0, OneHot = 1, Ordinal = 2 };
    std::string name;
    Kind kind = Kind::Numeric;
    std::vector<std::string> categories;  // OneHot / Ordinal
    float fill = 0;                       // Numeric: the value of a missing cell
};

/// The column encodings learnt from a training table. A value type: encode()
/// is const and thread-safe.
class TabularEncoder {
public:
    /// Errors: zero rows, a label or ignored column that does not exist, no
    /// feature column left.
    static core::Result<TabularEncoder> fit(const CsvTable& table, const TabularOptions& options);
    explicit TabularEncoder(std::vector<ColumnEncoding> columns = {});

    /// Errors: zero rows, a trained column missing from `table`, a
    /// non-numeric cell in a numeric column (row and column named).
    core::Result<Matrix> transform(const CsvTable& table) const;

    const std::vector<ColumnEncoding>& columns() const { return columns_; }
    const std::vector<std::string>& feature_names() const { return feature_names_; }

private:
    std::vector<ColumnEncoding> columns_;
    std::vector<std::string> feature_names_;
};

/// Class labels of one column: `classes` sorted (as sklearn's np.unique), and
/// each row's index into it.
struct LabelColumn {
    std::vector<std::string> classes;
    std::vector<std::int32_t> labels;
};

/// Reads `column` as class labels. With `known` (the model's classes), a
/// label outside it gets -1 and is counted in `unknown` by evaluation.
/// Errors: no such column, a missing label.
core::Result<LabelColumn> read_labels(const CsvTable& table, std::string_view column,
                                      const std::vector<std::string>* known = nullptr);

/// Parses a whole cell as a finite number.
bool parse_number(std::string_view cell, double& out);

}  // namespace sai::ml
