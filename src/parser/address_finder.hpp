#pragma once
// Private: the address-like entities of a line (IPv4 with its ":port", IPv6, MAC, e-mail,
// URL, domain, Unix and Windows paths, MD5/SHA-1/SHA-256), found by hand-written scans
// instead of regular expressions. Each scan starts from a cheap anchor (a '.', ':', '@',
// '/', "://", ":\" or a hex run) and checks the same conditions as the regular expression
// it replaced (word boundaries = ASCII [A-Za-z0-9_]) plus the extractor's validation
// (inet_pton, run ends, one '@'...), so the entities are the ones the Hyperscan database
// gave, at a small fraction of its cost:
//
//   ipv4     \b(\d{1,3}\.){3}\d{1,3}\b, valid dotted quad, not followed by ".<digit>";
//            a following ":<port>" (<= 65535) is a Port
//   ipv6     a run of [0-9A-Fa-f:] from its start: its longest prefix that is a valid
//            address with "::" or 7 colons (every valid prefix is reported)
//   mac      \b[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\b
//   email    a run of [A-Za-z0-9._%+@-] with one '@', not first, followed by a dotted
//            domain whose last label has two or more letters
//   url      \b(https?|ftp|wss?)://, then up to a space, quote, '<' or '>'
//   domain   <alnum>.<tld> (common TLDs) not followed by [A-Za-z0-9-], nor by ".<alnum>"
//   paths    /a/b... (two or more components) after the start, a space or one of =:"'([, ;
//            C:\... after a word boundary
//   hashes   a run of exactly 32, 40 or 64 hex digits between word boundaries

#include "parser/entity_extractor.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace sai::parser::detail {

struct AddressMatch {
    EntityType type;
    std::size_t begin;
    std::size_t end;
    // Where the replaced regular expression reported the match (after the character that
    // ends it, for the patterns that needed one): orders it among the keyword matches.
    std::size_t report;
};

/// Appends the address-like entities of `text` to `out`, each scan in order of `report`
/// (the caller merges the scans). At most `max_matches` are appended.
void find_addresses(std::string_view text, std::vector<AddressMatch>& out, std::size_t max_matches);

}  // namespace sai::parser::detail
