#include "storage/redis/redis_client.hpp"

#include "core/metrics.hpp"
#include "core/time.hpp"

#include <hiredis/hiredis.h>

#include <charconv>
#include <condition_variable>
#include <mutex>

namespace sai::storage::redis {
namespace {

using core::Errc;
using core::make_error;
using core::Result;

redisContext* ctx(const ContextPtr& p) { return static_cast<redisContext*>(p.get()); }

timeval to_timeval(std::chrono::milliseconds ms) {
    return timeval{static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply copy_reply(const redisReply* r) {
    Reply out;
    switch (r->type) {
        case REDIS_REPLY_INTEGER:
            out.type = Reply::Type::Integer;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_STRING:
            out.type = Reply::Type::String;
            out.text.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = Reply::Type::Status;
            out.text.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ARRAY:
            out.type = Reply::Type::Array;
            out.elements.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i) {
                out.elements.push_back(copy_reply(r->element[i]));
            }
            break;
        default:
            out.type = Reply::Type::Nil;
    }
    return out;
}

/// Runs one command on a connection. `broken` tells whether the connection must
/// be dropped (I/O error, timeout) as opposed to an error reply.
Result<Reply> run(redisContext* c, const std::vector<std::string>& args, bool& broken) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lens;
    argv.reserve(args.size());
    lens.reserve(args.size());
    for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data()));
    if (r == nullptr) {
        broken = true;
        return make_error(Errc::Unavailable, std::string("redis: ") + (c->err ? c->errstr : "no reply"));
    }
    broken = false;
    if (r->type == REDIS_REPLY_ERROR) {
        std::string text(r->str, r->len);
        freeReplyObject(r);
        return make_error(Errc::Internal, text);
    }
    Reply out = copy_reply(r);
    freeReplyObject(r);
    return out;
}

core::metrics::Counter& error_counter(std::string_view kind) {
    return core::metrics::default_registry().counter("securityai_redis_errors_total",
                                                     "Failed Redis calls (connection, timeout or error reply).",
                                                     {{"kind", std::string(kind)}});
}

}  // namespace

void ContextDeleter::operator()(void* context) const { redisFree(static_cast<redisContext*>(context)); }

Result<RedisOptions> parse_redis_url(std::string_view url) {
    RedisOptions o;
    constexpr std::string_view kScheme = "redis://";
    if (!url.starts_with(kScheme)) {
        return make_error(Errc::InvalidArgument, "redis.url must start with redis:// (rediss:// is not supported)");
    }
    std::string_view rest = url.substr(kScheme.size());
    if (auto q = rest.find('?'); q != std::string_view::npos) {
        rest = rest.substr(0, q);
    }
    std::string_view path;
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        path = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (auto colon = userinfo.find(':'); colon != std::string_view::npos) {
            o.username = std::string(userinfo.substr(0, colon));
            o.password = std::string(userinfo.substr(colon + 1));
        } else {
            o.password = std::string(userinfo);
        }
    }
    std::string_view host = rest;
    if (auto colon = rest.rfind(':'); colon != std::string_view::npos && rest.find(']') == std::string_view::npos) {
        host = rest.substr(0, colon);
        auto port = rest.substr(colon + 1);
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), o.port);
        if (ec != std::errc() || p != port.data() + port.size() || o.port <= 0 || o.port > 65535) {
            return make_error(Errc::InvalidArgument, "redis.url: bad port");
        }
    }
    if (host.empty()) {
        return make_error(Errc::InvalidArgument, "redis.url: missing host");
    }
    o.host = std::string(host);
    if (!path.empty()) {
        auto [p, ec] = std::from_chars(path.data(), path.data() + path.size(), o.database);
        if (ec != std::errc() || p != path.data() + path.size() || o.database < 0) {
            return make_error(Errc::InvalidArgument, "redis.url: the path must be a database number");
        }
    }
    return o;
}

Result<ContextPtr> connect(const RedisOptions& o) {
    const timeval connect_timeout = to_timeval(o.connect_timeout);
    ContextPtr c(redisConnectWithTimeout(o.host.c_str(), o.port, connect_timeout));
    if (!c) {
        return make_error(Errc::Unavailable, "redis: out of memory");
    }
    if (ctx(c)->err) {
        return make_error(Errc::Unavailable, std::string("redis: connect: ") + ctx(c)->errstr);
    }
    if (redisSetTimeout(ctx(c), to_timeval(o.command_timeout)) != REDIS_OK) {
        return make_error(Errc::Unavailable, "redis: cannot set the command timeout");
    }
    bool broken = false;
    if (!o.password.empty()) {
        std::vector<std::string> auth{"AUTH"};
        if (!o.username.empty()) auth.push_back(o.username);
        auth.push_back(o.password);
        if (auto r = run(ctx(c), auth, broken); !r) {
            return make_error(Errc::Unavailable, "redis: authentication failed");  // never echo the password
        }
    }
    if (o.database != 0) {
        if (auto r = run(ctx(c), {"SELECT", std::to_string(o.database)}, broken); !r) {
            return make_error(Errc::Unavailable, "redis: SELECT failed: " + r.error().detail);
        }
    }
    return c;
}

