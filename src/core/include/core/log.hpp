#pragma once
// Structured logging: one JSON object per line on stdout (or a file), written
// by a background thread so request threads never wait on the terminal.
//
//   core::log::info("listening", {{"address", host}, {"port", port}});
//   -> {"ts":"2026-11-29T09:00:00.123Z","level":"info","msg":"listening","address":"127.0.0.1","port":8000}
//
// Never pass secrets (passwords, tokens, keys) as fields.

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sai::core::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

/// Parses "debug", "info", "warn"/"warning", "error", "off"; false when unknown.
bool parse_level(std::string_view text, Level& out) noexcept;

/// One key/value of a log line. Holds views: build it in the call expression.
class Field {
public:
    enum class Kind { String, Int, Double, Bool };

    Field(std::string_view key, std::string_view value) : key_(key), kind_(Kind::String), str_(value) {}
    Field(std::string_view key, const std::string& value) : Field(key, std::string_view(value)) {}
    Field(std::string_view key, const char* value) : Field(key, std::string_view(value)) {}
    Field(std::string_view key, bool value) : key_(key), kind_(Kind::Bool), int_(value ? 1 : 0) {}
    Field(std::string_view key, double value) : key_(key), kind_(Kind::Double), double_(value) {}
    template <std::integral T>
        requires(!std::same_as<T, bool>)
    Field(std::string_view key, T value) : key_(key), kind_(Kind::Int), int_(static_cast<std::int64_t>(value)) {}

    std::string_view key() const { return key_; }
    Kind kind() const { return kind_; }
    std::string_view str() const { return str_; }
    std::int64_t integer() const { return int_; }
    double real() const { return double_; }

private:
    std::string_view key_;
    Kind kind_;
    std::string_view str_;
    std::int64_t int_ = 0;
    double double_ = 0;
};

using Fields = std::initializer_list<Field>;

struct Options {
    Level level = Level::Info;
    std::string file;  // empty: stdout
    bool async = true;
};

/// Sets up the process-wide logger. Safe to call again (replaces it).
void init(const Options& options);
/// Flushes and stops the background writer; later calls log synchronously to stderr.
void shutdown();
void flush();
void set_level(Level level);

bool enabled(Level level) noexcept;
void write(Level level, std::string_view msg, Fields fields = {});

inline void debug(std::string_view msg, Fields fields = {}) {
    if (enabled(Level::Debug)) {
        write(Level::Debug, msg, fields);
    }
}
inline void info(std::string_view msg, Fields fields = {}) {
    if (enabled(Level::Info)) {
        write(Level::Info, msg, fields);
    }
}
inline void warn(std::string_view msg, Fields fields = {}) {
    if (enabled(Level::Warn)) {
        write(Level::Warn, msg, fields);
    }
}
inline void error(std::string_view msg, Fields fields = {}) {
    if (enabled(Level::Error)) {
        write(Level::Error, msg, fields);
    }
}

/// The line write() would emit, without the timestamp (for tests).
std::string format_line(Level level, std::string_view msg, Fields fields, std::string_view ts);

}  // namespace sai::core::log
