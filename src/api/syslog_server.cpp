// Syslog listeners (Asio). Compiled in the "beast" unity group with server.cpp,
// since both pull in Asio.

#include "api/syslog_server.hpp"

#include "core/log.hpp"
#include "core/time.hpp"
#include "pipeline/syslog.hpp"

#include <boost/asio.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace sai::api {
namespace {

namespace sasio = boost::asio;
using sudp = sasio::ip::udp;
using stcp = sasio::ip::tcp;
constexpr auto kSyslogTry = sasio::as_tuple(sasio::use_awaitable);

}  // namespace

struct SyslogServer::Impl {
    SyslogOptions options;
    pipeline::Pipeline& pipeline;
    pipeline::EventSink& sink;  // the pipeline, or the Kafka producer
    bool retry_failed = false;  // with Kafka: a failed delivery is sent again
    sasio::io_context io{1};
    std::unique_ptr<sudp::socket> udp;
    std::unique_ptr<stcp::acceptor> tcp;
    std::uint16_t udp_port = 0;
    std::uint16_t tcp_port = 0;
    std::thread thread;
    std::atomic<bool> stopped{false};
    std::atomic<std::size_t> tcp_connections{0};
    std::atomic<std::uint64_t> received{0}, accepted{0}, rejected{0}, dropped{0}, refused{0};

    Impl(const SyslogOptions& o, pipeline::Pipeline& p, pipeline::EventSink* k)
        : options(o), pipeline(p), sink(k ? *k : p), retry_failed(k != nullptr) {}

    /// Parses messages into events, counting the ones that are not syslog. `peers`
    /// has one address per message, or one for all of them.
    std::vector<model::Event> parse(const std::vector<std::string>& messages, const std::vector<std::string>& peers) {
        std::vector<model::Event> events;
        const auto now = core::now_unix_ms();
        for (std::size_t i = 0; i < messages.size(); ++i) {
            const auto& m = messages[i];
            auto e = pipeline::parse_syslog(m, now, peers.size() == 1 ? peers[0] : peers[i]);
            if (e) {
                events.push_back(std::move(*e));
            } else {
                ++rejected;
                pipeline.count_rejected(1);
            }
        }
        received += messages.size();
        return events;
    }

    sasio::awaitable<void> udp_loop() {
        std::vector<char> buffer(65536);
        sudp::endpoint peer;
        for (;;) {
            auto [ec, n] = co_await udp->async_receive_from(sasio::buffer(buffer), peer, kSyslogTry);
            if (ec == sasio::error::operation_aborted || stopped) {
                co_return;
            }
            if (ec) {
                continue;
            }
            // Drain what else is already waiting, so that a burst becomes one submission.
            std::vector<std::string> messages{std::string(buffer.data(), n)};
            std::vector<std::string> peers{peer.address().to_string()};
            while (messages.size() < 512 && udp->available() > 0) {
                boost::system::error_code more_ec;
                const auto m = udp->receive_from(sasio::buffer(buffer), peer, 0, more_ec);
                if (more_ec) {
                    break;
                }
                messages.emplace_back(buffer.data(), m);
                peers.push_back(peer.address().to_string());
            }
            auto events = parse(messages, peers);
            const auto count = events.size();
            if (count > 0) {
                if (sink.submit(std::move(events), {}, "syslog-udp")) {
                    accepted += count;
                } else {
                    dropped += count;  // the pipeline counts them too
                }
            }
        }
    }

