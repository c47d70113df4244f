#include "core/error.hpp"

#include <cstdio>
#include <cstdlib>

namespace sai::core {

std::string_view to_string(Errc code) noexcept {
    switch (code) {
    case Errc::InvalidArgument: return "invalid_argument";
    case Errc::Unauthenticated: return "unauthenticated";
    case Errc::PermissionDenied: return "permission_denied";
    case Errc::NotFound: return "not_found";
    case Errc::Conflict: return "conflict";
    case Errc::PayloadTooLarge: return "payload_too_large";
    case Errc::Unprocessable: return "unprocessable";
    case Errc::RateLimited: return "rate_limited";
    case Errc::Timeout: return "timeout";
    case Errc::Unavailable: return "unavailable";
    case Errc::Internal: return "internal";
    }
    return "internal";
}

Exception::Exception(Error error)
    : std::runtime_error(std::string(to_string(error.code)) + ": " + error.detail), error_(std::move(error)) {}

void throw_exception_from_error(const Error& error, const boost::source_location&) { throw Exception(error); }

void check_failed(const char* expr, const char* file, int line, std::string_view message) {
    std::fprintf(stderr, "securityai: invariant broken at %s:%d: %s (%.*s)\n", file, line, expr,
                 static_cast<int>(message.size()), message.data());
    std::abort();
}

}  // namespace sai::core
