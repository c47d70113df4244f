#pragma once
// A trained model with everything needed to use it again: the forest, the
// feature schema it was trained on and, for tabular models, the column
// encodings. Saved as a versioned, checksummed binary file.
//
// File layout (little-endian):
//   "SAIMODEL"  8 bytes magic
//   u32         format version (kModelFormatVersion)
//   u64         payload length
//   payload     kind, schema, encoder, label column, forest (see model_file.cpp)
//   u32         CRC-32 of everything before it
// A wrong magic, an unknown version, a length or checksum mismatch, or an
// inconsistent forest (child or feature index out of range) is an
// InvalidArgument error; loading never crashes on a bad file.

#include "core/error.hpp"
#include "ml/isolation_forest.hpp"
#include "ml/random_forest.hpp"
#include "ml/tabular.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::ml {

inline constexpr std::uint32_t kModelFormatVersion = 1;

enum class ModelKind : std::uint32_t { IsolationForest = 1, RandomForest = 2 };
std::string_view to_string(ModelKind kind);

/// A model plus its schema. Immutable once built; share it as
/// std::shared_ptr<const Model> and call its const members from any thread.
struct Model {
    ModelKind kind = ModelKind::IsolationForest;
    /// Which feature vector the model expects: "tabular" for CSV models, or an
    /// extractor's schema name (FeatureExtractor::kSchemaName) and version.
    std::string schema_name = "tabular";
    std::uint32_t schema_version = 1;
    std::vector<std::string> feature_names;
    std::optional<TabularEncoder> encoder;  // tabular models only
    std::string label_column;               // the training target ("" for unlabelled IF)
    std::shared_ptr<const IsolationForest> isolation_forest;  // set when kind == IsolationForest
    std::shared_ptr<const RandomForest> random_forest;        // set when kind == RandomForest

    std::size_t n_features() const { return feature_names.size(); }
    /// InvalidArgument unless the model expects exactly this schema.
    core::Result<void> check_schema(std::string_view name, std::uint32_t version, std::size_t n_features) const;
};

std::string serialize_model(const Model& model);
core::Result<Model> deserialize_model(std::string_view bytes);

/// Writes atomically (temporary file, then rename). Errors: Unavailable on I/O.
core::Result<void> save_model(const Model& model, const std::filesystem::path& file);
core::Result<Model> load_model(const std::filesystem::path& file);

/// Recomputes the trailing checksum of a model image (tests and fuzzing use it
/// to reach the payload parser with corrupted content). Short input is returned as is.
std::string reseal_model_bytes(std::string bytes);

}  // namespace sai::ml