    sasio::awaitable<void> tcp_session(stcp::socket socket) {
        boost::system::error_code ignored;
        const std::string peer = socket.remote_endpoint(ignored).address().to_string();
        pipeline::SyslogFramer framer;
        std::vector<char> buffer(65536);
        sasio::steady_timer idle(socket.get_executor());
        // Shared with the pipeline's acknowledgement, which may outlive this frame.
        auto committed = std::make_shared<sasio::steady_timer>(socket.get_executor());
        for (;;) {
            // Idle timeout: a timer that closes the socket unless data comes first.
            idle.expires_after(options.tcp_idle_timeout);
            idle.async_wait([&socket](const boost::system::error_code& ec) {
                if (!ec) {
                    boost::system::error_code e;
                    socket.close(e);
                }
            });
            auto [ec, n] = co_await socket.async_read_some(sasio::buffer(buffer), kSyslogTry);
            idle.cancel();
            if (ec || stopped) {
                break;
            }
            auto out = framer.feed(std::string_view(buffer.data(), n));
            if (out.errors > 0) {
                rejected += out.errors;
                pipeline.count_rejected(out.errors);
            }
            auto events = parse(out.frames, {peer});
            if (events.empty()) {
                continue;
            }
            // Backpressure: no more reading until this batch is committed. A full
            // queue is retried, so TCP senders slow down instead of losing messages.
            const auto count = events.size();
            auto done = std::make_shared<bool>(false);
            auto ok = std::make_shared<bool>(false);
            for (int attempt = 0;; ++attempt) {
                committed->expires_at(sasio::steady_timer::time_point::max());
                *done = false;
                auto executor = socket.get_executor();
                auto submitted = sink.submit(events, [done, ok, committed, executor](auto result) {
                    const bool success = static_cast<bool>(result);
                    sasio::post(executor, [done, ok, success, committed] {
                        *done = true;
                        *ok = success;
                        committed->cancel();
                    });
                }, "syslog-tcp");
                if (submitted) {
                    while (!*done) {
                        co_await committed->async_wait(kSyslogTry);
                    }
                    if (*ok || !retry_failed) {
                        accepted += count;
                        break;
                    }
                }
                if (stopped) {
                    co_return;
                }
                committed->expires_after(std::chrono::milliseconds(std::min(500, 10 * (attempt + 1))));
                co_await committed->async_wait(kSyslogTry);
            }
        }
        socket.close(ignored);
    }

    sasio::awaitable<void> tcp_loop() {
        for (;;) {
            auto [ec, socket] = co_await tcp->async_accept(kSyslogTry);
            if (ec == sasio::error::operation_aborted || stopped) {
                co_return;
            }
            if (ec) {
                continue;
            }
            if (tcp_connections >= options.max_tcp_connections) {
                ++refused;
                boost::system::error_code ignored;
                socket.close(ignored);
                continue;
            }
            ++tcp_connections;
            sasio::co_spawn(io, tcp_session(std::move(socket)), [this](const std::exception_ptr&) { --tcp_connections; });
        }
    }
};

core::Result<std::unique_ptr<SyslogServer>> SyslogServer::start(const SyslogOptions& options,
                                                                 pipeline::Pipeline& pipeline,
                                                                 pipeline::EventSink* sink) {
    auto impl = std::make_unique<Impl>(options, pipeline, sink);
    boost::system::error_code ec;
    const auto address = sasio::ip::make_address(options.host, ec);
    if (ec) {
        return core::make_error(core::Errc::InvalidArgument, "syslog.host: '" + options.host + "' is not an IP address");
    }
    auto fail = [&](const std::string& what) {
        return core::make_error(core::Errc::Unavailable, "syslog: cannot listen on " + options.host + ":" +
                                                             std::to_string(options.port) + " (" + what + "): " +
                                                             ec.message());
    };
    if (options.udp) {
        impl->udp = std::make_unique<sudp::socket>(impl->io);
        impl->udp->open(address.is_v4() ? sudp::v4() : sudp::v6(), ec);
        if (!ec) impl->udp->set_option(sasio::socket_base::receive_buffer_size(8 << 20), ec);
        ec.clear();
        if (!ec) impl->udp->bind(sudp::endpoint(address, options.port), ec);
        if (ec) return fail("udp");
        impl->udp_port = impl->udp->local_endpoint().port();
    }
    if (options.tcp) {
        impl->tcp = std::make_unique<stcp::acceptor>(impl->io);
        impl->tcp->open(address.is_v4() ? stcp::v4() : stcp::v6(), ec);
        if (!ec) impl->tcp->set_option(sasio::socket_base::reuse_address(true), ec);
        // With port 0, use the UDP port for TCP too when it is free, so both share one number.
        const std::uint16_t tcp_port = options.port == 0 && impl->udp_port != 0 ? impl->udp_port : options.port;
        if (!ec) impl->tcp->bind(stcp::endpoint(address, tcp_port), ec);
        if (ec && options.port == 0) {
            ec.clear();
            impl->tcp->bind(stcp::endpoint(address, 0), ec);
        }
        if (!ec) impl->tcp->listen(sasio::socket_base::max_listen_connections, ec);
        if (ec) return fail("tcp");
        impl->tcp_port = impl->tcp->local_endpoint().port();
    }
    auto log_end = [](const char* what) {
        return [what](const std::exception_ptr& error) {
            if (error) {
                try {
                    std::rethrow_exception(error);
                } catch (const std::exception& e) {
                    core::log::error("syslog listener ended", {{"listener", what}, {"error", e.what()}});
                }
            }
        };
    };
    if (impl->udp) sasio::co_spawn(impl->io, impl->udp_loop(), log_end("udp"));
    if (impl->tcp) sasio::co_spawn(impl->io, impl->tcp_loop(), log_end("tcp"));
    impl->thread = std::thread([p = impl.get()] { p->io.run(); });
    return std::unique_ptr<SyslogServer>(new SyslogServer(std::move(impl)));
}

