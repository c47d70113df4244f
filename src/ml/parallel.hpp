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

/// Rows a batch-scoring thread takes at a time: a multiple of the forests'
/// row blocks (64, 128), and small enough (a few ms of work) to balance.
inline constexpr std::size_t kChunkRows = 1024;

/// Runs fn(begin, end) over [0, n) in chunks of kChunkRows that `threads`
/// threads take in turn from a shared counter, for batch scoring. Taken in
/// turn rather than split in equal halves up front, as the cores are not
/// equally fast when other processes share the machine, nor the rows equally
/// costly (deep and shallow leaves): a thread that is ahead takes more chunks.
template <class F>
void parallel_chunks(std::size_t n, unsigned threads, F&& fn) {
    const unsigned t = resolve_threads(threads, n / 256 + 1);
    if (t <= 1) {
        fn(std::size_t{0}, n);
        return;
    }
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (std::size_t b = next.fetch_add(kChunkRows); b < n; b = next.fetch_add(kChunkRows)) {
            fn(b, std::min(n, b + kChunkRows));
        }
    };
    std::vector<std::thread> pool;
    for (unsigned k = 1; k < t; ++k) pool.emplace_back(worker);
    worker();
    for (auto& th : pool) th.join();
}

}  // namespace sai::ml::detail
