#include "core/time.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace sai::core {

namespace {

/// Writes `value` as exactly `width` decimal digits at `out`.
void put_digits(char* out, int width, unsigned value) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

// Civil-date arithmetic from <chrono> and hand-placed digits: gmtime_r and snprintf made
// up a fifth of serialising an event (two times per event).
std::string format_rfc3339_ms(std::int64_t unix_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> ms{milliseconds(unix_ms)};
    const auto day = floor<days>(ms);
    const year_month_day ymd{day};
    const hh_mm_ss<milliseconds> hms{ms - day};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year, static_cast<unsigned>(ymd.month()),
                      static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                      static_cast<int>(hms.subseconds().count()));
        return buf;
    }
    std::string out = "0000-00-00T00:00:00.000Z";
    put_digits(out.data(), 4, static_cast<unsigned>(year));
    put_digits(out.data() + 5, 2, static_cast<unsigned>(ymd.month()));
    put_digits(out.data() + 8, 2, static_cast<unsigned>(ymd.day()));
    put_digits(out.data() + 11, 2, static_cast<unsigned>(hms.hours().count()));
    put_digits(out.data() + 14, 2, static_cast<unsigned>(hms.minutes().count()));
    put_digits(out.data() + 17, 2, static_cast<unsigned>(hms.seconds().count()));
    put_digits(out.data() + 20, 3, static_cast<unsigned>(hms.subseconds().count()));
    return out;
}

std::string format_rfc3339(TimePoint t) { return format_rfc3339_ms(unix_ms(t)); }

namespace {

bool read_int(std::string_view text, std::size_t pos, std::size_t len, int& out) {
    if (pos + len > text.size()) {
        return false;
    }
    const char* first = text.data() + pos;
    for (std::size_t i = 0; i < len; ++i) {
        if (first[i] < '0' || first[i] > '9') {
            return false;
        }
    }
    return std::from_chars(first, first + len, out).ec == std::errc{};
}

/// An RFC 3339 time as whole seconds plus the fraction: wide enough for every year
/// the format can write (0000-9999), which nanoseconds in 64 bits are not.
struct Rfc3339 {
    std::chrono::sys_seconds seconds;
    std::chrono::nanoseconds fraction;
};

std::optional<Rfc3339> parse_parts(std::string_view s) {
    int y, mo, d, h, mi, sec;
    if (!read_int(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !read_int(s, 5, 2, mo) || s[7] != '-' ||
        !read_int(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !read_int(s, 11, 2, h) ||
        s[13] != ':' || !read_int(s, 14, 2, mi) || s[16] != ':' || !read_int(s, 17, 2, sec)) {
        return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                          std::chrono::day{static_cast<unsigned>(d)}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    std::chrono::nanoseconds frac{0};
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::int64_t scale = 100'000'000;
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            frac += std::chrono::nanoseconds((s[pos] - '0') * scale);
            scale /= 10;
            ++pos;
        }
        if (pos == start) {
            return std::nullopt;
        }
    }
    std::chrono::minutes offset{0};
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        ++pos;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int oh, om;
        if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
            !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset = std::chrono::minutes(oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) {
        return std::nullopt;
    }
    const auto days = std::chrono::sys_days(ymd);
    return Rfc3339{days + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) - offset, frac};
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
    auto parts = parse_parts(s);
    using std::chrono::seconds;
    constexpr auto kLimit = std::chrono::duration_cast<seconds>(Clock::duration::max()) - seconds(1);
    if (!parts || parts->seconds.time_since_epoch() > kLimit || parts->seconds.time_since_epoch() < -kLimit) {
        return std::nullopt;
    }
    return std::chrono::time_point_cast<Clock::duration>(parts->seconds) + parts->fraction;
}

std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s) {
    auto parts = parse_parts(s);
    if (!parts) {
        return std::nullopt;
    }
    return parts->seconds.time_since_epoch().count() * 1000 +
           std::chrono::duration_cast<std::chrono::milliseconds>(parts->fraction).count();
}

}  // namespace sai::core