struct RedisClient::Impl {
    explicit Impl(const RedisOptions& o) : breaker(1, o.cooldown) {}

    std::mutex mutex;
    std::condition_variable freed;
    std::vector<ContextPtr> idle;
    std::size_t open = 0;  // idle + in use
    std::string script_sha;
    std::string last_error;
    core::CircuitBreaker breaker;

    void fail(std::string detail) {
        error_counter("unavailable").inc();
        breaker.on_failure(core::now_unix_ms());
        std::lock_guard lock(mutex);
        last_error = std::move(detail);
    }
};

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>(options_)) {}
RedisClient::~RedisClient() = default;

bool RedisClient::available() const {
    return impl_->breaker.state(core::now_unix_ms()) != core::CircuitBreaker::State::Open;
}

std::string RedisClient::last_error() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->last_error;
}

namespace {

/// Borrows a pooled connection (connecting a new one when none is idle and the
/// pool is not full; waiting at most the command timeout otherwise).
Result<ContextPtr> acquire(RedisClient::Impl& d, const RedisOptions& o, bool& pool_busy) {
    {
        std::unique_lock lock(d.mutex);
        if (d.idle.empty() && d.open >= o.max_connections) {
            if (!d.freed.wait_for(lock, o.command_timeout, [&] { return !d.idle.empty() || d.open < o.max_connections; })) {
                pool_busy = true;
                error_counter("pool_busy").inc();
                return make_error(Errc::Unavailable, "redis: every pooled connection is busy");
            }
        }
        if (!d.idle.empty()) {
            ContextPtr c = std::move(d.idle.back());
            d.idle.pop_back();
            return c;
        }
        ++d.open;
    }
    auto c = connect(o);
    if (!c) {
        std::lock_guard lock(d.mutex);
        --d.open;
        d.freed.notify_one();
    }
    return c;
}

void release(RedisClient::Impl& d, ContextPtr c) {
    std::lock_guard lock(d.mutex);
    if (c) {
        d.idle.push_back(std::move(c));
    } else {
        --d.open;
    }
    d.freed.notify_one();
}

Result<Reply> call(RedisClient::Impl& d, const RedisOptions& o, const std::vector<std::string>& args, bool use_breaker) {
    if (use_breaker && !d.breaker.allow(core::now_unix_ms())) {
        return make_error(Errc::Unavailable, "redis unavailable (retrying shortly)");
    }
    bool pool_busy = false;
    auto c = acquire(d, o, pool_busy);
    if (!c) {
        // A busy pool says nothing about Redis: only connection failures open the breaker.
        if (use_breaker && !pool_busy) d.fail(c.error().detail);
        return c.error();
    }
    bool broken = false;
    auto r = run(ctx(*c), args, broken);
    if (broken) {
        release(d, nullptr);
        d.fail(r.error().detail);
        // Drop the other idle connections too: after a restart they are all dead,
        // and each would cost a failed call.
        std::lock_guard lock(d.mutex);
        d.open -= d.idle.size();
        d.idle.clear();
        return r;
    }
    release(d, std::move(*c));
    if (use_breaker) d.breaker.on_success();
    if (!r) {
        error_counter("reply").inc();
    } else {
        std::lock_guard lock(d.mutex);
        d.last_error.clear();
    }
    return r;
}

}  // namespace

Result<Reply> RedisClient::command(const std::vector<std::string>& args) { return call(*impl_, options_, args, true); }

Result<void> RedisClient::ping() {
    auto r = call(*impl_, options_, {"PING"}, false);
    if (!r) {
        std::lock_guard lock(impl_->mutex);
        impl_->last_error = r.error().detail;
        return r.error();
    }
    impl_->breaker.on_success();
    return {};
}

Result<Reply> RedisClient::eval(std::string_view script, const std::vector<std::string>& keys,
                                const std::vector<std::string>& args) {
    std::string sha;
    {
        std::lock_guard lock(impl_->mutex);
        sha = impl_->script_sha;
    }
    auto with = [&](std::string first, std::string second) {
        std::vector<std::string> argv{std::move(first), std::move(second), std::to_string(keys.size())};
        argv.insert(argv.end(), keys.begin(), keys.end());
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    };
    if (sha.empty()) {
        auto loaded = command({"SCRIPT", "LOAD", std::string(script)});
        if (!loaded) {
            return loaded.error();
        }
        sha = loaded->text;
        std::lock_guard lock(impl_->mutex);
        impl_->script_sha = sha;
    }
    auto r = command(with("EVALSHA", sha));
    if (!r && r.error().code == Errc::Internal && r.error().detail.starts_with("NOSCRIPT")) {
        // Redis restarted (or flushed its script cache): EVAL loads the script again.
        return command(with("EVAL", std::string(script)));
    }
    return r;
}

}  // namespace sai::storage::redis
