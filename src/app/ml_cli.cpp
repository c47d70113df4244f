// `securityai train` and `securityai evaluate`: the offline, tabular path of
// the ML subsystem (CSV in, model file / predictions CSV out).

#include "app.hpp"
#include "ml/metrics.hpp"
#include "ml/model_file.hpp"
#include "ml/params.hpp"
#include "ml/tabular.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

namespace sai::app {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

/// A progress bar on a terminal (stderr); nothing when piped.
ml::TrainControl progress_control() {
    ml::TrainControl control;
    if (isatty(STDERR_FILENO) == 0) return control;
    auto last = std::make_shared<int>(-1);
    control.progress = [last](double fraction) {
        const int percent = static_cast<int>(fraction * 100);
        if (percent == *last) return;
        *last = percent;
        const int width = 30, filled = percent * width / 100;
        std::fprintf(stderr, "\r  training [%s%s] %3d%%", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                     std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), percent);
        if (percent >= 100) std::fprintf(stderr, "\n");
        std::fflush(stderr);
    };
    return control;
}

std::string csv_quote(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string fixed(double v, int digits = 4) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, v);
    return buffer;
}

/// "1", "1.0" and " 1 " are all the positive (anomaly) label.
bool is_positive_label(const std::string& cell) {
    double v = 0;
    return ml::parse_number(cell, v) && v == 1.0;
}

}  // namespace

int train(const TrainCommand& command) {
    const auto start = Clock::now();
    auto table = ml::read_csv(command.data);
    if (!table) return fail(table.error().detail);
    ml::TabularOptions options{command.label_column, command.ignore_columns};
    auto encoder = ml::TabularEncoder::fit(*table, options);
    if (!encoder) return fail(encoder.error().detail);
    auto matrix = encoder->transform(*table);
    if (!matrix) return fail(matrix.error().detail);
    const double load_seconds = seconds_since(start);

    ml::Model model;
    model.feature_names = encoder->feature_names();
    model.encoder = *encoder;
    model.label_column = command.label_column;
    ml::TrainControl control = progress_control();
    control.threads = command.threads;
    double fit_seconds = 0;
    if (command.model == "isolation_forest") {
        ml::IsolationForestParams params;
        for (const auto& [k, v] : command.params) {
            if (auto r = ml::set_param(params, k, v); !r) return fail(r.error().detail, 2);
        }
        if (command.seed) params.random_state = *command.seed;
        const auto fit_start = Clock::now();
        auto forest = ml::IsolationForest::fit(*matrix, params, control);
        fit_seconds = seconds_since(fit_start);
        if (!forest) return fail(forest.error().detail);
        model.kind = ml::ModelKind::IsolationForest;
        model.isolation_forest = std::make_shared<const ml::IsolationForest>(std::move(*forest));
    } else {
        if (command.label_column.empty()) return fail("random_forest needs --label-column", 2);
        ml::RandomForestParams params;
        for (const auto& [k, v] : command.params) {
            if (auto r = ml::set_param(params, k, v); !r) return fail(r.error().detail, 2);
        }
        if (command.seed) params.random_state = *command.seed;
        auto labels = ml::read_labels(*table, command.label_column);
        if (!labels) return fail(labels.error().detail);
        const auto fit_start = Clock::now();
        auto forest = ml::RandomForest::fit(*matrix, labels->labels, labels->classes, params, control);
        fit_seconds = seconds_since(fit_start);
        if (!forest) return fail(forest.error().detail);
        model.kind = ml::ModelKind::RandomForest;
        model.random_forest = std::make_shared<const ml::RandomForest>(std::move(*forest));
    }
    if (auto saved = ml::save_model(model, command.out); !saved) return fail(saved.error().detail);
    std::cout << "trained " << ml::to_string(model.kind) << " on " << matrix->rows << " rows x " << matrix->cols
              << " features in " << fixed(fit_seconds, 3) << " s (reading and encoding " << fixed(load_seconds, 3)
              << " s) -> " << command.out << "\n";
    if (model.random_forest) {
        const auto& imp = model.random_forest->feature_importances();
        std::vector<std::size_t> order(imp.size());
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return imp[a] > imp[b]; });
        std::cout << "top features:";
        for (std::size_t i = 0; i < std::min<std::size_t>(5, order.size()); ++i) {
            std::cout << " " << model.feature_names[order[i]] << " (" << fixed(imp[order[i]], 3) << ")";
        }
        std::cout << "\n";
    }
    std::cout << R"({"model":")" << ml::to_string(model.kind) << R"(","rows":)" << matrix->rows
              << R"(,"features":)" << matrix->cols << R"(,"fit_seconds":)" << fixed(fit_seconds, 4) << "}\n";
    return 0;
}

