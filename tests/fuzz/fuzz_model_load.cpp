// Fuzz target: the model file loader (ml::deserialize_model). Each input is
// tried as is (mostly stopped by the checksum) and resealed with a correct
// checksum, so mutations reach the payload parser and the tree validation.
// A model that loads must score a row without crashing.
#include "ml/model_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    for (const auto& input : {bytes, sai::ml::reseal_model_bytes(bytes)}) {
        auto model = sai::ml::deserialize_model(input);
        if (!model) {
            continue;
        }
        const std::vector<float> row(model->n_features(), 1.0f);
        if (model->isolation_forest) {
            (void)model->isolation_forest->score(row);
            (void)model->isolation_forest->explain(row, 3);
        }
        if (model->random_forest) {
            std::vector<double> proba(model->random_forest->n_classes());
            (void)model->random_forest->predict_proba(row, proba);
            (void)model->random_forest->explain(row, 0, 3);
        }
    }
    return 0;
}
