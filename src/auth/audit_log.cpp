#include "auth/audit_log.hpp"

#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace sai::auth {

std::string audit_hash(const storage::AuditRecord& r) {
    // Length-prefixed fields: unambiguous whatever the content.
    std::string canonical = r.prev_hash;
    auto add = [&](std::string_view field) {
        canonical += '|';
        canonical += std::to_string(field.size());
        canonical += ':';
        canonical += field;
    };
    add(std::to_string(r.seq));
    for (const std::string* f : {&r.ts, &r.actor, &r.role, &r.client_ip, &r.request_id, &r.action, &r.target,
                                 &r.outcome, &r.detail}) {
        add(*f);
    }
    return core::sha256_hex(canonical);
}

core::Result<AuditVerification> verify_audit_chain(storage::AuditStore& store) {
    AuditVerification v;
    std::string prev = kAuditGenesis;
    std::int64_t expected_seq = 1;
    auto scanned = store.scan([&](const storage::AuditRecord& r) {
        if (r.seq != expected_seq) {
            v = {false, v.entries, expected_seq,
                 "entry " + std::to_string(expected_seq) + " is missing (next is " + std::to_string(r.seq) + ")"};
            return false;
        }
        if (r.prev_hash != prev) {
            v = {false, v.entries, r.seq, "entry " + std::to_string(r.seq) + " does not link to its predecessor"};
            return false;
        }
        if (audit_hash(r) != r.hash) {
            v = {false, v.entries, r.seq, "entry " + std::to_string(r.seq) + " was modified (hash mismatch)"};
            return false;
        }
        prev = r.hash;
        ++expected_seq;
        ++v.entries;
        return true;
    });
    if (!scanned) {
        return scanned.error();
    }
    return v;
}

struct AuditLog::Impl {
    storage::AuditStore& store;
    std::size_t capacity;
    std::mutex mutex;
    std::condition_variable not_empty;
    std::condition_variable not_full;
    std::condition_variable drained;
    std::deque<AuditEvent> queue;
    std::uint64_t enqueued = 0;
    std::uint64_t done = 0;
    bool stopping = false;
    std::thread writer;

    explicit Impl(storage::AuditStore& s, std::size_t cap) : store(s), capacity(cap) {}

    void run() {
        std::unique_lock lock(mutex);
        for (;;) {
            not_empty.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty()) {
                return;
            }
            AuditEvent e = std::move(queue.front());
            queue.pop_front();
            not_full.notify_one();
            lock.unlock();
            write(std::move(e));
            lock.lock();
            ++done;
            drained.notify_all();
        }
    }

    void write(AuditEvent e) {
        storage::AuditRecord r;
        r.ts = core::format_rfc3339(core::Clock::now());
        r.actor = std::move(e.actor);
        r.role = std::move(e.role);
        r.client_ip = std::move(e.client_ip);
        r.request_id = std::move(e.request_id);
        r.action = std::move(e.action);
        r.target = std::move(e.target);
        r.outcome = std::move(e.outcome);
        r.detail = std::move(e.detail);
        // A store outage must not lose the entry: retry with backoff, keeping order.
        for (int attempt = 0;; ++attempt) {
            auto written = store.append(r, kAuditGenesis, audit_hash);
            if (written) {
                return;
            }
            if (attempt >= 50) {
                core::log::error("audit entry could not be stored",
                                 {{"action", r.action}, {"actor", r.actor}, {"error", written.error().detail}});
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1000, 20 * (attempt + 1))));
        }
    }
};

core::Result<std::unique_ptr<AuditLog>> AuditLog::open(storage::AuditStore& store, std::size_t queue_capacity) {
    if (auto last = store.last(); !last) {
        return last.error();  // the store is unreadable: better to fail at start than to lose entries later
    }
    auto log = std::unique_ptr<AuditLog>(new AuditLog(std::make_unique<Impl>(store, queue_capacity)));
    log->impl_->writer = std::thread([p = log->impl_.get()] { p->run(); });
    return log;
}

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AuditLog::~AuditLog() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stopping = true;
    }
    impl_->not_empty.notify_all();
    if (impl_->writer.joinable()) {
        impl_->writer.join();
    }
}

void AuditLog::record(AuditEvent event) {
    std::unique_lock lock(impl_->mutex);
    impl_->not_full.wait(lock, [&] { return impl_->queue.size() < impl_->capacity; });
    impl_->queue.push_back(std::move(event));
    ++impl_->enqueued;
    impl_->not_empty.notify_one();
}

void AuditLog::flush() {
    std::unique_lock lock(impl_->mutex);
    const auto target = impl_->enqueued;
    impl_->drained.wait(lock, [&] { return impl_->done >= target; });
}

std::int64_t AuditLog::written() const {
    std::lock_guard lock(impl_->mutex);
    return static_cast<std::int64_t>(impl_->done);
}

}  // namespace sai::auth
