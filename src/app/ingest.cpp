// `securityai ingest`: bulk loading and replay of files (or stdin) as NDJSON
// events, syslog lines or raw lines, either through a running server's API or
// straight into a data directory (--direct).

#include "app.hpp"
#include "core/time.hpp"
#include "core/log.hpp"
#include "model/event.hpp"
#include "pipeline/syslog.hpp"

#include <boost/json.hpp>
#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

namespace sai::app {
namespace {

/// Progress on a terminal (stderr), silence when piped.
class Progress {
public:
    Progress() : tty_(isatty(STDERR_FILENO) != 0), start_(std::chrono::steady_clock::now()) {}
    void update(std::uint64_t sent, std::uint64_t rejected, std::uint64_t bytes, std::uint64_t total_bytes, bool last = false) {
        if (!tty_) {
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        if (!last && now - shown_ < std::chrono::milliseconds(200)) {
            return;
        }
        shown_ = now;
        const double secs = std::max(1e-3, std::chrono::duration<double>(now - start_).count());
        std::fprintf(stderr, "\r  %llu events  %llu rejected  %.0f events/s", static_cast<unsigned long long>(sent),
                     static_cast<unsigned long long>(rejected), static_cast<double>(sent) / secs);
        if (total_bytes > 0) {
            std::fprintf(stderr, "  %3.0f%%", 100.0 * static_cast<double>(bytes) / static_cast<double>(total_bytes));
        }
        std::fprintf(stderr, last ? "\n" : "   ");
        std::fflush(stderr);
    }

private:
    bool tty_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point shown_{};
};

/// An event of a batch the other side would not take, and why.
struct Rejected {
    std::size_t index = 0;
    std::string reason;
};

struct Sink {
    virtual ~Sink() = default;
    /// Stores or sends a batch of events that have ids; returns those the other side rejected.
    virtual core::Result<std::vector<Rejected>> put(std::vector<model::Event>& batch) = 0;
};

class DirectSink final : public Sink {
public:
    explicit DirectSink(storage::Store& store) : store_(store) {}
    core::Result<std::vector<Rejected>> put(std::vector<model::Event>& batch) override {
        auto r = store_.events().insert_batch(batch);
        if (!r) return r.error();
        return std::vector<Rejected>{};
    }

private:
    storage::Store& store_;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
}

class HttpSink final : public Sink {
public:
    HttpSink(std::string url, std::string credential) : url_(std::move(url) + "/api/v1/monitor/events") {
        curl_ = curl_easy_init();
        headers_ = curl_slist_append(headers_, "Content-Type: application/x-ndjson");
        const std::string auth = credential.starts_with("sk_") ? "X-API-Key: " + credential
                                                                : "Authorization: Bearer " + credential;
        headers_ = curl_slist_append(headers_, auth.c_str());
    }
    ~HttpSink() override {
        curl_slist_free_all(headers_);
        curl_easy_cleanup(curl_);
    }
    core::Result<std::vector<Rejected>> put(std::vector<model::Event>& batch) override {
        std::string body;
        for (const auto& e : batch) {
            body += model::event_to_json_text(e);
            body += '\n';
        }
        for (int attempt = 0;; ++attempt) {
            std::string response;
            curl_easy_reset(curl_);
            curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
            curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
            curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
            curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
            curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, collect);
            curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
            curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 120L);
            const CURLcode rc = curl_easy_perform(curl_);
            long status = 0;
            curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
            if (rc == CURLE_OK && status == 202) {
                return rejections(response);
            }
            // Overloaded or rate limited: wait and send the same batch again (ids make it idempotent).
            if ((rc == CURLE_OK && (status == 429 || status == 503)) && attempt < 60) {
                std::this_thread::sleep_for(std::chrono::milliseconds(std::min(5000, 200 * (attempt + 1))));
                continue;
            }
            if (rc != CURLE_OK) {
                return core::make_error(core::Errc::Unavailable, std::string("cannot reach ") + url_ + ": " +
                                                                     curl_easy_strerror(rc));
            }
            return core::make_error(core::Errc::InvalidArgument,
                                    "server answered " + std::to_string(status) + ": " + response.substr(0, 300));
        }
    }

private:
    /// The `rejected` list of a 202 answer.
    static std::vector<Rejected> rejections(const std::string& response) {
        std::vector<Rejected> out;
        boost::system::error_code ec;
        auto v = boost::json::parse(response, ec);
        const auto* list = !ec && v.is_object() ? v.as_object().if_contains("rejected") : nullptr;
        if (list == nullptr || !list->is_array()) return out;
        for (const auto& item : list->get_array()) {
            const auto* o = item.if_object();
            const auto* index = o ? o->if_contains("index") : nullptr;
            const auto* reason = o ? o->if_contains("reason") : nullptr;
            if (index && index->is_int64() && index->get_int64() >= 0 && reason && reason->is_string()) {
                out.push_back({static_cast<std::size_t>(index->get_int64()), std::string(reason->get_string())});
            }
        }
        return out;
    }

