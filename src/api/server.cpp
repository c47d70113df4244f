// The only translation unit of the project that includes Boost.Beast/Asio for
// HTTP: it turns bytes into api::Request, runs the Dispatcher, and writes
// api::Response back. One io_context per worker thread; a connection lives on
// one of them for its whole life, so a session's state needs no locking.

#include "api/server.hpp"

// GCC 12 flags the frame of a coroutine holding a lambda as having "no linkage"
// (a compiler artefact, not a real ODR problem).
#pragma GCC diagnostic ignored "-Wsubobject-linkage"

#include "api/live.hpp"
#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace sai::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using TlsStream = ssl::stream<tcp::socket>;

constexpr auto kTry = asio::as_tuple(asio::use_awaitable);

std::string remote_of(const tcp::socket& socket) {
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    return ec ? std::string("unknown") : ep.address().to_string();
}

Request to_request(const http::request_parser<http::string_body>& parser, const std::string& remote) {
    const auto& msg = parser.get();
    Request req;
    req.method_text = std::string(msg.method_string());
    req.method = parse_method(req.method_text);
    req.target = std::string(msg.target());
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) {
        req.query = req.target.substr(q + 1);
    }
    req.headers.reserve(8);
    for (const auto& field : msg) {
        req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    req.remote_address = remote;
    return req;
}

}  // namespace

namespace detail {

/// What every connection has, whatever its stream: a timer and its state. Lives
/// on one io_context for its whole life, so its members are only touched on that
/// context's thread.
///
/// Timeouts use our own timer that cancels the pending operation but leaves the
/// socket open (beast::tcp_stream's timeouts close it), so that a slow client can
/// still be told "408 Request Timeout".
struct SessionBase : std::enable_shared_from_this<SessionBase> {
    explicit SessionBase(const asio::any_io_executor& executor) : timer(executor) {}
    virtual ~SessionBase() = default;

    /// The TCP socket under whatever stream the session reads.
    virtual tcp::socket& socket() = 0;

    void arm(std::chrono::milliseconds timeout) {
        timed_out = false;
        const auto generation = ++timer_generation;
        timer.expires_after(timeout);
        timer.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
            if (!ec && generation == self->timer_generation) {
                self->timed_out = true;
                boost::system::error_code ignored;
                self->socket().cancel(ignored);
            }
        });
    }

    void disarm() {
        ++timer_generation;
        timer.cancel();
    }

    asio::steady_timer timer;
    std::uint64_t timer_generation = 0;
    bool timed_out = false;
    bool idle = true;           // waiting for the first byte of a request
    tcp::socket* ws = nullptr;  // set while the connection is a WebSocket (it owns the stream then)
};

/// A connection over `Stream`: tcp::socket (HTTP) or ssl::stream (HTTPS).
template <class Stream>
struct Session final : SessionBase {
    template <class... Args>
    explicit Session(tcp::socket s, Args&&... args)
        : SessionBase(s.get_executor()), stream(std::move(s), std::forward<Args>(args)...) {}

    tcp::socket& socket() override { return ws ? *ws : beast::get_lowest_layer(stream); }

    Stream stream;
};

/// Outbound side of one WebSocket: a bounded queue drained by one writer
/// coroutine. Lives on the connection's executor; send() posts to it.
struct WsChannel final : LiveChannel, std::enable_shared_from_this<WsChannel> {
    static constexpr std::size_t kMaxQueued = 2048;
    static constexpr std::uint64_t kMaxDropped = 200'000;  // behind by this much: closed

    explicit WsChannel(const asio::any_io_executor& ex) : executor(ex), signal(ex) {}

    void send(std::vector<Frame> frames) override {
        asio::post(executor, [self = shared_from_this(), frames = std::move(frames)]() mutable {
            self->enqueue(std::move(frames));
        });
    }

