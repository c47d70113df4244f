#include "storage/redis/redis_revocations.hpp"

#include "core/log.hpp"
#include "core/time.hpp"

#include <charconv>

namespace sai::storage::redis {
namespace {

bool parse_int(std::string_view text, std::int64_t& out) {
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && p == text.data() + text.size();
}

bool valid_jti(std::string_view jti) { return !jti.empty() && jti.size() <= 128 && jti.find(' ') == std::string_view::npos; }

}  // namespace

RedisRevocations::RedisRevocations(RedisClient& client, RedisBus& bus, Apply apply)
    : client_(client), bus_(bus), apply_(std::move(apply)) {
    // Message: "<jti> <expires_at>".
    bus_.subscribe("revoked", [this](std::string_view payload) {
        const auto space = payload.find(' ');
        std::int64_t exp = 0;
        if (space == std::string_view::npos || !valid_jti(payload.substr(0, space)) ||
            !parse_int(payload.substr(space + 1), exp) || exp <= core::now_unix_ms() / 1000) {
            return;  // malformed, or a token that has expired anyway
        }
        apply_(std::string(payload.substr(0, space)), exp);
    });
    bus_.on_connected([this] {
        const auto now = core::now_unix_ms() / 1000;
        if (auto n = load(now); !n) {
            core::log::warn("reading shared revocations failed", {{"error", n.error().detail}});
        }
    });
}

core::Result<void> RedisRevocations::revoke(std::string_view jti, std::int64_t expires_at) {
    if (!valid_jti(jti)) {
        return core::make_error(core::Errc::InvalidArgument, "bad token id");
    }
    const std::string key = client_.options().key_prefix + "revoked";
    auto r = client_.command({"ZADD", key, std::to_string(expires_at), std::string(jti)});
    if (r) {
        // Keeps the set to live tokens without a background job.
        (void)client_.command({"ZREMRANGEBYSCORE", key, "-inf", std::to_string(core::now_unix_ms() / 1000)});
    }
    bus_.publish("revoked", std::string(jti) + " " + std::to_string(expires_at));
    if (!r) {
        return r.error();
    }
    return {};
}

core::Result<std::size_t> RedisRevocations::load(std::int64_t now) {
    const std::string key = client_.options().key_prefix + "revoked";
    if (auto r = client_.command({"ZREMRANGEBYSCORE", key, "-inf", std::to_string(now)}); !r) {
        return r.error();
    }
    auto r = client_.command({"ZRANGEBYSCORE", key, "(" + std::to_string(now), "+inf", "WITHSCORES"});
    if (!r) {
        return r.error();
    }
    std::size_t n = 0;
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) {
        std::int64_t exp = 0;
        if (valid_jti(r->elements[i].text) && parse_int(r->elements[i + 1].text, exp)) {
            apply_(r->elements[i].text, exp);
            ++n;
        }
    }
    return n;
}

}  // namespace sai::storage::redis
