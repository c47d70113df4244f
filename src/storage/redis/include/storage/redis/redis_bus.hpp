#pragma once
// Messages between nodes over Redis pub/sub (at most once, best effort).
//
// publish() never blocks: messages go through a bounded queue to a publisher
// thread (dropped and counted while Redis is down). A dedicated subscriber
// connection on its own thread receives the channels registered before start(),
// skips the messages this node published itself (each carries its node id), and
// reconnects with exponential backoff (100 ms .. 5 s), resubscribing and calling
// the on_connected callbacks so that users can catch up on what they missed.

#include "storage/redis/redis_client.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace sai::storage::redis {

/// Owned by the composition root; handlers run on the subscriber thread and must
/// return quickly. subscribe()/on_connected() before start(); the rest from any thread.
class RedisBus {
public:
    using Handler = std::function<void(std::string_view payload)>;

    /// `node_id` must not contain '\n'.
    RedisBus(RedisClient& client, std::string node_id, std::size_t queue_capacity = 10'000);
    ~RedisBus();  // stop()
    RedisBus(const RedisBus&) = delete;
    RedisBus& operator=(const RedisBus&) = delete;

    /// `channel` is relative to the key prefix ("live" -> "sai:live").
    void subscribe(std::string channel, Handler handler);
    void on_connected(std::function<void()> callback);
    void start();
    void stop();

    /// False when the message was dropped (queue full).
    bool publish(std::string channel, std::string payload);
    /// True while the subscriber connection is up and subscribed.
    bool subscribed() const;
    /// For /health: Unavailable with the reason when Redis or the subscriber is down.
    core::Result<void> health();
    const std::string& node_id() const;
    /// Messages published by this node and still queued (tests, metrics).
    std::size_t queued() const;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace sai::storage::redis