    void enqueue(std::vector<Frame> frames) {
        if (closed) {
            return;
        }
        for (auto& f : frames) {
            if (queue.size() < kMaxQueued) {
                queue.push_back(std::move(f));
            } else {
                ++dropped_pending;
                ++dropped_total;
            }
        }
        if (dropped_total > kMaxDropped) {
            too_slow = true;
            closed = true;
        }
        wake();
    }

    void wake() { signal.cancel(); }

    asio::any_io_executor executor;
    asio::steady_timer signal;
    std::deque<Frame> queue;
    std::uint64_t dropped_pending = 0;
    std::uint64_t dropped_total = 0;
    bool closed = false;
    bool too_slow = false;
    bool writer_done = false;
};

}  // namespace detail

using detail::Session;
using detail::WsChannel;
using detail::SessionBase;

struct Server::Impl {
    ServerOptions options;
    const Dispatcher& dispatcher;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::vector<std::thread> threads;
    asio::thread_pool blocking;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::uint16_t port = 0;
    std::atomic<bool> draining{false};
    std::atomic<std::size_t> connections{0};
    std::atomic<std::size_t> next_context{0};
    std::mutex sessions_mutex;
    std::unordered_set<std::shared_ptr<SessionBase>> sessions;
    std::unique_ptr<ssl::context> tls;  // null: plain HTTP

    Impl(const ServerOptions& o, const Dispatcher& d)
        : options(o), dispatcher(d), blocking(static_cast<std::size_t>(std::max(1, o.blocking_threads))) {}

    asio::awaitable<void> accept_loop();
    template <class Stream>
    void start_session(std::shared_ptr<Session<Stream>> session, asio::io_context& ctx);
    template <class Stream>
    asio::awaitable<void> run_session(std::shared_ptr<Session<Stream>> session);
    template <class Stream>
    asio::awaitable<bool> write_response(Session<Stream>& s, const Request& req, Response res, unsigned version,
                                         bool keep_alive, std::chrono::steady_clock::time_point started,
                                         const Route* route = nullptr);
    template <class Stream>
    asio::awaitable<void> close_gracefully(Session<Stream>& s, beast::flat_buffer& buffer);
    template <class Stream>
    asio::awaitable<void> run_websocket(Session<Stream>& s, http::request<http::string_body> upgrade, Request request,
                                        std::string protocol);
    void log_access(const Request& req, int status, std::size_t bytes, std::chrono::steady_clock::time_point started);
};

asio::awaitable<void> Server::Impl::accept_loop() {
    for (;;) {
        auto& ctx = *contexts[next_context.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
        auto [ec, socket] = co_await acceptor->async_accept(asio::any_io_executor(ctx.get_executor()), kTry);
        if (ec == asio::error::operation_aborted || draining.load()) {
            co_return;
        }
        if (ec) {
            // EMFILE and friends: back off briefly instead of spinning.
            core::log::warn("accept failed", {{"error", ec.message()}});
            asio::steady_timer timer(acceptor->get_executor(), std::chrono::milliseconds(50));
            co_await timer.async_wait(kTry);
            continue;
        }
        if (connections.load() >= options.max_connections) {
            core::log::warn("connection refused: limit reached",
                            {{"limit", options.max_connections}, {"remote", remote_of(socket)}});
            beast::error_code ignored;
            socket.close(ignored);
            continue;
        }
        socket.set_option(tcp::no_delay(true));
        if (tls) {
            start_session(std::make_shared<Session<TlsStream>>(std::move(socket), *tls), ctx);
        } else {
            start_session(std::make_shared<Session<tcp::socket>>(std::move(socket)), ctx);
        }
    }
}

template <class Stream>
void Server::Impl::start_session(std::shared_ptr<Session<Stream>> session, asio::io_context& ctx) {
    connections.fetch_add(1);
    {
        std::lock_guard lock(sessions_mutex);
        sessions.insert(session);
    }
    asio::co_spawn(ctx, run_session(session), [this, session](const std::exception_ptr& error) {
        // Session boundary: an escaped exception ends this connection only.
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                core::log::warn("session ended by exception", {{"error", e.what()}});
            }
        }
        {
            std::lock_guard lock(sessions_mutex);
            sessions.erase(session);
        }
        connections.fetch_sub(1);
    });
}

