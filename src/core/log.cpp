#include "core/log.hpp"

#include "core/json_text.hpp"
#include "core/time.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>

namespace sai::core::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::Info)};
std::mutex g_mutex;                      // guards g_logger replacement
std::shared_ptr<spdlog::logger> g_logger;  // null: write to stderr directly

std::shared_ptr<spdlog::logger> current() {
    std::lock_guard lock(g_mutex);
    return g_logger;
}

std::string_view level_name(Level level) {
    switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Off: return "off";
    }
    return "info";
}

}  // namespace

bool parse_level(std::string_view text, Level& out) noexcept {
    if (text == "debug" || text == "trace") {
        out = Level::Debug;
    } else if (text == "info") {
        out = Level::Info;
    } else if (text == "warn" || text == "warning") {
        out = Level::Warn;
    } else if (text == "error" || text == "critical") {
        out = Level::Error;
    } else if (text == "off") {
        out = Level::Off;
    } else {
        return false;
    }
    return true;
}

std::string format_line(Level level, std::string_view msg, Fields fields, std::string_view ts) {
    std::string line;
    line.reserve(128 + msg.size() + fields.size() * 24);
    line += "{\"ts\":\"";
    line += ts;
    line += "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":";
    append_json_string(line, msg);
    for (const Field& f : fields) {
        line.push_back(',');
        append_json_string(line, f.key());
        line.push_back(':');
        switch (f.kind()) {
        case Field::Kind::String: append_json_string(line, f.str()); break;
        case Field::Kind::Int: line += std::to_string(f.integer()); break;
        case Field::Kind::Bool: line += f.integer() ? "true" : "false"; break;
        case Field::Kind::Double:
            if (std::isfinite(f.real())) {
                char buf[32];
                const int n = std::snprintf(buf, sizeof buf, "%.6g", f.real());
                line.append(buf, static_cast<std::size_t>(n));
            } else {
                line += "null";
            }
            break;
        }
    }
    line.push_back('}');
    return line;
}

void init(const Options& options) {
    std::shared_ptr<spdlog::sinks::sink> sink;
    if (options.file.empty()) {
        sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    } else {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.file);
    }
    std::shared_ptr<spdlog::logger> logger;
    if (options.async) {
        if (!spdlog::thread_pool()) {
            spdlog::init_thread_pool(16384, 1);
        }
        // Blocking when the queue is full: a log line is never lost silently.
        logger = std::make_shared<spdlog::async_logger>("securityai", sink, spdlog::thread_pool(),
                                                        spdlog::async_overflow_policy::block);
    } else {
        logger = std::make_shared<spdlog::logger>("securityai", sink);
    }
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::warn);
    {
        std::lock_guard lock(g_mutex);
        g_logger = std::move(logger);
    }
    set_level(options.level);
}

void shutdown() {
    std::shared_ptr<spdlog::logger> logger;
    {
        std::lock_guard lock(g_mutex);
        logger.swap(g_logger);
    }
    if (logger) {
        logger->flush();
    }
    logger.reset();
    spdlog::shutdown();
}

void flush() {
    if (auto logger = current()) {
        logger->flush();
    }
}

void set_level(Level level) { g_level.store(static_cast<int>(level), std::memory_order_relaxed); }

bool enabled(Level level) noexcept {
    return level != Level::Off && static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view msg, Fields fields) {
    const std::string line = format_line(level, msg, fields, format_rfc3339(Clock::now()));
    if (auto logger = current()) {
        logger->info(line);
    } else {
        std::fprintf(stderr, "%s\n", line.c_str());
    }
}

}  // namespace sai::core::log
