#include "ml/registry.hpp"

#include "core/time.hpp"
#include "file_util.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

#include <chrono>
#include <fstream>

namespace sai::ml {
namespace {

namespace bj = boost::json;
using core::Errc;

bj::object to_json(const ModelInfo& info) {
    bj::object params, metrics;
    for (const auto& [k, v] : info.params) params[k] = v;
    for (const auto& [k, v] : info.metrics) metrics[k] = v;
    return {{"id", info.id},
            {"kind", to_string(info.kind)},
            {"version", info.version},
            {"created_at", info.created_at},
            {"rows", info.rows},
            {"params", std::move(params)},
            {"schema_name", info.schema_name},
            {"schema_version", info.schema_version},
            {"metrics", std::move(metrics)},
            {"status", to_string(info.status)}};
}

core::Result<ModelInfo> from_json(std::string_view text) {
    boost::system::error_code ec;
    auto value = bj::parse(text, ec);
    if (ec || !value.is_object()) return core::make_error(Errc::InvalidArgument, "metadata is not a JSON object");
    try {
        const auto& o = value.as_object();
        ModelInfo info;
        info.id = bj::value_to<std::string>(o.at("id"));
        const auto kind = bj::value_to<std::string>(o.at("kind"));
        if (kind == "isolation_forest") {
            info.kind = ModelKind::IsolationForest;
        } else if (kind == "random_forest") {
            info.kind = ModelKind::RandomForest;
        } else {
            return core::make_error(Errc::InvalidArgument, "unknown model kind " + kind);
        }
        info.version = bj::value_to<std::uint32_t>(o.at("version"));
        info.created_at = bj::value_to<std::int64_t>(o.at("created_at"));
        info.rows = bj::value_to<std::uint64_t>(o.at("rows"));
        for (const auto& [k, v] : o.at("params").as_object()) info.params[k] = bj::value_to<std::string>(v);
        info.schema_name = bj::value_to<std::string>(o.at("schema_name"));
        info.schema_version = bj::value_to<std::uint32_t>(o.at("schema_version"));
        for (const auto& [k, v] : o.at("metrics").as_object()) info.metrics[k] = v.to_number<double>();
        const auto status = bj::value_to<std::string>(o.at("status"));
        info.status = status == "active" ? ModelStatus::Active
                      : status == "retired" ? ModelStatus::Retired
                                            : ModelStatus::Candidate;
        return info;
    } catch (const std::exception& e) {
        // Boost.JSON's accessors throw on a missing key or a wrong type: bad data, not a bug.
        return core::make_error(Errc::InvalidArgument, std::string("metadata: ") + e.what());
    }
}

}  // namespace

std::string_view to_string(ModelStatus status) {
    switch (status) {
    case ModelStatus::Candidate: return "candidate";
    case ModelStatus::Active: return "active";
    case ModelStatus::Retired: return "retired";
    }
    return "candidate";
}

PromotionDecision promote_if_not_worse(const ModelInfo& candidate, const ModelInfo* active,
                                       const PromotionPolicy& policy) {
    if (policy.force) return {true, "forced"};
    if (active == nullptr) return {true, "no active model"};
    std::vector<std::string> names = policy.metrics;
    if (names.empty()) {
        for (const auto& [name, value] : active->metrics) {
            if (candidate.metrics.count(name)) names.push_back(name);
        }
        if (names.empty()) return {false, "no metric in common with the active model " + active->id};
    }
    for (const auto& name : names) {
        auto c = candidate.metrics.find(name);
        if (c == candidate.metrics.end()) return {false, "candidate has no '" + name + "' metric"};
        auto a = active->metrics.find(name);
        if (a == active->metrics.end()) continue;  // nothing to be worse than
        if (c->second < a->second - policy.tolerance) {
            return {false, name + " " + std::to_string(c->second) + " is worse than the active " + active->id + "'s " +
                               std::to_string(a->second) + " beyond the tolerance " + std::to_string(policy.tolerance)};
        }
    }
    return {true, "not worse than " + active->id + " within tolerance"};
}

ModelRegistry::ModelRegistry(std::filesystem::path dir) : dir_(std::move(dir)) {}

std::atomic<std::shared_ptr<const Model>>& ModelRegistry::slot(ModelKind kind) const {
    return kind == ModelKind::IsolationForest ? active_if_ : active_rf_;
}

core::Result<std::unique_ptr<ModelRegistry>> ModelRegistry::open(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return core::make_error(Errc::Unavailable, "cannot create " + dir.string() + ": " + ec.message());
    std::unique_ptr<ModelRegistry> registry(new ModelRegistry(dir));
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto info = from_json(text);
        if (!info) return core::make_error(Errc::InvalidArgument, entry.path().string() + ": " + info.error().detail);
        registry->infos_[info->id] = *info;
    }
    if (ec) return core::make_error(Errc::Unavailable, "cannot list " + dir.string() + ": " + ec.message());
    for (const auto& [id, info] : registry->infos_) {
        if (info.status != ModelStatus::Active) continue;
        auto model = load_model(dir / (id + ".saim"));
        if (!model) return model.error();
        registry->slot(info.kind).store(std::make_shared<const Model>(std::move(*model)));
    }
    return registry;
}