namespace {

/// Counts a request as in flight from its first byte until its response is written.
class InFlight {
public:
    InFlight() : gauge_(&gauge()) { gauge_->add(1); }
    ~InFlight() { release(); }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
    void release() {
        if (gauge_) gauge_->add(-1);
        gauge_ = nullptr;
    }
    static core::metrics::Gauge& gauge() {
        static auto& g = core::metrics::default_registry().gauge("securityai_http_requests_in_flight",
                                                                 "HTTP requests being read, handled or answered.");
        return g;
    }

private:
    core::metrics::Gauge* gauge_;
};

/// Requests by method, route template (bounded: "unmatched" for unknown paths) and status.
void record_http(const Request& req, const Route* route, int status, std::chrono::steady_clock::time_point started) {
    auto& registry = core::metrics::default_registry();
    const std::string pattern = route ? route->pattern : std::string("unmatched");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    registry
        .counter("securityai_http_requests_total", "HTTP requests by method, route template and status.",
                 {{"method", std::string(to_string(req.method))}, {"route", pattern}, {"status", std::to_string(status)}})
        .inc();
    registry
        .histogram("securityai_http_request_duration_seconds",
                   "Time from a request's first byte to its response written, by route template.", {{"route", pattern}})
        .observe(seconds);
}

}  // namespace

void Server::Impl::log_access(const Request& req, int status, std::size_t bytes,
                              std::chrono::steady_clock::time_point started) {
    if (!options.access_log || !core::log::enabled(core::log::Level::Info)) {
        return;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    core::log::info("request", {{"method", req.method_text},
                                {"path", req.path},
                                {"status", status},
                                {"duration_ms", ms},
                                {"bytes", bytes},
                                {"request_id", req.request_id},
                                {"remote", req.remote_address}});
}

template <class Stream>
asio::awaitable<bool> Server::Impl::write_response(Session<Stream>& s, const Request& req, Response res, unsigned version,
                                                   bool keep_alive, std::chrono::steady_clock::time_point started,
                                                   const Route* route) {
    dispatcher.finish(req, res, route);
    keep_alive = keep_alive && !res.close && !draining.load();
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::server, "securityai");
    if (!res.content_type.empty()) {
        out.set(http::field::content_type, res.content_type);
    }
    for (auto& h : res.headers) {
        out.set(h.name, h.value);
    }
    const std::size_t bytes = res.body.size();
    if (req.method == Method::Head) {
        out.content_length(bytes);
    } else if (res.status != 204 && res.status != 304) {
        out.body() = std::move(res.body);
        out.prepare_payload();
    }
    out.keep_alive(keep_alive);
    s.arm(options.write_timeout);
    auto [ec, written] = co_await http::async_write(s.stream, out, kTry);
    s.disarm();
    record_http(req, route, res.status, started);
    log_access(req, res.status, bytes, started);
    co_return !ec && keep_alive;
}

