#pragma once
// Sigma field names -> event fields, so one rule works on events from different shippers.
//
// A Sigma field name F is looked up, in order, at: the paths the mapping gives for F,
// F itself as an event path (ECS names such as `source.ip`, SecurityAI fields such
// as `ml.anomaly_score`), and `winlog.event_data.F` / `winlog.user_data.F` (Windows
// EventData names such as `Image`, `CommandLine`). A few Windows System names map to
// Winlogbeat paths (EventID -> winlog.event_id, Channel -> winlog.channel,
// Provider_Name -> winlog.provider_name, Computer -> winlog.computer_name...).
// Names compare case-insensitively.

#include "core/error.hpp"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sai::detection {

/// A value type: copy it into CompileOptions; read-only once a rule set is compiled.
class FieldMapping {
public:
    /// The built-in mapping: Windows System names, Linux/network/web names to ECS.
    static FieldMapping defaults();

    /// Parses `{"fieldmappings": {SigmaName: path | [paths]}}` (YAML) and adds it to the
    /// defaults. InvalidArgument on malformed input.
    static core::Result<FieldMapping> from_yaml(std::string_view yaml);

    /// Adds `event_path` as a place where `sigma_name` is found (kept in insertion order).
    void add(std::string_view sigma_name, std::string_view event_path);

    /// Every event path where `sigma_name` may be found, lowercased, most specific first.
    std::vector<std::string> candidates(std::string_view sigma_name) const;

private:
    std::map<std::string, std::vector<std::string>> paths_;  // lowercased sigma name -> event paths
};

}  // namespace sai::detection
