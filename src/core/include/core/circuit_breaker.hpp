#pragma once
// A circuit breaker per remote target (webhooks, InfluxDB...): after `threshold`
// consecutive failures it opens and refuses calls for `cooldown`; then it lets
// one trial call through (half-open): success closes it, failure opens it again.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace sai::core {

/// Thread-safe. Time is passed in (Unix ms), so tests need no sleeping.
class CircuitBreaker {
public:
    enum class State { Closed, Open, HalfOpen };

    CircuitBreaker(int threshold = 5, std::chrono::milliseconds cooldown = std::chrono::seconds(30))
        : threshold_(threshold), cooldown_(cooldown.count()) {}

    /// True when a call may be made now (half-open admits one trial at a time).
    bool allow(std::int64_t now_ms) {
        std::lock_guard lock(mutex_);
        if (state_ == State::Open && now_ms - opened_at_ >= cooldown_) {
            state_ = State::HalfOpen;
            trial_in_flight_ = false;
        }
        if (state_ == State::Closed) return true;
        if (state_ == State::HalfOpen && !trial_in_flight_) {
            trial_in_flight_ = true;
            return true;
        }
        return false;
    }
    void on_success() {
        std::lock_guard lock(mutex_);
        state_ = State::Closed;
        failures_ = 0;
        trial_in_flight_ = false;
    }
    void on_failure(std::int64_t now_ms) {
        std::lock_guard lock(mutex_);
        ++failures_;
        if (state_ == State::HalfOpen || failures_ >= threshold_) {
            state_ = State::Open;
            opened_at_ = now_ms;
            trial_in_flight_ = false;
        }
    }
    State state(std::int64_t now_ms) const {
        std::lock_guard lock(mutex_);
        if (state_ == State::Open && now_ms - opened_at_ >= cooldown_) return State::HalfOpen;
        return state_;
    }

private:
    mutable std::mutex mutex_;
    int threshold_;
    std::int64_t cooldown_;
    State state_ = State::Closed;
    int failures_ = 0;
    std::int64_t opened_at_ = 0;
    bool trial_in_flight_ = false;
};

inline std::string_view to_string(CircuitBreaker::State s) noexcept {
    switch (s) {
    case CircuitBreaker::State::Closed: return "closed";
    case CircuitBreaker::State::Open: return "open";
    case CircuitBreaker::State::HalfOpen: return "half_open";
    }
    return "closed";
}

}  // namespace sai::core
