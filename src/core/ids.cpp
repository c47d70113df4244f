#include "core/ids.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <random>

namespace sai::core {
namespace {

struct Generator {
    std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t last_ms = 0;
    std::uint16_t seq = 0;  // rand_a: monotonic within one millisecond
};

Generator& generator() {
    thread_local Generator g;
    return g;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string new_uuid_v7() { return new_uuid_v7(std::chrono::system_clock::now()); }

std::string new_uuid_v7(std::chrono::system_clock::time_point at) {
    auto& g = generator();
    const auto ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
    // Monotonic per thread (RFC 9562, method 1): within one millisecond the 12-bit
    // counter grows from a random start; when it runs out, or the clock steps back,
    // the timestamp field advances past the last one used, so ids made in order by
    // one thread always sort in order.
    std::uint64_t stamp = 0;
    std::uint16_t seq = 0;
    if (ms + 10'000 < g.last_ms) {
        // Far in the past: an id for another time (tests, replays), outside the sequence.
        stamp = ms;
        seq = static_cast<std::uint16_t>(g.rng() & 0xfff);
    } else if (ms > g.last_ms) {
        g.last_ms = ms;
        g.seq = static_cast<std::uint16_t>(g.rng() & 0x3ff);
    } else if (g.seq < 0xfff) {
        ++g.seq;
    } else {
        ++g.last_ms;
        g.seq = static_cast<std::uint16_t>(g.rng() & 0x3ff);
    }
    if (stamp == 0) {
        stamp = g.last_ms;
        seq = g.seq;
    }
    std::array<std::uint8_t, 16> b{};
    for (int i = 0; i < 6; ++i) {
        b[i] = static_cast<std::uint8_t>(stamp >> (40 - 8 * i));
    }
    b[6] = static_cast<std::uint8_t>(0x70 | ((seq >> 8) & 0x0f));
    b[7] = static_cast<std::uint8_t>(seq & 0xff);
    const std::uint64_t r = g.rng();
    for (int i = 8; i < 16; ++i) {
        b[i] = static_cast<std::uint8_t>(r >> (8 * (i - 8)));
    }
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);  // RFC 9562 variant

    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0x0f]);
    }
    return out;
}

bool is_uuid(std::string_view text) noexcept {
    if (text.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

bool is_valid_request_id(std::string_view text) noexcept {
    if (text.empty() || text.size() > 128) {
        return false;
    }
    for (const char c : text) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

}  // namespace sai::core