template <class Stream>
asio::awaitable<void> Server::Impl::run_session(std::shared_ptr<Session<Stream>> session) {
    auto& s = *session;
    const std::string remote = remote_of(s.socket());
    beast::flat_buffer buffer;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        s.idle = false;
        s.arm(options.header_timeout);
        auto [ec] = co_await s.stream.async_handshake(ssl::stream_base::server, kTry);
        s.disarm();
        if (ec) {
            core::log::debug("TLS handshake failed", {{"remote", remote}, {"error", ec.message()}});
            beast::error_code ignored;
            s.socket().close(ignored);
            co_return;
        }
    }
    for (;;) {
        // Idle phase: wait for the first byte of the next request. Only here may
        // a shutdown close the connection; after it the request is in flight.
        s.idle = true;
        if (buffer.size() == 0) {
            if (draining.load()) {
                break;
            }
            s.arm(options.idle_timeout);
            auto [ec, n] = co_await s.stream.async_read_some(buffer.prepare(4096), kTry);
            s.disarm();
            if (ec) {
                break;  // idle timeout, peer closed, or cancelled by shutdown
            }
            buffer.commit(n);
        }
        s.idle = false;
        const auto started = std::chrono::steady_clock::now();
        InFlight in_flight;

        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        // The body limit is decided per route once the headers are known.
        parser.body_limit(std::numeric_limits<std::uint64_t>::max());
        s.arm(options.header_timeout);
        auto [hec, hn] = co_await http::async_read_header(s.stream, buffer, parser, kTry);
        s.disarm();
        if (hec) {
            if (hec == http::error::end_of_stream || hec == asio::error::eof ||
                hec == asio::error::connection_reset || (hec == asio::error::operation_aborted && !s.timed_out)) {
                break;
            }
            Request req;
            req.method_text = "-";
            req.remote_address = remote;
            req.request_id = core::new_uuid_v7();
            Response res;
            if (s.timed_out) {
                res = error_response(req.request_id, 408, "request_timeout",
                                     "request headers not received within " +
                                         std::to_string(options.header_timeout.count()) + " ms");
            } else if (hec == http::error::header_limit) {
                res = error_response(req.request_id, 431, "header_too_large",
                                     "request line and headers exceed " + std::to_string(options.max_header_bytes) +
                                         " bytes");
            } else {
                res = error_response(req.request_id, 400, "malformed_request", "malformed HTTP request: " + hec.message());
            }
            core::log::warn("bad request", {{"remote", remote}, {"status", res.status}, {"error", hec.message()}});
            res.close = true;
            co_await write_response(s, req, std::move(res), 11, false, started);
            break;
        }

        Request req = to_request(parser, remote);
        const unsigned version = parser.get().version();
        bool keep_alive = parser.get().keep_alive();
        const bool ws_upgrade = options.live && websocket::is_upgrade(parser.get());
        std::string ws_protocol;
        if (ws_upgrade && req.header("Authorization").empty()) {
            // Browsers cannot set headers on a WebSocket: the token comes as ?token=
            // or as a "bearer.<token>" subprotocol (echoed back, as Chromium requires).
            std::string token = req.query_param("token").value_or("");
            std::string_view offered = req.header("Sec-WebSocket-Protocol");
            while (!offered.empty()) {
                const auto comma = offered.find(',');
                std::string_view p = offered.substr(0, comma);
                while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
                while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
                if (p.starts_with("bearer.") && token.empty()) {
                    token = std::string(p.substr(7));
                    if (ws_protocol.empty()) {
                        ws_protocol = std::string(p);
                    }
                } else if (p == "securityai.v1") {
                    ws_protocol = std::string(p);
                }
                offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
            }
            if (!token.empty()) {
                req.headers.push_back({"Authorization", "Bearer " + token});
            }
        }
        auto prepared = dispatcher.prepare(req);
        if (ws_upgrade && !prepared.response && prepared.route && prepared.route->pattern == "/api/v1/monitor/ws") {
            in_flight.release();
            record_http(req, prepared.route, 101, started);
            log_access(req, 101, 0, started);
            co_await run_websocket(s, parser.release(), std::move(req), std::move(ws_protocol));
            co_return;
        }

        const auto length = parser.content_length();
        const bool has_body = !parser.is_done();
        if (has_body && length && *length > prepared.body_limit) {
            // Refused before reading a byte of it, whether or not a route exists.
            Response res = error_response(req.request_id, 413, "payload_too_large",
                                          "request body of " + std::to_string(*length) +
                                              " bytes exceeds the limit of " + std::to_string(prepared.body_limit) +
                                              " bytes");
            res.close = true;
            co_await write_response(s, req, std::move(res), version, false, started);
            break;
        }
        if (prepared.response) {
            // Answered from the headers alone: an unread body would corrupt the
            // next request on this connection, so such connections close.
            prepared.response->close = prepared.response->close || has_body;
            if (!co_await write_response(s, req, std::move(*prepared.response), version, keep_alive, started)) {
                break;
            }
            continue;
        }
        if (has_body) {
            parser.body_limit(prepared.body_limit);
            if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
                http::response<http::empty_body> cont{http::status::continue_, version};
                s.arm(options.write_timeout);
                auto [cec, cn] = co_await http::async_write(s.stream, cont, kTry);
                s.disarm();
                if (cec) {
                    break;
                }
            }
            s.arm(options.body_timeout);
            auto [bec, bn] = co_await http::async_read(s.stream, buffer, parser, kTry);
            s.disarm();
            if (bec) {
                Response res;
                if (bec == http::error::body_limit) {
                    res = error_response(req.request_id, 413, "payload_too_large",
                                         "request body exceeds the limit of " + std::to_string(prepared.body_limit) +
                                             " bytes");
                } else if (s.timed_out) {
                    res = error_response(req.request_id, 408, "request_timeout",
                                         "request body not received within " +
                                             std::to_string(options.body_timeout.count()) + " ms");
                } else if (bec == http::error::partial_message || bec == asio::error::eof ||
                           bec == asio::error::connection_reset || bec == asio::error::operation_aborted) {
                    break;
                } else {
                    res = error_response(req.request_id, 400, "malformed_request",
                                         "malformed request body: " + bec.message());
                }
                res.close = true;
                co_await write_response(s, req, std::move(res), version, false, started);
                break;
            }
            req.body = std::move(parser.get().body());
        }

        const Route& route = *prepared.route;
        Response res;
        if (route.options.blocking) {
            // Storage and file I/O never run on an I/O thread.
            res = co_await asio::co_spawn(
                blocking, [&]() -> asio::awaitable<Response> { co_return dispatcher.run(route, req); },
                asio::use_awaitable);
        } else {
            res = dispatcher.run(route, req);
        }
        if (!co_await write_response(s, req, std::move(res), version, keep_alive, started, &route)) {
            break;
        }
    }
    co_await close_gracefully(s, buffer);
}

