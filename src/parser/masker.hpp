#pragma once
// Private: pre-masking of variable parts of a message before template mining.
//
// Two layers, both producing `<*>`:
//  1. configured masks: Hyperscan regular expressions (one database per format), matched
//     leftmost-longest and never split; a mask may name a built-in pattern with '@'
//     (@ipv4, @ipv4_port, @ipv6, @uuid, @hex, @domain, @domain_port, @path, @mac, @email, @url);
//     @ipv4 and @ipv4_port are matched by quad_spans() below, with the same results;
//  2. generic masking (on by default): a token that is a path or URL becomes `<*>`; otherwise
//     it is cut at the delimiters = : , ; ( ) [ ] { } < > @ # | / " ' and every piece that
//     looks like a value becomes `<*>`: it starts with a digit (or a sign and a digit), or has
//     a run of three or more digits, or two separate runs of digits. "ssh2", "jk2_init" and
//     "IPv6" stay words; "uid=0", "blk_-4615", "2005/9/27:20:30", "0x7fed" and "core.1234" do not.

#include "core/error.hpp"
#include "hs_database.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::parser::detail {

/// A message after masking: whitespace-separated tokens with `<*>` for variables, and the
/// raw text each `<*>` replaced, in order.
struct MaskedLine {
    std::string text;                         // masked tokens joined by single spaces
    std::vector<std::string_view> tokens;     // views into text
    std::vector<std::string_view> raw_tokens; // views into the input content
    std::vector<std::string_view> masked;     // raw text of each `<*>` in text, in order
    std::vector<std::uint32_t> first_masked;  // per token: index of its first entry in masked; size tokens+1
};

class Masker {
public:
    static core::Result<Masker> create(const std::vector<std::string>& masks, bool generic, std::size_t max_tokens);

    /// Masks `content` into `out` (reused between calls to keep allocations down).
    void mask(std::string_view content, MaskedLine& out) const;

    /// The regular expression of a built-in named mask ("@ipv4"), or empty.
    static std::string_view builtin_mask(std::string_view name);

private:
    std::shared_ptr<const HsDatabase> db_;
    // @ipv4 / @ipv4_port masks, matched by quad_spans() instead of Hyperscan.
    bool ipv4_ = false;
    bool ipv4_port_ = false;
    bool generic_ = true;
    std::size_t max_tokens_ = 256;
};

/// The matches of the built-in mask @ipv4 (`with_slash_and_port` false) or @ipv4_port in
/// `text` as Hyperscan reports them with start-of-match: for each end, the leftmost start.
/// Calls on_span(from, to) once per start, with the furthest end that start is reported
/// with (the masker keeps no shorter span from the same start). Hand-written because
/// Hyperscan's start-of-match tracking costs thousands of instructions per line of numbers.
void quad_spans(std::string_view text, bool with_slash_and_port, void (*on_span)(void*, std::size_t, std::size_t),
                void* context);

/// True when a piece of a token looks like a value rather than a word (see the header comment).
bool looks_variable(std::string_view piece);

}  // namespace sai::parser::detail
