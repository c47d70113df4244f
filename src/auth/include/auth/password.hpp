#pragma once
// Password hashing: argon2id (libsodium) for every new hash, with OWASP's
// parameters (m = 19 MiB, t = 2, p = 1); bcrypt ($2a$/$2b$/$2y$) hashes are
// verified too, so accounts can be imported from other systems.

#include "core/error.hpp"

#include <string>
#include <string_view>

namespace sai::auth {

inline constexpr std::size_t kMinPasswordLength = 12;  // characters
inline constexpr std::size_t kMaxPasswordBytes = 1024;

/// At least 12 characters, at most 1024 bytes, no NUL, not the username (any case).
core::Result<void> check_password_policy(std::string_view username, std::string_view password);

/// A new argon2id hash in PHC string form ($argon2id$v=19$m=19456,t=2,p=1$...).
core::Result<std::string> hash_password(std::string_view password);

/// True when `password` matches `hash` (argon2id or bcrypt). Unknown formats never match.
bool verify_password(std::string_view password, std::string_view hash);

/// True when the hash is not argon2id with the current parameters (rehash at next login).
bool needs_rehash(std::string_view hash);

/// A random password of `length` characters from an unambiguous alphabet.
std::string generate_password(std::size_t length = 20);

}  // namespace sai::auth