template <class Stream>
asio::awaitable<void> Server::Impl::run_websocket(Session<Stream>& s, http::request<http::string_body> upgrade,
                                                  Request request, std::string protocol) {
    websocket::stream<Stream> ws(std::move(s.stream));
    s.ws = &beast::get_lowest_layer(ws);
    s.idle = false;
    // Pings after 30 s of silence; a peer that does not answer within the next 30 s is dropped.
    ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(60), true});
    ws.read_message_max(64 * 1024);
    ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
        res.set(http::field::server, "securityai");
        if (!protocol.empty()) {
            res.set(http::field::sec_websocket_protocol, protocol);
        }
    }));
    auto [accept_ec] = co_await ws.async_accept(upgrade, kTry);
    if (accept_ec) {
        co_return;
    }
    auto channel = std::make_shared<WsChannel>(ws.get_executor());
    auto connection = options.live->open(request, channel);

    // One writer: drains the queue, reports drops, closes a client that stays behind.
    asio::co_spawn(ws.get_executor(), [&ws, channel]() -> asio::awaitable<void> {
        for (;;) {
            if (channel->queue.empty() && channel->dropped_pending == 0) {
                if (channel->closed) {
                    break;
                }
                channel->signal.expires_at(asio::steady_timer::time_point::max());
                co_await channel->signal.async_wait(kTry);
                continue;
            }
            std::string lagged;
            Frame next;
            if (channel->dropped_pending > 0) {
                static auto& lag_notices = core::metrics::default_registry().counter(
                    "securityai_websocket_lagged_notices_total", "Lagged notices sent to slow WebSocket clients.");
                static auto& lag_dropped = core::metrics::default_registry().counter(
                    "securityai_websocket_dropped_frames_total", "Frames dropped for slow WebSocket clients.");
                lag_notices.inc();
                lag_dropped.inc(channel->dropped_pending);
                lagged = R"({"type":"lagged","dropped":)" + std::to_string(channel->dropped_pending) + "}";
                channel->dropped_pending = 0;
            } else {
                next = std::move(channel->queue.front());
                channel->queue.pop_front();
            }
            ws.text(true);
            auto [ec, n] = co_await ws.async_write(asio::buffer(next ? *next : lagged), kTry);
            if (ec) {
                channel->closed = true;
                break;
            }
        }
        if (channel->too_slow) {
            co_await ws.async_close(websocket::close_reason(websocket::close_code::policy_error, "client too slow"), kTry);
        }
        channel->writer_done = true;
        channel->wake();
    }, asio::detached);

    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(buffer, kTry);
        if (ec || draining.load() || channel->closed) {
            break;
        }
        if (ws.got_text()) {
            connection->on_message(std::string_view(static_cast<const char*>(buffer.data().data()), buffer.size()));
        }
        buffer.consume(buffer.size());
    }
    channel->closed = true;
    connection.reset();  // unsubscribes
    if (!channel->too_slow) {
        beast::error_code ignored;
        beast::get_lowest_layer(ws).cancel(ignored);  // stop a pending write
    }
    while (!channel->writer_done) {
        channel->wake();
        asio::steady_timer pause(ws.get_executor(), std::chrono::milliseconds(5));
        co_await pause.async_wait(kTry);
    }
    beast::error_code ignored;
    beast::get_lowest_layer(ws).close(ignored);
    s.ws = nullptr;
}

