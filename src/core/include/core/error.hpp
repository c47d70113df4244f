#pragma once
// The error vocabulary of the whole project: expected failures travel as
// values (Result<T>), exceptions are for the unexpected.

#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace sai::core {

/// What went wrong, coarse enough that callers can branch on it.
/// Only api/ maps these to HTTP statuses; nothing below api knows HTTP.
enum class Errc {
    InvalidArgument,   // caller sent something malformed
    Unauthenticated,   // no or bad credentials
    PermissionDenied,  // credentials fine, not allowed
    NotFound,
    Conflict,
    PayloadTooLarge,
    Unprocessable,  // well-formed but semantically invalid
    RateLimited,
    Timeout,
    Unavailable,  // backend down or overloaded; retrying may help
    Internal,     // a bug or a broken invariant we chose not to crash on
};

/// Stable snake_case name, used as the "code" of API error bodies.
std::string_view to_string(Errc code) noexcept;

struct Error {
    Errc code = Errc::Internal;
    std::string detail;  // for logs and API bodies; never parsed by code
};

/// Thrown only where a Result is unwrapped with .value() without a check.
class Exception : public std::runtime_error {
public:
    explicit Exception(Error error);
    const Error& error() const noexcept { return error_; }

private:
    Error error_;
};

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(Errc code, std::string detail) { return Error{code, std::move(detail)}; }

// Found by ADL when Result<T>::value() is called on an error.
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& where);

/// Aborts with a message when an invariant is broken. Not for input validation.
[[noreturn]] void check_failed(const char* expr, const char* file, int line, std::string_view message);

}  // namespace sai::core

#define SAI_CHECK(cond, message)                                             \
    do {                                                                     \
        if (!(cond)) [[unlikely]] {                                          \
            ::sai::core::check_failed(#cond, __FILE__, __LINE__, (message)); \
        }                                                                    \
    } while (false)
