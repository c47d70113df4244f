#include "ml/model_file.hpp"

#include "file_util.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <system_error>
#include <type_traits>

namespace sai::ml {
namespace {

using core::Errc;

constexpr char kMagic[8] = {'S', 'A', 'I', 'M', 'O', 'D', 'E', 'L'};
constexpr std::size_t kHeaderSize = 8 + 4 + 8;
constexpr std::uint32_t kMaxStrings = 1u << 20;

core::Error corrupt(const std::string& what) {
    return core::make_error(Errc::InvalidArgument, "model file is corrupt or incompatible: " + what);
}

class Writer {
public:
    template <class T>
    void put(T v) {
        static_assert(std::is_trivially_copyable_v<T>);
        const auto* p = reinterpret_cast<const char*>(&v);
        out.append(p, sizeof v);
    }
    void str(std::string_view s) {
        put(static_cast<std::uint32_t>(s.size()));
        out.append(s);
    }
    void strings(const std::vector<std::string>& v) {
        put(static_cast<std::uint32_t>(v.size()));
        for (const auto& s : v) str(s);
    }
    template <class T>
    void array(const std::vector<T>& v) {
        put(static_cast<std::uint64_t>(v.size()));
        if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    }
    std::string out;
};

/// Bounds-checked reading: every get fails cleanly past the end.
class Reader {
public:
    explicit Reader(std::string_view in) : in_(in) {}
    template <class T>
    bool get(T& v) {
        if (in_.size() - pos_ < sizeof v) return false;
        std::memcpy(&v, in_.data() + pos_, sizeof v);
        pos_ += sizeof v;
        return true;
    }
    bool str(std::string& s) {
        std::uint32_t n = 0;
        if (!get(n) || in_.size() - pos_ < n) return false;
        s.assign(in_.substr(pos_, n));
        pos_ += n;
        return true;
    }
    bool strings(std::vector<std::string>& v) {
        std::uint32_t n = 0;
        if (!get(n) || n > kMaxStrings || n > in_.size() - pos_) return false;
        v.resize(n);
        for (auto& s : v) {
            if (!str(s)) return false;
        }
        return true;
    }
    template <class T>
    bool array(std::vector<T>& v) {
        std::uint64_t n = 0;
        if (!get(n) || n > (in_.size() - pos_) / sizeof(T)) return false;
        v.resize(n);
        if (n > 0) std::memcpy(v.data(), in_.data() + pos_, n * sizeof(T));
        pos_ += n * sizeof(T);
        return true;
    }
    bool done() const { return pos_ == in_.size(); }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

std::uint32_t crc(std::string_view bytes) {
    return static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

/// Every child index points forward inside its own tree, every split feature
/// exists: then inference always terminates inside the arrays.
template <class Node>
bool valid_trees(const std::vector<Node>& nodes, const std::vector<std::int32_t>& roots, std::size_t n_features) {
    if (roots.empty() || nodes.empty()) return false;
    for (std::size_t t = 0; t < roots.size(); ++t) {
        const std::int64_t begin = roots[t];
        const std::int64_t end = t + 1 < roots.size() ? roots[t + 1] : static_cast<std::int64_t>(nodes.size());
        if (begin < 0 || begin >= end || end > static_cast<std::int64_t>(nodes.size())) return false;
        if (t == 0 && begin != 0) return false;
        for (std::int64_t i = begin; i < end; ++i) {
            const auto& n = nodes[static_cast<std::size_t>(i)];
            if (n.feature < 0) continue;
            if (static_cast<std::size_t>(n.feature) >= n_features) return false;
            if (n.left <= i || n.right != n.left + 1 || n.right >= end) return false;
        }
    }
    return true;
}

}  // namespace

/// Reads and writes the forests' private state; friend of both classes.
struct ModelCodec {
    static void write(Writer& w, const IsolationForest& f) {
        const auto& p = f.params_;
        w.put(static_cast<std::int32_t>(p.n_estimators));
        w.put(p.max_samples);
        w.put(p.max_features);
        w.put(p.contamination);
        w.put(static_cast<std::uint8_t>(p.bootstrap));
        w.put(p.random_state);
        w.put(static_cast<std::uint64_t>(f.n_features_));
        w.put(f.sample_size_);
        w.put(f.threshold_);
        w.array(f.nodes_);
        w.array(f.roots_);
    }
    static core::Result<std::shared_ptr<const IsolationForest>> read_if(Reader& r) {
        IsolationForest f;
        auto& p = f.params_;
        std::int32_t n_estimators = 0;
        std::uint8_t bootstrap = 0;
        std::uint64_t n_features = 0;
        if (!r.get(n_estimators) || !r.get(p.max_samples) || !r.get(p.max_features) || !r.get(p.contamination) ||
            !r.get(bootstrap) || !r.get(p.random_state) || !r.get(n_features) || !r.get(f.sample_size_) ||
            !r.get(f.threshold_) || !r.array(f.nodes_) || !r.array(f.roots_)) {
            return corrupt("truncated isolation forest");
        }
        p.n_estimators = n_estimators;
        p.bootstrap = bootstrap != 0;
        f.n_features_ = n_features;
        if (n_features == 0 || !(f.sample_size_ >= 1) || !valid_trees(f.nodes_, f.roots_, f.n_features_)) {
            return corrupt("inconsistent isolation forest");
        }
        f.index();
        return std::make_shared<const IsolationForest>(std::move(f));
    }
    static void write(Writer& w, const RandomForest& f) {
        const auto& p = f.params_;
        w.put(static_cast<std::int32_t>(p.n_estimators));
        w.put(static_cast<std::int32_t>(p.max_depth));
        w.put(static_cast<std::int32_t>(p.min_samples_split));
        w.put(static_cast<std::int32_t>(p.min_samples_leaf));
        w.str(p.max_features);
        w.put(static_cast<std::uint8_t>(p.bootstrap));
        w.put(static_cast<std::uint8_t>(p.class_weight_balanced));
        w.put(p.random_state);
        w.put(static_cast<std::uint64_t>(f.n_features_));
        w.strings(f.classes_);
        w.array(f.nodes_);
        w.array(f.values_);
        w.array(f.roots_);
        w.array(f.importances_);
    }
    static core::Result<std::shared_ptr<const RandomForest>> read_rf(Reader& r) {
        RandomForest f;
        auto& p = f.params_;
        std::int32_t n_estimators = 0, max_depth = 0, split = 0, leaf = 0;
        std::uint8_t bootstrap = 0, balanced = 0;
        std::uint64_t n_features = 0;
        if (!r.get(n_estimators) || !r.get(max_depth) || !r.get(split) || !r.get(leaf) || !r.str(p.max_features) ||
            !r.get(bootstrap) || !r.get(balanced) || !r.get(p.random_state) || !r.get(n_features) ||
            !r.strings(f.classes_) || !r.array(f.nodes_) || !r.array(f.values_) || !r.array(f.roots_) ||
            !r.array(f.importances_)) {
            return corrupt("truncated random forest");
        }
        p.n_estimators = n_estimators;
        p.max_depth = max_depth;
        p.min_samples_split = split;
        p.min_samples_leaf = leaf;
        p.bootstrap = bootstrap != 0;
        p.class_weight_balanced = balanced != 0;
        f.n_features_ = n_features;
        if (n_features == 0 || f.classes_.size() < 2 || f.values_.size() != f.nodes_.size() * f.classes_.size() ||
            f.importances_.size() != n_features || !valid_trees(f.nodes_, f.roots_, f.n_features_)) {
            return corrupt("inconsistent random forest");
        }
        f.index();
        return std::make_shared<const RandomForest>(std::move(f));
    }
};

std::string_view to_string(ModelKind kind) {
    switch (kind) {
    case ModelKind::IsolationForest: return "isolation_forest";
    case ModelKind::RandomForest: return "random_forest";
    }
    return "unknown";
}

core::Result<void> Model::check_schema(std::string_view name, std::uint32_t version, std::size_t n) const {
    if (schema_name != name || schema_version != version || feature_names.size() != n) {
        return core::make_error(Errc::InvalidArgument, "model was trained on feature schema '" + schema_name + "' v" +
                                                           std::to_string(schema_version) + " (" +
                                                           std::to_string(feature_names.size()) +
                                                           " features), not '" + std::string(name) + "' v" +
                                                           std::to_string(version) + " (" + std::to_string(n) + ")");
    }
    return {};
}

std::string serialize_model(const Model& model) {
    Writer w;
    w.put(static_cast<std::uint32_t>(model.kind));
    w.str(model.schema_name);
    w.put(model.schema_version);
    w.strings(model.feature_names);
    w.str(model.label_column);
    w.put(static_cast<std::uint8_t>(model.encoder.has_value()));
    if (model.encoder) {
        const auto& cols = model.encoder->columns();
        w.put(static_cast<std::uint32_t>(cols.size()));
        for (const auto& c : cols) {
            w.str(c.name);
            w.put(static_cast<std::uint8_t>(c.kind));
            w.strings(c.categories);
            w.put(c.fill);
        }
    }
    if (model.kind == ModelKind::IsolationForest) {
        ModelCodec::write(w, *model.isolation_forest);
    } else {
        ModelCodec::write(w, *model.random_forest);
    }
    std::string out(kMagic, sizeof kMagic);
    const std::uint32_t version = kModelFormatVersion;
    const std::uint64_t length = w.out.size();
    out.append(reinterpret_cast<const char*>(&version), sizeof version);
    out.append(reinterpret_cast<const char*>(&length), sizeof length);
    out += w.out;
    const std::uint32_t sum = crc(out);
    out.append(reinterpret_cast<const char*>(&sum), sizeof sum);
    return out;
}

std::string reseal_model_bytes(std::string bytes) {
    if (bytes.size() < kHeaderSize + 4) return bytes;
    const std::uint32_t sum = crc(std::string_view(bytes).substr(0, bytes.size() - 4));
    std::memcpy(bytes.data() + bytes.size() - 4, &sum, sizeof sum);
    return bytes;
}

core::Result<Model> deserialize_model(std::string_view bytes) {
    if (bytes.size() < kHeaderSize + 4 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
        return core::make_error(Errc::InvalidArgument, "not a SecurityAI model file (bad magic or too short)");
    }
    std::uint32_t version = 0;
    std::uint64_t length = 0;
    std::memcpy(&version, bytes.data() + 8, sizeof version);
    std::memcpy(&length, bytes.data() + 12, sizeof length);
    if (version != kModelFormatVersion) {
        return core::make_error(Errc::InvalidArgument, "model file format version " + std::to_string(version) +
                                                           " is not supported (this build reads version " +
                                                           std::to_string(kModelFormatVersion) + ")");
    }
    if (length != bytes.size() - kHeaderSize - 4) {
        return corrupt("length mismatch (truncated or extended file)");
    }
    std::uint32_t stored = 0;
    std::memcpy(&stored, bytes.data() + bytes.size() - 4, sizeof stored);
    if (stored != crc(bytes.substr(0, bytes.size() - 4))) {
        return corrupt("checksum mismatch");
    }
    Reader r(bytes.substr(kHeaderSize, length));
    Model model;
    std::uint32_t kind = 0;
    std::uint8_t has_encoder = 0;
    if (!r.get(kind) || !r.str(model.schema_name) || !r.get(model.schema_version) || !r.strings(model.feature_names) ||
        !r.str(model.label_column) || !r.get(has_encoder)) {
        return corrupt("truncated header");
    }
    if (has_encoder) {
        std::uint32_t n = 0;
        if (!r.get(n) || n > kMaxStrings) return corrupt("bad encoder");
        std::vector<ColumnEncoding> cols;
        for (std::uint32_t i = 0; i < n; ++i) {
            ColumnEncoding c;
            std::uint8_t k = 0;
            if (!r.str(c.name) || !r.get(k) || !r.strings(c.categories) || !r.get(c.fill) || k > 2) {
                return corrupt("bad encoder column");
            }
            c.kind = static_cast<ColumnEncoding::Kind>(k);
            cols.push_back(std::move(c));
        }
        model.encoder.emplace(std::move(cols));
        if (model.encoder->feature_names() != model.feature_names) return corrupt("encoder does not match features");
    }
    std::size_t model_features = 0;
    if (kind == static_cast<std::uint32_t>(ModelKind::IsolationForest)) {
        auto f = ModelCodec::read_if(r);
        if (!f) return f.error();
        model.kind = ModelKind::IsolationForest;
        model.isolation_forest = *f;
        model_features = (*f)->n_features();
    } else if (kind == static_cast<std::uint32_t>(ModelKind::RandomForest)) {
        auto f = ModelCodec::read_rf(r);
        if (!f) return f.error();
        model.kind = ModelKind::RandomForest;
        model.random_forest = *f;
        model_features = (*f)->n_features();
    } else {
        return corrupt("unknown model kind " + std::to_string(kind));
    }
    if (model_features != model.feature_names.size()) return corrupt("feature count mismatch");
    if (!r.done()) return corrupt("trailing bytes");
    return model;
}

core::Result<void> save_model(const Model& model, const std::filesystem::path& file) {
    return detail::write_file_atomically(file, serialize_model(model));
}

namespace detail {

core::Result<void> write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
    auto tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) return core::make_error(Errc::Unavailable, "cannot write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    if (ec) return core::make_error(Errc::Unavailable, "cannot rename " + tmp.string() + ": " + ec.message());
    return {};
}

}  // namespace detail

core::Result<Model> load_model(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return core::make_error(Errc::NotFound, "cannot open model file " + file.string());
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto model = deserialize_model(bytes);
    if (!model) return core::make_error(model.error().code, file.string() + ": " + model.error().detail);
    return model;
}

}  // namespace sai::ml