template <class Stream>
asio::awaitable<void> Server::Impl::close_gracefully(Session<Stream>& s, beast::flat_buffer& buffer) {
    beast::error_code ignored;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        // Send close_notify, waiting briefly for the peer's; then close.
        s.arm(std::chrono::milliseconds(1000));
        co_await s.stream.async_shutdown(kTry);
        s.disarm();
        s.socket().close(ignored);
        co_return;
    } else {
        // Lingering close: after answering early (413, 400...) the client may still be
        // sending. Closing with unread input makes the kernel send a reset, which can
        // destroy our answer before the client reads it, so drain a bounded amount first.
        s.socket().shutdown(tcp::socket::shutdown_send, ignored);
        if (!draining.load()) {
            std::size_t drained = 0;
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            while (drained < (4u << 20) && std::chrono::steady_clock::now() < deadline) {
                buffer.clear();
                s.arm(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
                auto [ec, n] = co_await s.stream.async_read_some(buffer.prepare(65536), kTry);
                s.disarm();
                if (ec) {
                    break;
                }
                drained += n;
            }
        }
        s.socket().close(ignored);
    }
}

core::Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, const Dispatcher& dispatcher) {
    auto impl = std::make_unique<Impl>(options, dispatcher);
    if (!options.tls_cert_file.empty()) {
        impl->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
        auto& ctx = *impl->tls;
        ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
        SSL_CTX_set_min_proto_version(ctx.native_handle(),
                                      options.tls_min_version_13 ? TLS1_3_VERSION : TLS1_2_VERSION);
        beast::error_code tls_ec;
        ctx.use_certificate_chain_file(options.tls_cert_file, tls_ec);
        if (tls_ec) {
            return core::make_error(core::Errc::InvalidArgument,
                                    "tls.cert_file " + options.tls_cert_file + ": " + tls_ec.message());
        }
        ctx.use_private_key_file(options.tls_key_file, ssl::context::pem, tls_ec);
        if (tls_ec) {
            return core::make_error(core::Errc::InvalidArgument,
                                    "tls.key_file " + options.tls_key_file + ": " + tls_ec.message());
        }
    }
    const int workers = options.workers > 0 ? options.workers
                                            : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int i = 0; i < workers; ++i) {
        impl->contexts.push_back(std::make_unique<asio::io_context>(1));
        impl->guards.push_back(asio::make_work_guard(*impl->contexts.back()));
    }

    beast::error_code ec;
    auto address = asio::ip::make_address(options.host, ec);
    if (ec) {
        // Not an IP literal: resolve it (e.g. "localhost").
        asio::io_context resolver_ctx;
        tcp::resolver resolver(resolver_ctx);
        auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
        if (ec || results.empty()) {
            return core::make_error(core::Errc::InvalidArgument,
                                    "http.host: cannot resolve '" + options.host + "': " + ec.message());
        }
        address = results.begin()->endpoint().address();
    }
    auto acceptor = std::make_unique<tcp::acceptor>(*impl->contexts[0]);
    const tcp::endpoint endpoint(address, options.port);
    auto fail = [&](std::string_view what) {
        return core::make_error(core::Errc::Unavailable, "cannot listen on " + options.host + ":" +
                                                             std::to_string(options.port) + ": " + std::string(what) +
                                                             ": " + ec.message());
    };
    if (acceptor->open(endpoint.protocol(), ec); ec) {
        return fail("open");
    }
    if (acceptor->set_option(asio::socket_base::reuse_address(true), ec); ec) {
        return fail("SO_REUSEADDR");
    }
    if (acceptor->bind(endpoint, ec); ec) {
        return fail("bind");
    }
    if (acceptor->listen(asio::socket_base::max_listen_connections, ec); ec) {
        return fail("listen");
    }
    impl->port = acceptor->local_endpoint().port();
    impl->acceptor = std::move(acceptor);

    asio::co_spawn(*impl->contexts[0], impl->accept_loop(), [](const std::exception_ptr& error) {
        if (error) {
            try {
                std::rethrow_exception(error);
            } catch (const std::exception& e) {
                core::log::error("accept loop ended", {{"error", e.what()}});
            }
        }
    });
    for (auto& ctx : impl->contexts) {
        impl->threads.emplace_back([c = ctx.get()] {
            for (;;) {
                try {
                    c->run();
                    return;
                } catch (const std::exception& e) {
                    // Completion handlers should never throw; keep the worker alive if one does.
                    core::log::error("io thread caught exception", {{"error", e.what()}});
                }
            }
        });
    }
    return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { shutdown(std::chrono::milliseconds(0)); }

