#pragma once
// Private: yaml-cpp 0.7 loops forever, allocating, on some invalid inputs (a ',' where a
// node should start, e.g. ",a" or "- a\n,b"). Every text goes through this bounded
// event-level parse before YAML::Load builds nodes from it.

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <sstream>
#include <stdexcept>
#include <string>

namespace sai::detection {

/// Throws YAML::Exception when `text` is not YAML or makes the parser emit more events
/// than any document of its size can hold.
inline void check_yaml_terminates(const std::string& text) {
    struct Counter final : YAML::EventHandler {
        std::size_t left;
        explicit Counter(std::size_t limit) : left(limit) {}
        void step() {
            if (left-- == 0) throw YAML::Exception(YAML::Mark::null_mark(), "invalid YAML (the parser does not terminate)");
        }
        void OnDocumentStart(const YAML::Mark&) override { step(); }
        void OnDocumentEnd() override { step(); }
        void OnNull(const YAML::Mark&, YAML::anchor_t) override { step(); }
        void OnAlias(const YAML::Mark&, YAML::anchor_t) override { step(); }
        void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { step(); }
        void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
            step();
        }
        void OnSequenceEnd() override { step(); }
        void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
            step();
        }
        void OnMapEnd() override { step(); }
    };
    // A valid document yields at most a few events per input byte ("a:" gives six).
    Counter counter(8 * text.size() + 64);
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(counter)) {
    }
}

}  // namespace sai::detection
