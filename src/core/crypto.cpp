#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>

namespace sai::core {

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    SAI_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) == 1,
              "RAND_bytes failed");
    return out;
}

std::string sha256_raw(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::string hex_encode(std::string_view bytes) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0x0f]);
    }
    return out;
}

std::string sha256_hex(std::string_view data) { return hex_encode(sha256_raw(data)); }

std::string hmac_sha256(std::string_view key, std::string_view data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
         data.size(), out, &len);
    return std::string(reinterpret_cast<const char*>(out), len);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string base64url_encode(std::string_view data) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t v = (static_cast<unsigned char>(data[i]) << 16) |
                                (static_cast<unsigned char>(data[i + 1]) << 8) | static_cast<unsigned char>(data[i + 2]);
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        out.push_back(kAlphabet[(v >> 6) & 63]);
        out.push_back(kAlphabet[v & 63]);
    }
    if (i < data.size()) {
        std::uint32_t v = static_cast<unsigned char>(data[i]) << 16;
        if (i + 1 < data.size()) {
            v |= static_cast<unsigned char>(data[i + 1]) << 8;
        }
        out.push_back(kAlphabet[(v >> 18) & 63]);
        out.push_back(kAlphabet[(v >> 12) & 63]);
        if (i + 1 < data.size()) {
            out.push_back(kAlphabet[(v >> 6) & 63]);
        }
    }
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-') return 62;
        if (c == '_') return 63;
        return -1;
    };
    if (text.size() % 4 == 1) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() * 3 / 4);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : text) {
        const int v = value(c);
        if (v < 0) {
            return std::nullopt;
        }
        acc = (acc << 6) | static_cast<std::uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xff));
        }
    }
    // Leftover bits must be zero, or two texts would decode to the same bytes.
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
        return std::nullopt;
    }
    return out;
}

std::string hkdf_sha256(std::string_view key, std::string_view salt, std::string_view info, std::size_t length) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr),
                                                                    &EVP_PKEY_CTX_free);
    std::string out(length, '\0');
    std::size_t out_len = length;
    const bool ok =
        ctx && EVP_PKEY_derive_init(ctx.get()) > 0 && EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) > 0 &&
        EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), reinterpret_cast<const unsigned char*>(salt.data()),
                                    static_cast<int>(salt.size())) > 0 &&
        EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()),
                                   static_cast<int>(key.size())) > 0 &&
        EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), reinterpret_cast<const unsigned char*>(info.data()),
                                    static_cast<int>(info.size())) > 0 &&
        EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &out_len) > 0;
    SAI_CHECK(ok && out_len == length, "HKDF failed");
    return out;
}

// ---- SecretBox

namespace {

constexpr std::size_t kNonce = 12;
constexpr std::size_t kTag = 16;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::optional<std::string> decode_key_text(std::string_view text) {
    if (text.size() == 64) {
        std::string out;
        for (std::size_t i = 0; i < 64; i += 2) {
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                return -1;
            };
            const int hi = hex(text[i]);
            const int lo = hex(text[i + 1]);
            if (hi < 0 || lo < 0) {
                out.clear();
                break;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
        }
        if (out.size() == 32) {
            return out;
        }
    }
    std::string_view b64 = text;
    while (!b64.empty() && b64.back() == '=') {
        b64.remove_suffix(1);
    }
    auto decoded = base64url_decode(b64);
    if (decoded && decoded->size() == 32) {
        return decoded;
    }
    return std::nullopt;
}

}  // namespace

Result<SecretBox> SecretBox::from_key(std::string key) {
    if (key.size() != 32) {
        return make_error(Errc::InvalidArgument, "encryption key must be 32 bytes");
    }
    return SecretBox(std::move(key));
}

Result<SecretBox> SecretBox::from_config(std::string_view data_encryption_key, std::string_view secret_key) {
    if (!data_encryption_key.empty()) {
        auto key = decode_key_text(data_encryption_key);
        if (!key) {
            return make_error(Errc::InvalidArgument,
                              "DATA_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64url");
        }
        return SecretBox(std::move(*key));
    }
    return SecretBox(hkdf_sha256(secret_key, "securityai", "data-encryption-key v1", 32));
}

std::string SecretBox::seal(std::string_view plaintext, std::string_view context) const {
    const std::string nonce = random_bytes(kNonce);
    std::string out = nonce;
    out.resize(kNonce + plaintext.size() + kTag);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int len = 0;
    const auto* u = reinterpret_cast<const unsigned char*>(key_.data());
    bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
              EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u, reinterpret_cast<const unsigned char*>(nonce.data())) == 1;
    if (ok && !context.empty()) {
        ok = EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                               static_cast<int>(context.size())) == 1;
    }
    auto* cipher = reinterpret_cast<unsigned char*>(out.data() + kNonce);
    ok = ok && EVP_EncryptUpdate(ctx.get(), cipher, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                                 static_cast<int>(plaintext.size())) == 1;
    int final_len = 0;
    ok = ok && EVP_EncryptFinal_ex(ctx.get(), cipher + len, &final_len) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, out.data() + kNonce + plaintext.size()) == 1;
    SAI_CHECK(ok, "AES-256-GCM encryption failed");
    return "v1:" + base64url_encode(out);
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view context) const {
    auto invalid = [] { return make_error(Errc::InvalidArgument, "sealed secret is malformed or was tampered with"); };
    if (!sealed.starts_with("v1:")) {
        return invalid();
    }
    auto raw = base64url_decode(sealed.substr(3));
    if (!raw || raw->size() < kNonce + kTag) {
        return invalid();
    }
    const std::size_t text_len = raw->size() - kNonce - kTag;
    std::string plain(text_len, '\0');
    CipherCtx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    int len = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(raw->data());
    bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonce, nullptr) == 1 &&
              EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, reinterpret_cast<const unsigned char*>(key_.data()),
                                 data) == 1;
    if (ok && !context.empty()) {
        ok = EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(context.data()),
                               static_cast<int>(context.size())) == 1;
    }
    ok = ok && EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len, data + kNonce,
                                 static_cast<int>(text_len)) == 1;
    std::string tag = raw->substr(kNonce + text_len);
    ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1;
    int final_len = 0;
    ok = ok && EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &final_len) == 1;
    if (!ok) {
        return invalid();
    }
    return plain;
}

}  // namespace sai::core