std::uint16_t Server::port() const { return impl_->port; }

const std::string& Server::host() const { return impl_->options.host; }

std::size_t Server::open_connections() const { return impl_->connections.load(); }

void Server::shutdown(std::chrono::milliseconds grace) {
    if (impl_->threads.empty()) {
        return;  // already shut down
    }
    impl_->draining.store(true);
    asio::post(*impl_->contexts[0], [this] {
        beast::error_code ignored;
        impl_->acceptor->close(ignored);
    });
    auto for_each_session = [this](auto fn) {
        std::lock_guard lock(impl_->sessions_mutex);
        for (const auto& session : impl_->sessions) {
            asio::post(session->timer.get_executor(), [session, fn] { fn(*session); });
        }
    };
    // Idle keep-alive connections go now; busy ones finish their request first.
    for_each_session([](SessionBase& s) {
        if (s.idle || s.ws) {
            beast::error_code ignored;
            s.socket().cancel(ignored);
        }
    });
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (impl_->connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (const auto left = impl_->connections.load(); left > 0) {
        core::log::warn("closing connections still busy after the grace period", {{"connections", left}});
        for_each_session([](SessionBase& s) {
            beast::error_code ignored;
            s.socket().close(ignored);
        });
    }
    impl_->guards.clear();
    for (auto& ctx : impl_->contexts) {
        ctx->stop();
    }
    for (auto& t : impl_->threads) {
        t.join();
    }
    impl_->threads.clear();
    impl_->blocking.join();
    {
        std::lock_guard lock(impl_->sessions_mutex);
        impl_->sessions.clear();
    }
}

}  // namespace sai::api
