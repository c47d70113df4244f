#pragma once
// Private: a compiled Hyperscan block-mode database, and the
// per-thread scratch space it needs. Compiled once, shared read-only by all threads.

#include "core/error.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;

namespace sai::parser::detail {

struct HsPattern {
    std::string regex;
    unsigned id = 0;
    bool caseless = false;
    bool start_of_match = true;  // report where a match starts (about 2x slower)
    bool single_match = false;   // report only the first match of this pattern
};

/// One multi-pattern Hyperscan database. scan() may be called from any thread:
/// each thread gets its own scratch, allocated on first use.
class HsDatabase {
public:
    /// InvalidArgument names the first pattern Hyperscan rejects.
    static core::Result<std::shared_ptr<const HsDatabase>> compile(const std::vector<HsPattern>& patterns);
    ~HsDatabase();
    HsDatabase(const HsDatabase&) = delete;
    HsDatabase& operator=(const HsDatabase&) = delete;

    /// Calls on_match(id, from, to) for every match, in order of end offset (`from` is 0
    /// for patterns compiled without start_of_match).
    /// False when Hyperscan failed (out of memory); matches seen so far were delivered.
    using OnMatch = bool (*)(void* context, unsigned id, std::size_t from, std::size_t to);
    bool scan(std::string_view text, OnMatch on_match, void* context) const;

private:
    HsDatabase() = default;
    hs_database* db_ = nullptr;
    std::uint64_t serial_ = 0;
};

}  // namespace sai::parser::detail
