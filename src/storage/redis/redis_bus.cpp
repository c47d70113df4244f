#include "storage/redis/redis_bus.hpp"

#include "core/log.hpp"
#include "core/metrics.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sai::storage::redis {
namespace {

using Steady = std::chrono::steady_clock;

core::metrics::Counter& counter(std::string_view name, std::string_view help, std::string_view direction) {
    return core::metrics::default_registry().counter(name, help, {{"direction", std::string(direction)}});
}

}  // namespace

struct RedisBus::Impl {
    Impl(RedisClient& c, std::string id, std::size_t queue_capacity)
        : client(c),
          node_id(std::move(id)),
          capacity(queue_capacity),
          sent(counter("securityai_redis_messages_total", "Pub/sub messages between nodes.", "published")),
          received(counter("securityai_redis_messages_total", "Pub/sub messages between nodes.", "received")),
          dropped(counter("securityai_redis_messages_total", "Pub/sub messages between nodes.", "dropped")) {}

    RedisClient& client;
    std::string node_id;
    std::size_t capacity;
    std::unordered_map<std::string, Handler> handlers;  // full channel name -> handler
    std::vector<std::function<void()>> connected_callbacks;

    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::pair<std::string, std::string>> queue;  // (full channel, envelope)
    bool running = false;
    std::atomic<bool> is_subscribed{false};
    std::string subscriber_error = "not started";
    std::thread publisher;
    std::thread subscriber;

    core::metrics::Counter& sent;
    core::metrics::Counter& received;
    core::metrics::Counter& dropped;

    bool stopping() {
        std::lock_guard lock(mutex);
        return !running;
    }

    void set_subscriber_error(std::string e) {
        std::lock_guard lock(mutex);
        subscriber_error = std::move(e);
    }

    void publish_loop() {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [&] { return !running || !queue.empty(); });
            if (queue.empty()) {
                return;  // stopped and drained
            }
            auto [channel, message] = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            if (auto r = client.command({"PUBLISH", channel, message}); r) {
                sent.inc();
            } else {
                dropped.inc();  // best effort: a dead Redis must not hold the queue
            }
            lock.lock();
        }
    }

    /// Waits `delay` unless stopped first. False when stopping.
    bool sleep(std::chrono::milliseconds delay) {
        std::unique_lock lock(mutex);
        return !wake.wait_for(lock, delay, [&] { return !running; });
    }

    void subscribe_loop() {
        std::chrono::milliseconds backoff{100};
        while (!stopping()) {
            auto c = connect(client.options());
            if (!c) {
                set_subscriber_error(c.error().detail);
                if (!sleep(backoff)) return;
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(5));
                continue;
            }
            auto* rc = static_cast<redisContext*>(c->get());
            if (auto e = listen(rc); !e.empty()) {
                is_subscribed = false;
                set_subscriber_error(e);
                core::log::warn("redis subscriber disconnected", {{"error", e}});
                backoff = std::chrono::milliseconds(100);
                if (!sleep(backoff)) return;
            }
        }
    }

    /// Subscribes and dispatches until stopped (returns "") or the connection fails (returns why).
    std::string listen(redisContext* rc) {
        std::vector<const char*> argv{"SUBSCRIBE"};
        for (const auto& [channel, handler] : handlers) argv.push_back(channel.c_str());
        if (redisAppendCommandArgv(rc, static_cast<int>(argv.size()), argv.data(), nullptr) != REDIS_OK) {
            return "redis: cannot send SUBSCRIBE";
        }
        std::size_t confirmations = 0;
        auto last_data = Steady::now();
        bool ping_sent = false;
        for (;;) {
            if (stopping()) return {};
            int done = 0;
            while (!done) {
                if (redisBufferWrite(rc, &done) != REDIS_OK) return std::string("redis: ") + rc->errstr;
            }
            void* raw = nullptr;
            if (redisGetReplyFromReader(rc, &raw) != REDIS_OK) return std::string("redis: ") + rc->errstr;
            if (raw == nullptr) {
                pollfd p{rc->fd, POLLIN, 0};
                const int n = ::poll(&p, 1, 200);
                if (n < 0 && errno != EINTR) return "redis: poll failed";
                if (n > 0) {
                    if (redisBufferRead(rc) != REDIS_OK) return std::string("redis: ") + rc->errstr;
                    last_data = Steady::now();
                    ping_sent = false;
                } else if (Steady::now() - last_data > std::chrono::seconds(2)) {
                    // Silence: a PING tells a quiet channel from a dead peer.
                    if (ping_sent) return "redis: no answer to PING";
                    redisAppendCommand(rc, "PING");
                    ping_sent = true;
                    last_data = Steady::now();
                }
                continue;
            }
            std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw), freeReplyObject);
            if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1) continue;
            const std::string_view kind(reply->element[0]->str, reply->element[0]->len);
            if (kind == "subscribe") {
                if (++confirmations == handlers.size()) {
                    is_subscribed = true;
                    set_subscriber_error({});
                    core::log::info("redis subscriber connected", {{"channels", handlers.size()}});
                    for (auto& cb : connected_callbacks) cb();
                }
            } else if (kind == "message" && reply->elements == 3) {
                dispatch(std::string_view(reply->element[1]->str, reply->element[1]->len),
                         std::string_view(reply->element[2]->str, reply->element[2]->len));
            }
        }
    }

    void dispatch(std::string_view channel, std::string_view envelope) {
        const auto nl = envelope.find('\n');
        if (nl == std::string_view::npos) return;
        if (envelope.substr(0, nl) == node_id) return;  // our own message, already delivered locally
        auto it = handlers.find(std::string(channel));
        if (it == handlers.end()) return;
        received.inc();
        try {
            it->second(envelope.substr(nl + 1));
        } catch (const std::exception& e) {
            core::log::error("redis message handler failed", {{"channel", std::string(channel)}, {"error", e.what()}});
        }
    }
};

