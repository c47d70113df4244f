#pragma once
// Model parameters from text ("n_estimators" = "200"), as the CLI's --param
// k=v and a training API's JSON give them, and back to text for metadata.

#include "core/error.hpp"
#include "ml/isolation_forest.hpp"
#include "ml/random_forest.hpp"

#include <map>
#include <string>
#include <string_view>

namespace sai::ml {

/// Sets one parameter by its scikit-learn name. Errors name the key and the
/// accepted values. Also accepts "random_state" (alias "seed").
core::Result<void> set_param(IsolationForestParams& params, std::string_view key, std::string_view value);
core::Result<void> set_param(RandomForestParams& params, std::string_view key, std::string_view value);

/// Every parameter as text, for model metadata and logs.
std::map<std::string, std::string> describe(const IsolationForestParams& params);
std::map<std::string, std::string> describe(const RandomForestParams& params);

}  // namespace sai::ml
