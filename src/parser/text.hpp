#pragma once
// Private: character classes and a transparent string hash shared by the parser's sources.

#include <emmintrin.h>

#include <bit>
#include <cstddef>
#include <functional>
#include <string_view>

namespace sai::parser::detail {

inline bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/// The first position from `k` on that is not an ASCII letter, at most `end` (<= t.size()).
/// Sixteen bytes at a time with SSE2 (part of x86-64): words are mostly letters, and a
/// test per byte was most of the masker's time.
inline std::size_t letters_end(std::string_view t, std::size_t k, std::size_t end) {
    for (; k + 16 <= t.size() && k < end; k += 16) {
        const __m128i lower = _mm_or_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + k)),
                                           _mm_set1_epi8(0x20));
        // Signed comparisons: bytes from 0x80 are negative, so never letters.
        const __m128i letter = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                             _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
        const unsigned other = ~static_cast<unsigned>(_mm_movemask_epi8(letter)) & 0xFFFFu;
        if (other != 0) {
            const std::size_t at = k + static_cast<std::size_t>(std::countr_zero(other));
            return at < end ? at : end;
        }
    }
    while (k < end && is_alpha(t[k])) ++k;
    return k < end ? k : end;
}

/// The first whitespace (is_space()) position from `k` on, or t.size(). Sixteen bytes at a
/// time with SSE2: header fields are mostly long runs without spaces.
inline std::size_t next_space(std::string_view t, std::size_t k) {
    for (; k + 16 <= t.size(); k += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(t.data() + k));
        // '\t'..'\r' as bytes - 9 < 5 (unsigned), through a signed comparison after moving 0 to -128.
        const __m128i shifted = _mm_xor_si128(_mm_sub_epi8(bytes, _mm_set1_epi8('\t')), _mm_set1_epi8(-128));
        const __m128i space = _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8(' ')),
                                           _mm_cmplt_epi8(shifted, _mm_set1_epi8(-128 + 5)));
        if (const unsigned found = static_cast<unsigned>(_mm_movemask_epi8(space)); found != 0) {
            return k + static_cast<std::size_t>(std::countr_zero(found));
        }
    }
    while (k < t.size() && !is_space(t[k])) ++k;
    return k;
}

/// Lets unordered maps keyed by std::string be searched with a std::string_view.
struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace sai::parser::detail
