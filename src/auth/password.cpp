#include "auth/password.hpp"

#include "core/crypto.hpp"

#include <crypt.h>
#include <sodium.h>

namespace sai::auth {
namespace {

constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 19 * 1024 * 1024;

bool sodium_ready() {
    static const bool ready = sodium_init() >= 0;
    return ready;
}

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) {
        n += (c & 0xc0) != 0x80;
    }
    return n;
}

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace

core::Result<void> check_password_policy(std::string_view username, std::string_view password) {
    using core::Errc;
    if (password.size() > kMaxPasswordBytes) {
        return core::make_error(Errc::InvalidArgument, "password is longer than 1024 bytes");
    }
    if (password.find('\0') != std::string_view::npos) {
        return core::make_error(Errc::InvalidArgument, "password contains a NUL character");
    }
    if (utf8_length(password) < kMinPasswordLength) {
        return core::make_error(Errc::InvalidArgument, "password must be at least 12 characters");
    }
    if (iequal(password, username)) {
        return core::make_error(Errc::InvalidArgument, "password must differ from the username");
    }
    return {};
}

core::Result<std::string> hash_password(std::string_view password) {
    if (!sodium_ready()) {
        return core::make_error(core::Errc::Internal, "libsodium failed to initialise");
    }
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return core::make_error(core::Errc::Unavailable, "password hashing ran out of memory");
    }
    return std::string(out);
}

bool verify_password(std::string_view password, std::string_view hash) {
    if (password.size() > kMaxPasswordBytes || hash.size() >= 256) {
        return false;
    }
    const std::string h(hash);
    if (hash.starts_with("$argon2id$") || hash.starts_with("$argon2i$")) {
        return sodium_ready() && crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
    }
    if (hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$")) {
        if (password.find('\0') != std::string_view::npos) {
            return false;  // crypt() would stop at the NUL
        }
        crypt_data data{};
        const std::string pw(password);
        const char* out = crypt_r(pw.c_str(), h.c_str(), &data);
        // libxcrypt returns "*0"/"*1" on failure, which never equals a valid hash.
        return out != nullptr && core::constant_time_equal(out, h);
    }
    return false;
}

bool needs_rehash(std::string_view hash) {
    if (!hash.starts_with("$argon2id$") || !sodium_ready()) {
        return true;
    }
    const std::string h(hash);
    return crypto_pwhash_str_needs_rehash(h.c_str(), kOpsLimit, kMemLimit) != 0;
}

std::string generate_password(std::size_t length) {
    static constexpr std::string_view kAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    std::string out;
    out.reserve(length);
    while (out.size() < length) {
        for (unsigned char c : core::random_bytes(length)) {
            // Rejection sampling keeps the choice uniform.
            if (c < 256 - 256 % kAlphabet.size() && out.size() < length) {
                out.push_back(kAlphabet[c % kAlphabet.size()]);
            }
        }
    }
    return out;
}

}  // namespace sai::auth