    std::string url_;
    CURL* curl_ = nullptr;
    curl_slist* headers_ = nullptr;
};

}  // namespace

std::optional<core::Result<model::Event>> line_to_event(const std::string& format, std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    if (line.empty()) return std::nullopt;
    const auto now = core::now_unix_ms();
    if (format == "syslog") {
        return pipeline::parse_syslog(line, now, {}, pipeline::SyslogSource::File);
    }
    if (format == "raw") {
        if (line.size() > model::kMaxMessageBytes) {
            return core::Result<model::Event>(core::make_error(core::Errc::InvalidArgument, "line longer than 64 KiB"));
        }
        model::Event e;
        e.message = pipeline::sanitize_utf8(line);
        e.dataset = "file";
        e.kind = "event";
        e.ingested = e.timestamp = now;
        return core::Result<model::Event>(std::move(e));
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) {
        return core::Result<model::Event>(core::make_error(core::Errc::InvalidArgument, "not a JSON object"));
    }
    return model::event_from_json(v.as_object(), now);
}

int ingest(const core::Config& config, const IngestCommand& cmd) {
    core::log::init({.level = core::log::Level::Warn, .file = {}, .async = false});
    if (cmd.format != "ndjson" && cmd.format != "syslog" && cmd.format != "raw") {
        return fail("--format must be ndjson, syslog or raw", 2);
    }
    std::unique_ptr<storage::Store> store;
    std::unique_ptr<Sink> sink;
    if (cmd.direct) {
        auto opened = open_store(config, true);
        if (!opened) return fail(opened.error().detail);
        store = std::move(*opened);
        sink = std::make_unique<DirectSink>(*store);
    } else {
        const std::string credential = !cmd.token.empty() ? cmd.token
                                                          : core::process_env("SECURITYAI_TOKEN").value_or(
                                                                core::process_env("SECURITYAI_API_KEY").value_or(""));
        if (credential.empty()) {
            return fail("ingest through the API needs --token (or SECURITYAI_TOKEN / SECURITYAI_API_KEY); "
                        "or use --direct to write into --data-dir",
                        2);
        }
        curl_global_init(CURL_GLOBAL_DEFAULT);
        sink = std::make_unique<HttpSink>(cmd.url, credential);
    }

    std::vector<std::string> files = cmd.files.empty() ? std::vector<std::string>{"-"} : cmd.files;
    std::uint64_t total_bytes = 0;
    for (const auto& f : files) {
        std::error_code ec;
        if (f != "-") total_bytes += std::filesystem::file_size(f, ec);
    }
    Progress progress;
    std::uint64_t sent = 0, rejected = 0, bytes = 0, line_no = 0;
    std::vector<model::Event> batch;
    // Where each event of the batch came from (file index, line), named only when rejected.
    std::vector<std::pair<std::size_t, std::uint64_t>> where;
    auto report = [&](std::pair<std::size_t, std::uint64_t> place, const std::string& reason) {
        ++rejected;
        if (rejected <= 10) {
            const std::string& f = files[place.first];
            std::cerr << (f == "-" ? "stdin" : f) << ":" << place.second << ": " << reason << "\n";
        }
    };
    auto flush = [&]() -> bool {
        if (batch.empty()) return true;
        auto r = sink->put(batch);
        if (!r) {
            std::cerr << "\nsecurityai: error: " << r.error().detail << "\n";
            return false;
        }
        for (const auto& [index, reason] : *r) {
            report(index < where.size() ? where[index] : where.back(), reason);
        }
        sent += batch.size() - std::min(batch.size(), r->size());
        batch.clear();
        where.clear();
        progress.update(sent, rejected, bytes, total_bytes);
        return true;
    };
    for (std::size_t fi = 0; fi < files.size(); ++fi) {
        const std::string& f = files[fi];
        std::ifstream file;
        if (f != "-") {
            file.open(f, std::ios::binary);
            if (!file) return fail("cannot read " + f);
        }
        std::istream& in = f == "-" ? std::cin : file;
        std::string line;
        line_no = 0;
        while (std::getline(in, line)) {
            ++line_no;
            bytes += line.size() + 1;
            auto e = line_to_event(cmd.format, line);
            if (!e) continue;
            if (!*e) {
                report({fi, line_no}, e->error().detail);
                continue;
            }
            // Raw lines and NDJSON events without an id get one here, for either sink.
            model::ensure_identity(**e, core::now_unix_ms());
            batch.push_back(std::move(**e));
            where.emplace_back(fi, line_no);
            if (batch.size() >= 1000 && !flush()) return 1;
        }
    }
    if (!flush()) return 1;
    progress.update(sent, rejected, bytes, total_bytes, true);
    std::cout << "ingested " << sent << " events, rejected " << rejected << "\n";
    if (store) store->close();
    return 0;
}

}  // namespace sai::app
