#include "storage/influx/influx_writer.hpp"

#include "core/circuit_breaker.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <charconv>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sai::storage::influx {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

/// Escapes `special` characters with a backslash; newlines (never valid) become spaces.
void escape(std::string& out, std::string_view text, std::string_view special) {
    for (char c : text) {
        if (c == '\n' || c == '\r') {
            c = ' ';
        }
        if (special.find(c) != std::string_view::npos) {
            out += '\\';
        }
        out += c;
    }
}

std::string url_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace

std::string to_line(const Point& p) {
    if (p.measurement.empty() || p.fields.empty()) {
        return {};
    }
    std::string out;
    escape(out, p.measurement, ", ");
    for (const auto& [k, v] : p.tags) {
        if (k.empty() || v.empty()) {
            continue;  // empty tag values are not allowed by the format
        }
        out += ',';
        escape(out, k, ",= ");
        out += '=';
        escape(out, v, ",= ");
    }
    char sep = ' ';
    for (const auto& [k, v] : p.fields) {
        out += sep;
        sep = ',';
        escape(out, k, ",= ");
        out += '=';
        if (const double* d = std::get_if<double>(&v)) {
            if (!std::isfinite(*d)) {
                out += '0';
            } else {
                char buf[32];
                auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
                out.append(buf, ec == std::errc{} ? end : buf);
            }
        } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
            out += std::to_string(*i);
            out += 'i';
        } else if (const auto* b = std::get_if<bool>(&v)) {
            out += *b ? "true" : "false";
        } else {
            out += '"';
            for (char c : std::get<std::string>(v)) {
                if (c == '"' || c == '\\') out += '\\';
                out += c == '\n' ? ' ' : c;
            }
            out += '"';
        }
    }
    out += ' ';
    out += std::to_string(p.time_ms);
    return out;
}

struct InfluxWriter::Impl {
    InfluxOptions options;
    std::unique_ptr<core::HttpClient> client;
    core::CircuitBreaker breaker;
    std::string write_url;

    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::string> pending;  // lines
    bool stopping = false;
    std::thread thread;
    bool database_ready = false;

    mutable std::mutex state_mutex;
    std::string last_error;
    InfluxStats counters;

    Impl(InfluxOptions o, std::unique_ptr<core::HttpClient> c)
        : options(std::move(o)), client(std::move(c)), breaker(options.breaker_threshold, options.breaker_cooldown) {
        std::string base = options.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        if (!options.bucket.empty()) {
            write_url = base + "/api/v2/write?org=" + url_encode(options.org) + "&bucket=" + url_encode(options.bucket) +
                        "&precision=ms";
        } else {
            write_url = base + "/write?db=" + url_encode(options.database) + "&precision=ms";
        }
    }

    core::HttpClient::Headers headers() const {
        core::HttpClient::Headers h{{"Content-Type", "text/plain; charset=utf-8"}};
        if (!options.token.empty()) h.emplace_back("Authorization", "Token " + options.token);
        return h;
    }

    void failed(const std::string& why) {
        std::lock_guard lock(state_mutex);
        ++counters.failed_requests;
        if (last_error != why) {
            core::log::warn("InfluxDB write failed", {{"url", options.url}, {"error", why}});
        }
        last_error = why;
    }

    /// 1.x: CREATE DATABASE is idempotent; done once per process.
    Result<void> ensure_database() {
        if (database_ready || !options.bucket.empty()) return {};
        std::string base = options.url;
        while (!base.empty() && base.back() == '/') base.pop_back();
        auto r = client->post(base + "/query", {{"Content-Type", "application/x-www-form-urlencoded"}},
                              "q=" + url_encode("CREATE DATABASE \"" + options.database + "\""), options.timeout);
        if (!r) return r.error();
        if (r->status / 100 != 2) {
            return make_error(Errc::Unavailable, "CREATE DATABASE answered HTTP " + std::to_string(r->status));
        }
        database_ready = true;
        return {};
    }

