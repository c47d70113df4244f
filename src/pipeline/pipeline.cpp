#include "pipeline/pipeline.hpp"

#include "core/ids.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace sai::pipeline {

// ---- LiveHub

struct LiveHub::Impl {
    mutable std::mutex mutex;
    std::uint64_t next = 1;
    std::unordered_map<std::uint64_t, Subscriber> subscribers;
};

LiveHub::LiveHub() : impl_(std::make_unique<Impl>()) {}
LiveHub::~LiveHub() = default;

std::uint64_t LiveHub::subscribe(Subscriber subscriber) {
    std::lock_guard lock(impl_->mutex);
    const auto id = impl_->next++;
    impl_->subscribers.emplace(id, std::move(subscriber));
    return id;
}

void LiveHub::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(impl_->mutex);
    impl_->subscribers.erase(id);
}

void LiveHub::publish(const Batch& batch) {
    std::lock_guard lock(impl_->mutex);
    for (auto& [id, subscriber] : impl_->subscribers) {
        subscriber(batch);
    }
}

std::size_t LiveHub::subscribers() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->subscribers.size();
}

// ---- Pipeline

namespace {

struct Submission {
    std::vector<model::Event> events;
    Ack ack;
    std::string origin;
};

/// The batch the pipeline thread is processing: origin of each event, by index.
thread_local const std::vector<std::string_view>* t_origins = nullptr;

/// Events committed per minute over the last hour, as a ring of 60 buckets.
class MinuteSeries {
public:
    void add(std::int64_t at_ms, std::uint64_t n) {
        const std::int64_t minute = at_ms / 60'000;
        auto& b = buckets_[static_cast<std::size_t>(minute % 60)];
        if (b.minute != minute) {
            b = {minute, 0};
        }
        b.count += n;
    }
    std::vector<std::pair<std::int64_t, std::uint64_t>> last_hour(std::int64_t at_ms) const {
        const std::int64_t current = at_ms / 60'000;
        std::vector<std::pair<std::int64_t, std::uint64_t>> out;
        for (std::int64_t m = current - 59; m <= current; ++m) {
            const auto& b = buckets_[static_cast<std::size_t>(m % 60)];
            out.emplace_back(m * 60'000, b.minute == m ? b.count : 0);
        }
        return out;
    }
    /// Events per second over the last `minutes` whole minutes plus the current one.
    double rate(std::int64_t at_ms, int minutes) const {
        const std::int64_t current = at_ms / 60'000;
        std::uint64_t sum = 0;
        for (std::int64_t m = current - minutes + 1; m <= current; ++m) {
            const auto& b = buckets_[static_cast<std::size_t>(m % 60)];
            sum += b.minute == m ? b.count : 0;
        }
        const double seconds = (minutes - 1) * 60.0 + static_cast<double>(at_ms % 60'000) / 1000.0;
        return seconds > 0 ? static_cast<double>(sum) / seconds : 0.0;
    }

private:
    struct Bucket {
        std::int64_t minute = -1;
        std::uint64_t count = 0;
    };
    std::array<Bucket, 60> buckets_{};
};

}  // namespace

struct Pipeline::Impl {
    storage::EventStore& store;
    PipelineOptions options;
    LiveHub* hub;
    std::vector<std::unique_ptr<Stage>> stages;

    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<Submission> queue;
    std::size_t queued_events = 0;
    bool running = false;
    bool stopping = false;
    std::thread worker;

    std::atomic<std::uint64_t> committed{0}, duplicates{0}, rejected{0}, dropped{0}, batches{0}, stage_errors{0},
        commit_errors{0};
    mutable std::mutex series_mutex;
    MinuteSeries series;

    core::metrics::Histogram& commit_seconds = core::metrics::default_registry().histogram(
        "securityai_pipeline_commit_seconds", "Time to commit one batch of events (group commit).");
    core::metrics::Histogram& batch_events = core::metrics::default_registry().histogram(
        "securityai_pipeline_batch_events", "Events per committed batch.", {},
        {1, 10, 100, 500, 1000, 2000, 5000, 10000, 50000, 100000});
    std::vector<core::metrics::Histogram*> stage_seconds;  // parallel to `stages`

    Impl(storage::EventStore& s, PipelineOptions o, LiveHub* h) : store(s), options(o), hub(h) {}

    static double seconds_since(std::chrono::steady_clock::time_point t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    }

    void run() {
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) {
                return;  // stopping and drained
            }
            // Take what has accumulated, up to max_batch events (at least one submission).
            std::vector<Submission> taken;
            std::size_t n = 0;
            while (!queue.empty() && (taken.empty() || n + queue.front().events.size() <= options.max_batch)) {
                n += queue.front().events.size();
                taken.push_back(std::move(queue.front()));
                queue.pop_front();
            }
            queued_events -= n;
            lock.unlock();
            process(taken, n);
            lock.lock();
        }
    }

