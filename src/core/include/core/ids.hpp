#pragma once
// Identifiers: UUIDv7 (RFC 9562) for everything the system creates, and the
// validation of identifiers supplied by clients.

#include <chrono>
#include <string>
#include <string_view>

namespace sai::core {

/// A new UUIDv7 in canonical lower-case text form (36 characters). Time-ordered:
/// ids made later in the same process sort after earlier ones. Thread-safe.
std::string new_uuid_v7();

/// The same, with an explicit Unix time (for tests and replays).
std::string new_uuid_v7(std::chrono::system_clock::time_point at);

/// True for a canonical UUID text (any version), either case.
bool is_uuid(std::string_view text) noexcept;

/// True when a client-supplied request id may be echoed back and logged:
/// 1..128 characters of [A-Za-z0-9._:-]. Anything else is replaced by a new id.
bool is_valid_request_id(std::string_view text) noexcept;

}  // namespace sai::core
