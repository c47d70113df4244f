#pragma once
// Private: a fork-join loop over task indices on short-lived threads, with
// serialised progress reporting and cooperative cancellation.

#include "ml/training.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sai::ml::detail {

inline unsigned resolve_threads(unsigned requested, std::size_t tasks) {
    unsigned n = requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
    return static_cast<unsigned>(std::min<std::size_t>(n, std::max<std::size_t>(tasks, 1)));
}

/// Runs fn(i) for i in [0, tasks) on `threads` threads. Returns false when
/// cancelled (some tasks then never ran). Rethrows the first exception.
template <class F>
bool parallel_for(std::size_t tasks, const TrainControl& control, F&& fn) {
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::atomic<bool> stop{false};
    std::mutex progress_mutex;
    std::exception_ptr error;
    auto worker = [&] {
        try {
            for (;;) {
                if (stop.load(std::memory_order_relaxed) || control.cancelled()) {
                    stop = true;
                    return;
                }
                const std::size_t i = next.fetch_add(1);
                if (i >= tasks) {
                    return;
                }
                fn(i);
                const std::size_t finished = done.fetch_add(1) + 1;
                if (control.progress) {
                    std::lock_guard lock(progress_mutex);
                    control.progress(static_cast<double>(finished) / static_cast<double>(tasks));
                }
            }
        } catch (...) {
            std::lock_guard lock(progress_mutex);
            if (!error) error = std::current_exception();
            stop = true;
        }
    };
    const unsigned n = resolve_threads(control.threads, tasks);
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
    return done.load() == tasks;
}

/// Splits [0, n) into contiguous chunks, one per thread, for batch scoring.
template <class F>
void parallel_chunks(std::size_t n, unsigned threads, F&& fn) {
    const unsigned t = resolve_threads(threads, n / 256 + 1);
    if (t <= 1) {
        fn(std::size_t{0}, n);
        return;
    }
    std::vector<std::thread> pool;
    const std::size_t step = (n + t - 1) / t;
    for (unsigned k = 1; k < t; ++k) {
        const std::size_t b = std::min(n, k * step), e = std::min(n, (k + 1) * step);
        pool.emplace_back([&fn, b, e] { fn(b, e); });
    }
    fn(std::size_t{0}, std::min(n, step));
    for (auto& th : pool) th.join();
}

}  // namespace sai::ml::detail