core::Result<void> ModelRegistry::write_info(const ModelInfo& info) {
    return detail::write_file_atomically(dir_ / (info.id + ".json"), model::to_json_text(to_json(info)));
}

core::Result<ModelInfo> ModelRegistry::add(const Model& model, ModelInfo info) {
    std::lock_guard lock(mutex_);
    std::uint32_t version = 0;
    for (const auto& [id, existing] : infos_) {
        if (existing.kind == model.kind) version = std::max(version, existing.version);
    }
    info.kind = model.kind;
    info.version = version + 1;
    info.id = std::string(to_string(model.kind)) + "-v" + std::to_string(info.version);
    info.schema_name = model.schema_name;
    info.schema_version = model.schema_version;
    info.status = ModelStatus::Candidate;
    if (info.created_at == 0) info.created_at = core::now_unix_ms();
    if (auto saved = save_model(model, dir_ / (info.id + ".saim")); !saved) return saved.error();
    if (auto written = write_info(info); !written) return written.error();
    infos_[info.id] = info;
    return info;
}

core::Result<ModelInfo> ModelRegistry::activate_locked(const std::string& id) {
    auto it = infos_.find(id);
    if (it == infos_.end()) return core::make_error(Errc::NotFound, "no model " + id);
    // Load before changing any state: a corrupt file leaves the active model in place.
    auto model = load_model(dir_ / (id + ".saim"));
    if (!model) return model.error();
    for (auto& [other_id, other] : infos_) {
        if (other.kind == it->second.kind && other.status == ModelStatus::Active && other_id != id) {
            other.status = ModelStatus::Retired;
            if (auto w = write_info(other); !w) return w.error();
        }
    }
    it->second.status = ModelStatus::Active;
    if (auto w = write_info(it->second); !w) return w.error();
    slot(it->second.kind).store(std::make_shared<const Model>(std::move(*model)));
    return it->second;
}

core::Result<ModelInfo> ModelRegistry::activate(const std::string& id) {
    std::lock_guard lock(mutex_);
    return activate_locked(id);
}

core::Result<PromotionDecision> ModelRegistry::promote(const std::string& candidate_id, const PromotionPolicy& policy) {
    std::lock_guard lock(mutex_);
    auto it = infos_.find(candidate_id);
    if (it == infos_.end()) return core::make_error(Errc::NotFound, "no model " + candidate_id);
    const ModelInfo* active = nullptr;
    for (const auto& [id, info] : infos_) {
        if (info.kind == it->second.kind && info.status == ModelStatus::Active) active = &info;
    }
    if (active == &it->second) return PromotionDecision{false, candidate_id + " is already active"};
    auto decision = promote_if_not_worse(it->second, active, policy);
    if (decision.promote) {
        if (auto r = activate_locked(candidate_id); !r) return r.error();
    }
    return decision;
}

core::Result<ModelInfo> ModelRegistry::rollback(ModelKind kind) {
    std::lock_guard lock(mutex_);
    const ModelInfo* active = nullptr;
    for (const auto& [id, info] : infos_) {
        if (info.kind == kind && info.status == ModelStatus::Active) active = &info;
    }
    const ModelInfo* previous = nullptr;
    for (const auto& [id, info] : infos_) {
        if (info.kind != kind || info.status != ModelStatus::Retired) continue;
        if (active && info.version >= active->version) continue;
        if (!previous || info.version > previous->version) previous = &info;
    }
    if (!previous) return core::make_error(Errc::NotFound, "no earlier retired " + std::string(to_string(kind)) + " to roll back to");
    return activate_locked(previous->id);
}

std::vector<ModelInfo> ModelRegistry::list() const {
    std::lock_guard lock(mutex_);
    std::vector<ModelInfo> out;
    for (const auto& [id, info] : infos_) out.push_back(info);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.kind != b.kind ? a.kind < b.kind : a.version < b.version;
    });
    return out;
}

core::Result<ModelInfo> ModelRegistry::get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    auto it = infos_.find(id);
    if (it == infos_.end()) return core::make_error(Errc::NotFound, "no model " + id);
    return it->second;
}

std::shared_ptr<const Model> ModelRegistry::active(ModelKind kind) const { return slot(kind).load(); }

std::optional<ModelInfo> ModelRegistry::active_info(ModelKind kind) const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, info] : infos_) {
        if (info.kind == kind && info.status == ModelStatus::Active) return info;
    }
    return std::nullopt;
}

}  // namespace sai::ml