RedisBus::RedisBus(RedisClient& client, std::string node_id, std::size_t queue_capacity)
    : impl_(std::make_unique<Impl>(client, std::move(node_id), queue_capacity)) {}

RedisBus::~RedisBus() { stop(); }

void RedisBus::subscribe(std::string channel, Handler handler) {
    impl_->handlers[impl_->client.options().key_prefix + channel] = std::move(handler);
}

void RedisBus::on_connected(std::function<void()> callback) { impl_->connected_callbacks.push_back(std::move(callback)); }

void RedisBus::start() {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->running) return;
        impl_->running = true;
    }
    impl_->publisher = std::thread([d = impl_.get()] { d->publish_loop(); });
    if (!impl_->handlers.empty()) {
        impl_->subscriber = std::thread([d = impl_.get()] { d->subscribe_loop(); });
    }
}

void RedisBus::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        if (!impl_->running) return;
        impl_->running = false;
    }
    impl_->wake.notify_all();
    if (impl_->publisher.joinable()) impl_->publisher.join();
    if (impl_->subscriber.joinable()) impl_->subscriber.join();
    impl_->is_subscribed = false;
}

bool RedisBus::publish(std::string channel, std::string payload) {
    std::string envelope = impl_->node_id + "\n" + payload;
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->queue.size() >= impl_->capacity || !impl_->client.available()) {
            impl_->dropped.inc();
            return false;
        }
        impl_->queue.emplace_back(impl_->client.options().key_prefix + channel, std::move(envelope));
    }
    impl_->wake.notify_all();
    return true;
}

bool RedisBus::subscribed() const { return impl_->is_subscribed; }

core::Result<void> RedisBus::health() {
    if (auto r = impl_->client.ping(); !r) {
        return r.error();
    }
    if (!impl_->handlers.empty() && !impl_->is_subscribed) {
        std::lock_guard lock(impl_->mutex);
        return core::make_error(core::Errc::Unavailable, "subscriber not connected: " + impl_->subscriber_error);
    }
    return {};
}

const std::string& RedisBus::node_id() const { return impl_->node_id; }

std::size_t RedisBus::queued() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->queue.size();
}

}  // namespace sai::storage::redis
