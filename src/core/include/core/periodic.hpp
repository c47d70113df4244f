#pragma once
// A task run every interval on its own thread: background checks, credential
// reloads, retention, metric pushes.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace sai::core {

/// Runs `task` every `interval` (the first run after one interval) on its own
/// thread until stop() or destruction. stop() waits for a running task to end.
class Periodic {
public:
    Periodic(std::chrono::milliseconds interval, std::function<void()> task)
        : thread_([this, interval, task = std::move(task)] {
              std::unique_lock lock(mutex_);
              while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
                  lock.unlock();
                  task();
                  lock.lock();
              }
          }) {}
    ~Periodic() { stop(); }
    Periodic(const Periodic&) = delete;
    Periodic& operator=(const Periodic&) = delete;

    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;  // last: starts once the members above exist
};

}  // namespace sai::core
