#include "core/health.hpp"

#include "core/log.hpp"
#include "core/periodic.hpp"

#include <atomic>
#include <optional>

namespace sai::core {

struct HealthMonitor::Impl {
    struct Entry {
        std::string name;
        Check check;
        bool required;
    };
    std::vector<Entry> checks;
    std::atomic<std::shared_ptr<const HealthSnapshot>> current{std::make_shared<const HealthSnapshot>()};
    std::optional<Periodic> periodic;
};

HealthMonitor::HealthMonitor() : impl_(std::make_unique<Impl>()) {}

HealthMonitor::~HealthMonitor() { stop(); }

void HealthMonitor::add_check(std::string name, Check check) {
    impl_->checks.push_back({std::move(name), std::move(check), true});
}

void HealthMonitor::add_optional_check(std::string name, Check check) {
    impl_->checks.push_back({std::move(name), std::move(check), false});
}

void HealthMonitor::check_now() {
    auto snap = std::make_shared<HealthSnapshot>();
    for (const auto& [name, check, required] : impl_->checks) {
        ComponentHealth component{name, true, required, {}};
        try {
            if (auto r = check(); !r) {
                component.healthy = false;
                component.detail = r.error().detail;
            }
        } catch (const std::exception& e) {
            component.healthy = false;
            component.detail = e.what();
        }
        if (required) {
            snap->healthy = snap->healthy && component.healthy;
        } else {
            snap->degraded = snap->degraded || !component.healthy;
        }
        snap->components.push_back(std::move(component));
    }
    auto previous = impl_->current.exchange(std::move(snap));
    const auto& now = *impl_->current.load();
    for (std::size_t i = 0; i < now.components.size(); ++i) {
        const auto& c = now.components[i];
        const bool was_healthy = i < previous->components.size() ? previous->components[i].healthy : true;
        if (was_healthy != c.healthy) {
            if (c.healthy) {
                log::info("component recovered", {{"component", c.name}});
            } else {
                log::error("component unhealthy", {{"component", c.name}, {"detail", c.detail}});
            }
        }
    }
}

void HealthMonitor::start(std::chrono::milliseconds interval) {
    check_now();
    impl_->periodic.emplace(interval, [this] { check_now(); });
}

void HealthMonitor::stop() { impl_->periodic.reset(); }

std::shared_ptr<const HealthSnapshot> HealthMonitor::snapshot() const { return impl_->current.load(); }

}  // namespace sai::core
