#pragma once
// Private: finds the candidate entities of a line with hand-written scans (no regular
// expression engine). One pass over the words finds keywords, IPv4 addresses and hashes;
// the other scans start from an anchor character ('.', ':', '-', '@', '/', '[', '\') and
// run only when the line has it. Each checks exactly what the regular expression it
// replaced matched (word boundaries are ASCII [A-Za-z0-9_], as Hyperscan's \b) plus the
// extractor's validation (inet_pton, run ends, one '@', names that are no user...):
//
//   ipv4       \b(\d{1,3}\.){3}\d{1,3}\b, a valid dotted quad not followed by ".<digit>";
//              a following ":<port>" (<= 65535) is a Port
//   ipv6       in a run of [0-9A-Fa-f:], every prefix from its start that is a valid
//              address with "::" or 7 colons (the extractor keeps the longest)
//   mac        \b[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\b
//   email      a run of [A-Za-z0-9._%+@-] with one '@', not first, followed by two or
//              more labels of [A-Za-z0-9-], the last one two or more letters
//   url        \b(https?|ftp|wss?):// (any case) up to a space, quote, '<' or '>'
//   domain     <alnum>.<common TLD> not followed by [A-Za-z0-9-], nor by ".<alnum>"
//   unix_path  /a/b... (two or more components, one optional trailing '/'), a whole run of
//              [A-Za-z0-9._~@%+/-] at the start or after a space or one of =:"'([,
//   windows    \b[A-Za-z]:\ then up to a space, quote, '<', '>', '|', '*' or '?'
//   hashes     a run of exactly 32, 40 or 64 hex digits between word boundaries
//   port       \bport[ =:]+\d{1,5}\b (any case), <= 65535
//   user       \buser(name)?[ =:]+NAME (any case) or \bfor NAME from\b, NAME not a word
//              such as "unknown" or "invalid"
//   process    \b[A-Za-z][A-Za-z0-9_./()-]{0,63}\[\d{1,10}\]: the name and the pid
//   http       \b(GET|POST|...) +(/|https?://): the method; HTTP/\d(\.\d)?" +[1-5]\d\d\b
//              and \bstatus( code)?[ =:]+[1-5]\d\d\b (any case): the status
//   outcome    the outcome words of entity_extractor.hpp as whole words, any case

#include "parser/entity_extractor.hpp"

#include <cstddef>
#include <string_view>
#include <vector>

namespace sai::parser::detail {

/// Which rule found a match. The extractor keeps, per rule, only matches that do not
/// overlap the rule's previous one (a longer match from the same start replaces it).
enum class Rule : unsigned {
    Ipv4,
    Ipv6,
    Mac,
    Email,
    Url,
    Domain,
    UnixPath,
    WindowsPath,
    Hash,
    Port,  // "port 22" and the port of "ip:port"
    User,
    ForUserFrom,
    SudoUser,  // "alice : ... TTY=..." (sudo's own log line)
    Process,
    Pid,
    HttpMethod,
    HttpStatusLine,
    HttpStatusWord,
    Count,
};

struct ScanMatch {
    EntityType type;
    Rule rule;
    std::size_t begin;
    std::size_t end;
    // Where the replaced regular expression ended (after the character that ends the
    // entity, for the patterns that needed one): the order in which matches are kept.
    std::size_t report;
};

/// Outcome words seen in a line.
struct OutcomeWords {
    bool success = false;
    bool failure = false;
    bool unknown = false;
    bool authentication = false;  // password, publickey, authentication, login, logon
};

/// Appends the candidate entities of `text` to `out`, at most `max_matches` of them, in no
/// particular order (sort them by `report`), and notes the outcome words.
void scan_entities(std::string_view text, std::vector<ScanMatch>& out, std::size_t max_matches,
                   OutcomeWords& outcome);

}  // namespace sai::parser::detail