    /// One batch, with retries and the breaker.
    Result<void> send(const std::string& body, std::size_t lines) {
        std::chrono::milliseconds backoff = options.backoff;
        std::string why = "not attempted";
        for (int attempt = 1; attempt <= std::max(1, options.max_attempts); ++attempt) {
            if (!breaker.allow(core::now_unix_ms())) {
                return make_error(Errc::Unavailable, "InfluxDB circuit open after repeated failures: " + why);
            }
            auto ready = ensure_database();
            auto r = ready ? client->post(write_url, headers(), body, options.timeout)
                           : Result<core::HttpResult>(ready.error());
            if (r && r->status / 100 == 2) {
                breaker.on_success();
                std::lock_guard lock(state_mutex);
                counters.written += lines;
                last_error.clear();
                return {};
            }
            if (r && r->status == 400) {
                // Malformed points: retrying cannot help; drop them and say so.
                breaker.on_success();
                std::lock_guard lock(state_mutex);
                counters.dropped += lines;
                core::log::warn("InfluxDB rejected points", {{"lines", lines}, {"answer", r->body.substr(0, 256)}});
                return {};
            }
            breaker.on_failure(core::now_unix_ms());
            why = r ? "HTTP " + std::to_string(r->status) + " " + r->body.substr(0, 128) : r.error().detail;
            failed(why);
            if (attempt < options.max_attempts) {
                std::this_thread::sleep_for(backoff);
                backoff *= 2;
            }
        }
        return make_error(Errc::Unavailable, "InfluxDB: " + why);
    }

    Result<void> flush() {
        for (;;) {
            std::vector<std::string> batch;
            {
                std::lock_guard lock(mutex);
                while (!pending.empty() && batch.size() < options.max_batch) {
                    batch.push_back(std::move(pending.front()));
                    pending.pop_front();
                }
            }
            if (batch.empty()) return {};
            std::string body;
            for (const auto& l : batch) {
                body += l;
                body += '\n';
            }
            if (auto r = send(body, batch.size()); !r) {
                // Put the batch back in front, within the bound: the oldest go first.
                std::lock_guard lock(mutex);
                for (auto it = batch.rbegin(); it != batch.rend(); ++it) pending.push_front(std::move(*it));
                trim_locked();
                return r;
            }
        }
    }

    void trim_locked() {
        if (pending.size() <= options.max_pending) return;
        const std::size_t excess = pending.size() - options.max_pending;
        pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(excess));
        std::lock_guard lock(state_mutex);
        counters.dropped += excess;
    }
};

InfluxWriter::InfluxWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

InfluxWriter::~InfluxWriter() { stop(); }

Result<std::unique_ptr<InfluxWriter>> InfluxWriter::open(InfluxOptions options, std::unique_ptr<core::HttpClient> client) {
    if (!(options.url.starts_with("http://") || options.url.starts_with("https://"))) {
        return make_error(Errc::InvalidArgument, "influxdb.url must be an http(s) URL");
    }
    if (!options.bucket.empty() && (options.org.empty() || options.token.empty())) {
        return make_error(Errc::InvalidArgument, "InfluxDB 2.x (influxdb.bucket) needs influxdb.org and INFLUXDB_TOKEN");
    }
    if (options.bucket.empty() && options.database.empty()) {
        return make_error(Errc::InvalidArgument, "influxdb.database is empty");
    }
    if (!client) client = core::make_http_client();
    return std::unique_ptr<InfluxWriter>(new InfluxWriter(std::make_unique<Impl>(std::move(options), std::move(client))));
}

void InfluxWriter::write(std::vector<Point> points) {
    std::lock_guard lock(impl_->mutex);
    for (const auto& p : points) {
        std::string line = to_line(p);
        if (line.empty()) {
            std::lock_guard state(impl_->state_mutex);
            ++impl_->counters.dropped;
            continue;
        }
        impl_->pending.push_back(std::move(line));
    }
    impl_->trim_locked();
}

Result<void> InfluxWriter::flush() { return impl_->flush(); }

void InfluxWriter::start(std::chrono::milliseconds interval, std::function<void()> before_flush) {
    impl_->thread = std::thread([this, interval, before_flush = std::move(before_flush)] {
        std::unique_lock lock(impl_->mutex);
        while (!impl_->wake.wait_for(lock, interval, [this] { return impl_->stopping; })) {
            lock.unlock();
            if (before_flush) before_flush();
            (void)impl_->flush();
            lock.lock();
        }
    });
}

void InfluxWriter::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopping) return;
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    if (impl_->thread.joinable()) {
        impl_->thread.join();
        (void)impl_->flush();  // last round, best effort
    }
}

Result<void> InfluxWriter::health() const {
    std::lock_guard lock(impl_->state_mutex);
    if (impl_->last_error.empty()) return {};
    return make_error(Errc::Unavailable, impl_->last_error);
}

InfluxStats InfluxWriter::stats() const {
    InfluxStats s;
    {
        std::lock_guard lock(impl_->state_mutex);
        s = impl_->counters;
    }
    std::lock_guard lock(impl_->mutex);
    s.pending = impl_->pending.size();
    return s;
}

const InfluxOptions& InfluxWriter::options() const { return impl_->options; }

}  // namespace sai::storage::influx
