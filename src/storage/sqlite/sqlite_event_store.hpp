#pragma once
// Private: the SQLite EventStore (events table + FTS5 index on message).

#include "sqlite_db.hpp"
#include "storage/event_store.hpp"

namespace sai::storage::sqlite {

class SqliteEventStore final : public EventStore {
public:
    explicit SqliteEventStore(SqliteStore::Impl& db) : db_(db) {}
    core::Result<InsertResult> insert_batch(std::span<const model::Event> events) override;
    core::Result<model::Event> get(std::string_view id) override;
    core::Result<std::vector<model::Event>> query(const EventQuery& query) override;
    core::Result<std::int64_t> count() override;
    core::Result<std::map<std::string, std::int64_t>> count_by_category() override;
    core::Result<std::size_t> delete_before(std::int64_t before_ms, std::size_t max_rows) override;

private:
    SqliteStore::Impl& db_;
};

/// An FTS5 query that matches messages containing every word of `text`, with
/// each word quoted so that user input is never FTS5 syntax. nullopt when empty.
std::optional<std::string> fts_all_words(std::string_view text);

}  // namespace sai::storage::sqlite