    void process(std::vector<Submission>& taken, std::size_t n) {
        std::vector<model::Event> batch;
        batch.reserve(n);
        std::vector<std::size_t> sizes;
        std::vector<std::string_view> origins;
        origins.reserve(n);
        for (auto& s : taken) {
            sizes.push_back(s.events.size());
            origins.insert(origins.end(), s.events.size(), std::string_view(s.origin));
            std::move(s.events.begin(), s.events.end(), std::back_inserter(batch));
        }
        t_origins = &origins;
        struct Reset {
            ~Reset() { t_origins = nullptr; }
        } reset_origins;
        // Every stored event has an id and an ingest time, whatever its source.
        const auto now = core::now_unix_ms();
        for (auto& e : batch) {
            model::ensure_identity(e, now);
        }
        for (std::size_t i = 0; i < stages.size(); ++i) {
            const auto began = std::chrono::steady_clock::now();
            try {
                stages[i]->process(batch);
            } catch (const std::exception& e) {
                ++stage_errors;
                core::log::error("pipeline stage failed", {{"stage", stages[i]->name()},
                                                           {"error", e.what()},
                                                           {"origin", taken.empty() ? std::string() : taken.front().origin}});
            }
            stage_seconds[i]->observe(seconds_since(began));
        }
        const auto commit_began = std::chrono::steady_clock::now();
        auto result = store.insert_batch(batch);
        commit_seconds.observe(seconds_since(commit_began));
        batch_events.observe(static_cast<double>(batch.size()));
        ++batches;
        if (!result) {
            ++commit_errors;
            std::string requests;
            for (const auto& t : taken) {
                if (!t.origin.empty() && requests.size() < 2048) requests += (requests.empty() ? "" : ",") + t.origin;
            }
            core::log::error("event batch not committed",
                             {{"events", batch.size()}, {"error", result.error().detail}, {"origins", requests}});
            for (auto& s : taken) {
                if (s.ack) {
                    s.ack(result.error());
                }
            }
            return;
        }
        committed += result->inserted;
        duplicates += result->duplicates;
        {
            std::lock_guard lock(series_mutex);
            series.add(core::now_unix_ms(), result->inserted);
        }
        for (auto& stage : stages) {
            try {
                stage->committed(batch);
            } catch (const std::exception& e) {
                ++stage_errors;
                core::log::error("pipeline stage failed after the commit", {{"stage", stage->name()}, {"error", e.what()}});
            }
        }
        // Live subscribers first: they only enqueue, and then an acknowledged event
        // is already on its way to every watching client.
        if (hub && result->inserted > 0) {
            hub->publish(std::make_shared<const std::vector<model::Event>>(std::move(batch)));
        }
        // Per-submission results: duplicates are only known for the batch, so
        // each producer is told how many of its events the batch took.
        for (std::size_t i = 0; i < taken.size(); ++i) {
            if (taken[i].ack) {
                storage::InsertResult part;
                part.inserted = sizes[i];
                if (taken.size() == 1) {
                    part = *result;
                }
                taken[i].ack(part);
            }
        }
    }
};

Pipeline::Pipeline(storage::EventStore& store, PipelineOptions options, LiveHub* hub)
    : impl_(std::make_unique<Impl>(store, options, hub)) {}

Pipeline::~Pipeline() { stop(); }

void Pipeline::add_stage(std::unique_ptr<Stage> stage) {
    SAI_CHECK(!impl_->running, "stages are added before start()");
    impl_->stage_seconds.push_back(&core::metrics::default_registry().histogram(
        "securityai_pipeline_stage_seconds", "Time a pipeline stage takes per batch.", {{"stage", std::string(stage->name())}}));
    impl_->stages.push_back(std::move(stage));
}

void Pipeline::start() {
    std::lock_guard lock(impl_->mutex);
    if (impl_->running) {
        return;
    }
    impl_->running = true;
    impl_->worker = std::thread([this] { impl_->run(); });
}

void Pipeline::stop() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->wake.notify_all();
    if (impl_->worker.joinable()) {
        impl_->worker.join();
    }
}

std::string_view batch_origin(std::size_t index) {
    return t_origins && index < t_origins->size() ? (*t_origins)[index] : std::string_view{};
}

core::Result<void> Pipeline::submit(std::vector<model::Event> events, Ack ack, std::string origin) {
    const std::size_t n = events.size();
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->stopping || !impl_->running) {
            return core::make_error(core::Errc::Unavailable, "pipeline is not running");
        }
        // An oversized submission is still taken when the queue is empty, so a
        // client's maximal request never waits forever.
        if (impl_->queued_events + n > impl_->options.queue_capacity && impl_->queued_events > 0) {
            impl_->dropped += n;
            return core::make_error(core::Errc::Unavailable, "ingest queue is full");
        }
        impl_->queued_events += n;
        impl_->queue.push_back({std::move(events), std::move(ack), std::move(origin)});
    }
    impl_->wake.notify_one();
    return {};
}

core::Result<storage::InsertResult> Pipeline::submit_and_wait(std::vector<model::Event> events, std::string origin) {
    auto promise = std::make_shared<std::promise<core::Result<storage::InsertResult>>>();
    auto future = promise->get_future();
    if (auto r = submit(std::move(events), [promise](core::Result<storage::InsertResult> res) {
            promise->set_value(std::move(res));
        }, std::move(origin));
        !r) {
        return r.error();
    }
    return future.get();
}

void Pipeline::count_rejected(std::uint64_t n) { impl_->rejected += n; }

PipelineStats Pipeline::stats() const {
    PipelineStats s;
    {
        std::lock_guard lock(impl_->mutex);
        s.queue_depth = impl_->queued_events;
    }
    s.queue_capacity = impl_->options.queue_capacity;
    s.committed = impl_->committed;
    s.duplicates = impl_->duplicates;
    s.rejected = impl_->rejected;
    s.dropped = impl_->dropped;
    s.batches = impl_->batches;
    s.stage_errors = impl_->stage_errors;
    s.commit_errors = impl_->commit_errors;
    const auto now = core::now_unix_ms();
    std::lock_guard lock(impl_->series_mutex);
    s.rate = {impl_->series.rate(now, 1), impl_->series.rate(now, 5), impl_->series.rate(now, 15)};
    s.per_minute = impl_->series.last_hour(now);
    return s;
}

}  // namespace sai::pipeline
