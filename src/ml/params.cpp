#include "ml/params.hpp"

#include <charconv>
#include <cmath>

namespace sai::ml {
namespace {

core::Error bad(std::string_view key, std::string_view value, std::string_view expected) {
    return core::make_error(core::Errc::InvalidArgument, "parameter " + std::string(key) + "=" + std::string(value) +
                                                             ": expected " + std::string(expected));
}

template <class T>
bool parse(std::string_view text, T& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if constexpr (std::is_floating_point_v<T>) {
        if (!std::isfinite(out)) return false;
    }
    return ec == std::errc{} && end == text.data() + text.size();
}

bool parse_bool(std::string_view text, bool& out) {
    if (text == "true" || text == "1" || text == "True") {
        out = true;
        return true;
    }
    if (text == "false" || text == "0" || text == "False") {
        out = false;
        return true;
    }
    return false;
}

std::string number(double v) {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, end);
}

}  // namespace

core::Result<void> set_param(IsolationForestParams& p, std::string_view key, std::string_view value) {
    if (key == "n_estimators") {
        if (!parse(value, p.n_estimators) || p.n_estimators < 1) return bad(key, value, "an integer >= 1");
    } else if (key == "max_samples") {
        if (value == "auto") {
            p.max_samples = 256;
        } else if (!parse(value, p.max_samples) || !(p.max_samples > 0)) {
            return bad(key, value, "auto, a count or a fraction in (0, 1]");
        }
    } else if (key == "max_features") {
        if (!parse(value, p.max_features) || !(p.max_features > 0)) return bad(key, value, "a fraction in (0, 1] or a count");
    } else if (key == "contamination") {
        if (value == "auto") {
            p.contamination = 0;
        } else if (!parse(value, p.contamination) || !(p.contamination > 0 && p.contamination <= 0.5)) {
            return bad(key, value, "auto or a number in (0, 0.5]");
        }
    } else if (key == "bootstrap") {
        if (!parse_bool(value, p.bootstrap)) return bad(key, value, "true or false");
    } else if (key == "random_state" || key == "seed") {
        if (!parse(value, p.random_state)) return bad(key, value, "a non-negative integer");
    } else {
        return bad(key, value,
                   "a parameter of isolation_forest: n_estimators, max_samples, max_features, contamination, "
                   "bootstrap, random_state");
    }
    return {};
}

core::Result<void> set_param(RandomForestParams& p, std::string_view key, std::string_view value) {
    if (key == "n_estimators") {
        if (!parse(value, p.n_estimators) || p.n_estimators < 1) return bad(key, value, "an integer >= 1");
    } else if (key == "max_depth") {
        if (value == "None" || value == "none") {
            p.max_depth = 0;
        } else if (!parse(value, p.max_depth) || p.max_depth < 1) {
            return bad(key, value, "None or an integer >= 1");
        }
    } else if (key == "min_samples_split") {
        if (!parse(value, p.min_samples_split) || p.min_samples_split < 2) return bad(key, value, "an integer >= 2");
    } else if (key == "min_samples_leaf") {
        if (!parse(value, p.min_samples_leaf) || p.min_samples_leaf < 1) return bad(key, value, "an integer >= 1");
    } else if (key == "max_features") {
        if (auto r = resolve_max_features(std::string(value), 100); !r) return r.error();
        p.max_features = std::string(value);
    } else if (key == "bootstrap") {
        if (!parse_bool(value, p.bootstrap)) return bad(key, value, "true or false");
    } else if (key == "class_weight") {
        if (value == "balanced") {
            p.class_weight_balanced = true;
        } else if (value == "None" || value == "none") {
            p.class_weight_balanced = false;
        } else {
            return bad(key, value, "balanced or None");
        }
    } else if (key == "random_state" || key == "seed") {
        if (!parse(value, p.random_state)) return bad(key, value, "a non-negative integer");
    } else {
        return bad(key, value,
                   "a parameter of random_forest: n_estimators, max_depth, min_samples_split, min_samples_leaf, "
                   "max_features, bootstrap, class_weight, random_state");
    }
    return {};
}

std::map<std::string, std::string> describe(const IsolationForestParams& p) {
    return {{"n_estimators", std::to_string(p.n_estimators)},
            {"max_samples", number(p.max_samples)},
            {"max_features", number(p.max_features)},
            {"contamination", p.contamination > 0 ? number(p.contamination) : "auto"},
            {"bootstrap", p.bootstrap ? "true" : "false"},
            {"random_state", std::to_string(p.random_state)}};
}

std::map<std::string, std::string> describe(const RandomForestParams& p) {
    return {{"n_estimators", std::to_string(p.n_estimators)},
            {"max_depth", p.max_depth > 0 ? std::to_string(p.max_depth) : "None"},
            {"min_samples_split", std::to_string(p.min_samples_split)},
            {"min_samples_leaf", std::to_string(p.min_samples_leaf)},
            {"max_features", p.max_features},
            {"bootstrap", p.bootstrap ? "true" : "false"},
            {"class_weight", p.class_weight_balanced ? "balanced" : "None"},
            {"random_state", std::to_string(p.random_state)}};
}

}  // namespace sai::ml
