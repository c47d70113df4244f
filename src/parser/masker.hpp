#pragma once
// Private: pre-masking of variable parts of a message before template mining.
//
// Two layers, both producing `<*>`:
//  1. configured masks: Hyperscan regular expressions (one database per format), matched
//     leftmost-longest and never split; a mask may name a built-in pattern with '@'
//     (@ipv4, @ipv4_port, @ipv6, @uuid, @hex, @domain, @domain_port, @path, @mac, @email, @url);
//     @ipv4, @ipv4_port and a few common mask shapes (dotted numbers and names, a number
//     after a fixed word) are matched by hand-written scans instead, with the same results;
//  2. generic masking (on by default): a token that is a path or URL becomes `<*>`; otherwise
//     it is cut at the delimiters = : , ; ( ) [ ] { } < > @ # | / " ' and every piece that
//     looks like a value becomes `<*>`: it starts with a digit (or a sign and a digit), or has
//     a run of three or more digits, or two separate runs of digits. "ssh2", "jk2_init" and
//     "IPv6" stay words; "uid=0", "blk_-4615", "2005/9/27:20:30", "0x7fed" and "core.1234" do not.

#include "core/error.hpp"
#include "hs_database.hpp"

#include <cstdint>
#include <memory>
#include <optional>
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

/// A configured mask that a hand-written scan matches with the same spans as Hyperscan with
/// leftmost start-of-match (whose start tracking costs thousands of instructions per line).
/// Recognised by its exact spelling (a capturing group may also be written `(?:`):
///  - DottedNumbers: @ipv4 `(\d{1,3}\.){3}\d{1,3}`, @ipv4_port (the same after `/?`, before
///    `(:\d{1,5})?`), `(\d+\.){3}\d+` and `/?(\d+\.){3}\d+`;
///  - DottedNames: `([\w-]+\.)+[\w-]+` or `([\w-]+\.){2,}[\w-]+`, each also before `(:\d+)?`;
///  - PrefixedNumber: a prefix of letters and '_', then `\d+` or `-?\d+`.
struct HandMask {
    static constexpr std::size_t kAny = SIZE_MAX;  // `\d+`
    enum class Shape : std::uint8_t { DottedNumbers, DottedNames, PrefixedNumber };
    Shape shape = Shape::DottedNumbers;
    bool slash = false;             // DottedNumbers: after `/?`
    std::size_t max_digits = kAny;  // DottedNumbers: digits per group
    std::size_t port_digits = 0;    // digits of an optional `:port`, 0 without one
    std::size_t min_dots = 1;       // DottedNames
    bool sign = false;              // PrefixedNumber: `-?` before the digits
    std::string prefix;             // PrefixedNumber

    /// The hand-matched form of a configured mask, if it has one.
    static std::optional<HandMask> recognise(std::string_view mask);

    /// Calls on_span(from, to) for each start of a match in `text`, with the furthest end
    /// Hyperscan reports for that start (each end is reported with its leftmost start).
    void spans(std::string_view text, void (*on_span)(void*, std::size_t, std::size_t), void* context) const;
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
    std::vector<HandMask> hand_;  // configured masks matched without Hyperscan
    bool generic_ = true;
    std::size_t max_tokens_ = 256;
};

}  // namespace sai::parser::detail
