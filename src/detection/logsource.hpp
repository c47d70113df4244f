#pragma once
// Private: which events a rule's `logsource` lets it see.
//
// Windows events (those with winlog.channel or winlog.event_id) are classified as
// Sigma's Windows pipelines do: service by channel, category by provider/channel and
// event id (Sysmon 1 = process_creation, Security 4688 = process_creation, PowerShell
// 4104 = ps_script...). Other events: a Windows rule never applies; product and service
// come from ECS event.module when set (zeek, aws, okta...), else are unknown and do not
// restrict; category compares with ECS event.category. A rule that matches by absence
// (e.g. "condition: not selection") needs a known logsource: it sees only Windows
// events or events whose event.module names its product.

#include "compiled.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sai::detection {

struct EventSource {
    bool windows = false;
    std::string product;   // "windows", or ECS event.module, lowercased; empty when unknown
    std::string channel;   // lowercased
    std::string provider;  // lowercased
    std::int64_t event_id = -1;
    std::string category;  // ECS event.category, lowercased
};

bool logsource_applies(const CompiledRule& rule, const EventSource& event);

/// The logsource classes of `set` whose logsource applies to `event`.
ClassSet applying_classes(const CompiledRuleSet::Impl& set, const EventSource& event);

/// Sources standing for the kinds of events rules are written for: each Windows channel
/// of the tables (any event id), each Windows event id the tables give a category, and
/// non-Windows events of each of `products` and of no known product. The compiler
/// groups rules by the sources they apply to.
std::vector<EventSource> typical_sources(const std::vector<std::string>& products);

}  // namespace sai::detection
