#pragma once
// Small, safe wrappers over OpenSSL primitives. No home-made cryptography.

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sai::core {

/// Cryptographically secure random bytes (OpenSSL's RAND_bytes). Aborts if the
/// generator fails: continuing with weak randomness would be worse.
std::string random_bytes(std::size_t n);

/// Lower-case hex of arbitrary bytes.
std::string hex_encode(std::string_view bytes);

/// SHA-256 of `data`, as 64 lower-case hex characters / as 32 raw bytes.
std::string sha256_hex(std::string_view data);
std::string sha256_raw(std::string_view data);

/// HMAC-SHA-256 of `data` with `key`, raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

/// Constant-time comparison (CRYPTO_memcmp); sizes are not secret.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

/// Base64url without padding (RFC 4648 §5), and its strict decoder.
std::string base64url_encode(std::string_view data);
std::optional<std::string> base64url_decode(std::string_view text);

/// HKDF-SHA-256 (RFC 5869).
std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, std::size_t length);

/// AES-256-GCM for secrets at rest (webhook secrets, credentials). Output is
/// "v1:" + base64url(nonce || ciphertext || tag) with a fresh 96-bit random nonce
/// per message; `context` is authenticated (not encrypted), e.g. the field name,
/// so a value cannot be moved to another field unnoticed.
class SecretBox {
public:
    /// `key` must be 32 bytes.
    static Result<SecretBox> from_key(std::string key);
    /// DATA_ENCRYPTION_KEY (base64url or hex of 32 bytes) when set, else derived
    /// from SECRET_KEY with HKDF so the two never coincide.
    static Result<SecretBox> from_config(std::string_view data_encryption_key, std::string_view secret_key);

    std::string seal(std::string_view plaintext, std::string_view context = {}) const;
    /// InvalidArgument when the text is malformed, tampered with, or sealed with another key/context.
    Result<std::string> open(std::string_view sealed, std::string_view context = {}) const;

private:
    explicit SecretBox(std::string key) : key_(std::move(key)) {}
    std::string key_;
};

}  // namespace sai::core
