#include "hs_database.hpp"

#include <hs.h>

#include <atomic>
#include <limits>

namespace sai::parser::detail {
namespace {

std::atomic<std::uint64_t> next_serial{1};

/// The calling thread's scratch, grown to fit every database it has scanned with.
struct ThreadScratch {
    hs_scratch_t* scratch = nullptr;
    std::vector<std::uint64_t> fitted;  // serials of databases the scratch is sized for

    ~ThreadScratch() {
        if (scratch) {
            hs_free_scratch(scratch);
        }
    }

    hs_scratch_t* for_database(const hs_database_t* db, std::uint64_t serial) {
        for (auto s : fitted) {
            if (s == serial) {
                return scratch;
            }
        }
        if (hs_alloc_scratch(db, &scratch) != HS_SUCCESS) {
            return nullptr;
        }
        if (fitted.size() > 64) {
            fitted.clear();  // databases come and go with configuration reloads
        }
        fitted.push_back(serial);
        return scratch;
    }
};

thread_local ThreadScratch tls_scratch;

struct ScanContext {
    HsDatabase::OnMatch on_match;
    void* context;
};

int on_hs_match(unsigned id, unsigned long long from, unsigned long long to, unsigned, void* ctx) {
    auto* c = static_cast<ScanContext*>(ctx);
    return c->on_match(c->context, id, static_cast<std::size_t>(from), static_cast<std::size_t>(to)) ? 0 : 1;
}

}  // namespace

core::Result<std::shared_ptr<const HsDatabase>> HsDatabase::compile(const std::vector<HsPattern>& patterns) {
    std::shared_ptr<HsDatabase> out(new HsDatabase());
    out->serial_ = next_serial.fetch_add(1);
    if (patterns.empty()) {
        return std::shared_ptr<const HsDatabase>(out);
    }
    std::vector<const char*> expressions;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    for (const auto& p : patterns) {
        expressions.push_back(p.regex.c_str());
        flags.push_back((p.start_of_match ? HS_FLAG_SOM_LEFTMOST : 0u) | (p.caseless ? HS_FLAG_CASELESS : 0u) |
                        (p.single_match ? HS_FLAG_SINGLEMATCH : 0u));
        ids.push_back(p.id);
    }
    hs_compile_error_t* error = nullptr;
    const auto rc = hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                                     static_cast<unsigned>(expressions.size()), HS_MODE_BLOCK, nullptr, &out->db_,
                                     &error);
    if (rc != HS_SUCCESS) {
        std::string detail = "pattern compile failed";
        if (error) {
            const int at = error->expression;
            detail = error->message ? error->message : detail;
            if (at >= 0 && static_cast<std::size_t>(at) < patterns.size()) {
                detail = "pattern '" + patterns[static_cast<std::size_t>(at)].regex + "': " + detail;
            }
            hs_free_compile_error(error);
        }
        return core::make_error(core::Errc::InvalidArgument, detail);
    }
    return std::shared_ptr<const HsDatabase>(out);
}

HsDatabase::~HsDatabase() {
    if (db_) {
        hs_free_database(db_);
    }
}

bool HsDatabase::scan(std::string_view text, OnMatch on_match, void* context) const {
    if (!db_ || text.empty()) {
        return true;
    }
    if (text.size() > std::numeric_limits<unsigned>::max()) {
        text = text.substr(0, std::numeric_limits<unsigned>::max());
    }
    hs_scratch_t* scratch = tls_scratch.for_database(db_, serial_);
    if (!scratch) {
        return false;
    }
    ScanContext ctx{on_match, context};
    const auto rc =
        hs_scan(db_, text.data(), static_cast<unsigned>(text.size()), 0, scratch, on_hs_match, &ctx);
    return rc == HS_SUCCESS || rc == HS_SCAN_TERMINATED;
}

}  // namespace sai::parser::detail
