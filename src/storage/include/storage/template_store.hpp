#pragma once
// Durable home of the log templates the parser has mined, so that template ids
// and counts survive restarts. The parser stage saves its state periodically and
// at shutdown, and restores it at start.

#include "core/error.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sai::storage {

struct TemplateRecord {
    std::string id;        // stable template id
    std::string format;    // the header format it was mined under ("syslog", "openssh"...)
    std::string text;      // the template, variables as <*>
    std::int64_t count = 0;
    std::int64_t first_seen = 0;  // Unix ms
    std::int64_t last_seen = 0;
};

/// Thread-safe; synchronous.
class TemplateStore {
public:
    virtual ~TemplateStore() = default;
    /// Inserts or replaces by id, in one transaction.
    virtual core::Result<void> save_templates(std::span<const TemplateRecord> templates) = 0;
    /// Removes templates no longer known to the miner (evicted).
    virtual core::Result<void> delete_templates(std::span<const std::string> ids) = 0;
    virtual core::Result<std::vector<TemplateRecord>> load_templates() = 0;
};

}  // namespace sai::storage