SyslogServer::SyslogServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyslogServer::~SyslogServer() { stop(); }

std::uint16_t SyslogServer::udp_port() const { return impl_->udp_port; }
std::uint16_t SyslogServer::tcp_port() const { return impl_->tcp_port; }

std::vector<SourceStatus> SyslogServer::status() const {
    std::vector<SourceStatus> out;
    const bool up = !impl_->stopped;
    if (impl_->udp) out.push_back({"syslog-udp", impl_->options.host + ":" + std::to_string(impl_->udp_port), up});
    if (impl_->tcp) out.push_back({"syslog-tcp", impl_->options.host + ":" + std::to_string(impl_->tcp_port), up});
    return out;
}

namespace {

/// Drops the kernel counted for the UDP socket bound to `port` (the last column of
/// /proc/net/udp and /proc/net/udp6); 0 when unknown.
std::uint64_t kernel_udp_drops(std::uint16_t port) {
    std::uint64_t drops = 0;
    for (const char* file : {"/proc/net/udp", "/proc/net/udp6"}) {
        std::FILE* f = std::fopen(file, "r");
        if (!f) continue;
        char line[512];
        std::fgets(line, sizeof line, f);  // header
        while (std::fgets(line, sizeof line, f)) {
            // "  sl  local_address rem_address st ... drops": local port is hex after ':'
            char local[128];
            if (std::sscanf(line, "%*d: %127s", local) != 1) continue;
            const char* colon = std::strrchr(local, ':');
            if (!colon || std::strtoul(colon + 1, nullptr, 16) != port) continue;
            const char* last = std::strrchr(line, ' ');
            if (last) drops += std::strtoull(last + 1, nullptr, 10);
        }
        std::fclose(f);
    }
    return drops;
}

}  // namespace

SyslogCounters SyslogServer::counters() const {
    return {impl_->received, impl_->accepted, impl_->rejected, impl_->dropped, impl_->refused,
            impl_->udp ? kernel_udp_drops(impl_->udp_port) : 0};
}

void SyslogServer::stop() {
    if (impl_->stopped.exchange(true)) {
        return;
    }
    sasio::post(impl_->io, [p = impl_.get()] {
        boost::system::error_code ignored;
        if (p->udp) p->udp->close(ignored);
        if (p->tcp) p->tcp->close(ignored);
    });
    // Give sessions waiting on a commit a moment, then stop the loop.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    impl_->io.stop();
    if (impl_->thread.joinable()) {
        impl_->thread.join();
    }
}

}  // namespace sai::api
