#pragma once
// Durable home of security events: idempotent batched inserts, filtered and
// full-text queries (newest first, keyset pagination), counts, retention.

#include "core/error.hpp"
#include "model/event.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sai::storage {

struct EventQuery {
    std::optional<std::int64_t> from_ms;  // inclusive
    std::optional<std::int64_t> to_ms;    // exclusive
    std::optional<std::string> host;
    std::optional<std::string> user;
    std::optional<std::string> category;
    std::optional<std::string> outcome;
    std::optional<std::string> threat_class;
    std::optional<std::pair<std::string, std::string>> source_range;       // model::ip_sort_key bounds
    std::optional<std::pair<std::string, std::string>> destination_range;  // model::ip_sort_key bounds
    std::optional<std::int64_t> severity_min;
    std::optional<double> anomaly_min;
    std::optional<std::string> text;  // words that must all appear in the message
    std::optional<std::pair<std::int64_t, std::string>> before;  // cursor: (timestamp, id) of the last row seen
    std::size_t limit = 100;
};

struct InsertResult {
    std::size_t inserted = 0;
    std::size_t duplicates = 0;  // ids already stored: not inserted again
};

class EventStore {
public:
    virtual ~EventStore() = default;

    /// All in one transaction: either every new event is durable or none is.
    virtual core::Result<InsertResult> insert_batch(std::span<const model::Event> events) = 0;
    virtual core::Result<model::Event> get(std::string_view id) = 0;
    /// Newest first (by @timestamp, then id).
    virtual core::Result<std::vector<model::Event>> query(const EventQuery& query) = 0;
    virtual core::Result<std::int64_t> count() = 0;
    /// Events stored so far, per event.category ("" for none).
    virtual core::Result<std::map<std::string, std::int64_t>> count_by_category() = 0;
    /// Deletes up to `max_rows` events older than `before_ms`; returns how many.
    virtual core::Result<std::size_t> delete_before(std::int64_t before_ms, std::size_t max_rows) = 0;
};

}  // namespace sai::storage