int evaluate(const EvaluateCommand& command) {
    auto model = ml::load_model(command.model);
    if (!model) return fail(model.error().detail);
    if (!model->encoder) {
        return fail("model " + command.model + " was trained on feature schema '" + model->schema_name +
                    "', not on a CSV table; it cannot evaluate CSV data");
    }
    auto table = ml::read_csv(command.data);
    if (!table) return fail(table.error().detail);
    // Columns the user names are dropped before encoding (their absence is fine).
    auto matrix = model->encoder->transform(*table);
    if (!matrix) return fail(matrix.error().detail);
    const std::string label_column = command.label_column.empty() ? model->label_column : command.label_column;
    const bool has_labels = !label_column.empty() && table->find(label_column) >= 0;

    std::ofstream out(command.predictions, std::ios::trunc);
    if (!out) return fail("cannot write " + command.predictions);
    const std::size_t n = matrix->rows;
    double score_seconds = 0;
    std::string summary;
    if (model->kind == ml::ModelKind::IsolationForest) {
        std::vector<double> scores(n);
        const auto t = Clock::now();
        model->isolation_forest->score_batch(*matrix, scores, command.threads);
        score_seconds = seconds_since(t);
        out << "score,anomaly\n";
        for (double s : scores) out << fixed(s, 6) << "," << (model->isolation_forest->is_anomaly(s) ? 1 : 0) << "\n";
        if (has_labels) {
            const auto& cells = table->columns[static_cast<std::size_t>(table->find(label_column))];
            std::vector<std::uint8_t> positive(n);
            for (std::size_t i = 0; i < n; ++i) positive[i] = is_positive_label(cells[i]) ? 1 : 0;
            const double auc = ml::roc_auc(scores, positive);
            std::cout << "ROC AUC (label 1 = anomaly): " << (std::isnan(auc) ? "n/a (one class)" : fixed(auc)) << "\n";
            summary = R"(,"auc":)" + (std::isnan(auc) ? std::string("null") : fixed(auc, 6));
        }
    } else {
        const auto& forest = *model->random_forest;
        const std::size_t k = forest.n_classes();
        std::vector<double> proba(n * k);
        const auto t = Clock::now();
        forest.predict_proba_batch(*matrix, proba, command.threads);
        score_seconds = seconds_since(t);
        out << "class";
        for (const auto& c : forest.classes()) out << "," << csv_quote("p_" + c);
        out << "\n";
        std::vector<std::int32_t> predicted(n);
        for (std::size_t i = 0; i < n; ++i) {
            const double* p = proba.data() + i * k;
            std::size_t best = 0;
            for (std::size_t c = 1; c < k; ++c) {
                if (p[c] > p[best]) best = c;
            }
            predicted[i] = static_cast<std::int32_t>(best);
            out << csv_quote(forest.classes()[best]);
            for (std::size_t c = 0; c < k; ++c) out << "," << fixed(p[c], 4);
            out << "\n";
        }
        if (has_labels) {
            // Truth labels the model never saw get their own class index, as
            // sklearn counts them in macro F1.
            std::vector<std::string> classes = forest.classes();
            auto truth = ml::read_labels(*table, label_column, &classes);
            if (!truth) return fail(truth.error().detail);
            const auto& cells = table->columns[static_cast<std::size_t>(table->find(label_column))];
            std::map<std::string, std::int32_t> unseen;
            for (std::size_t i = 0; i < n; ++i) {
                if (truth->labels[i] >= 0) continue;
                auto [it, added] = unseen.emplace(cells[i], static_cast<std::int32_t>(classes.size()));
                if (added) classes.push_back(cells[i]);
                truth->labels[i] = it->second;
            }
            const auto report = ml::classification_report(truth->labels, predicted, classes.size());
            std::cout << "accuracy: " << fixed(report.accuracy) << "  macro F1: " << fixed(report.macro_f1) << "\n";
            std::cout << "recall per class:";
            for (std::size_t c = 0; c < classes.size(); ++c) {
                if (report.support[c] == 0) continue;
                std::cout << " " << classes[c] << "=" << fixed(report.recall[c], 3) << " (" << report.support[c] << ")";
            }
            std::cout << "\n";
            if (!unseen.empty()) std::cout << unseen.size() << " label value(s) in the data were never seen in training\n";
            summary = R"(,"accuracy":)" + fixed(report.accuracy, 6) + R"(,"macro_f1":)" + fixed(report.macro_f1, 6);
        }
    }
    out.flush();
    if (!out) return fail("cannot write " + command.predictions);
    const double rate = score_seconds > 0 ? static_cast<double>(n) / score_seconds : 0;
    std::cout << "scored " << n << " rows in " << fixed(score_seconds, 4) << " s (" << fixed(rate, 0)
              << " rows/s) -> " << command.predictions << "\n";
    std::cout << R"({"rows":)" << n << R"(,"score_seconds":)" << fixed(score_seconds, 6) << R"(,"rows_per_second":)"
              << fixed(rate, 0) << summary << "}\n";
    return 0;
}

}  // namespace sai::app
