#include "ml/training_service.hpp"

#include "event_fixtures.hpp"
#include "core/ids.hpp"
#include "ml/scorer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace sai::ml {
namespace {

using namespace std::chrono_literals;
using fixtures::anomalous_event;
using fixtures::normal_event;

std::vector<model::Event> baseline(std::size_t n) {
    std::vector<model::Event> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(normal_event(i));
    return out;
}

class TrainingServiceTest : public testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::path(testing::TempDir()) / "TrainingServiceTest" /
               testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::remove_all(dir_);
        registry_ = ModelRegistry::open(dir_).value();
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    static TrainingJob wait_done(TrainingService& service, const std::string& id) {
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        for (;;) {
            auto job = service.get(id).value();
            if (job.state != JobState::Queued && job.state != JobState::Running) return job;
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "job " << id << " still " << to_string(job.state);
                return job;
            }
            std::this_thread::sleep_for(5ms);
        }
    }

    static TrainingRequest anomaly_request(bool force = false) {
        TrainingRequest r;
        r.models = {ModelKind::IsolationForest};
        r.params["anomaly_detector"] = {{"n_estimators", "50"}, {"random_state", "7"}};
        r.force = force;
        return r;
    }

    std::filesystem::path dir_;
    std::unique_ptr<ModelRegistry> registry_;
};

TEST_F(TrainingServiceTest, TrainsPromotesAndTheScorerFlagsAnomalies) {
    TrainingService service(*registry_, fixtures::page_source(baseline(3000)), nullptr, {.page_size = 500});
    service.start();
    auto job = service.submit(anomaly_request()).value();
    EXPECT_EQ(job.state, JobState::Queued);
    auto done = wait_done(service, job.id);
    ASSERT_EQ(done.state, JobState::Succeeded) << done.error;
    EXPECT_EQ(done.progress, 100);
    ASSERT_EQ(done.results.size(), 1u);
    EXPECT_TRUE(done.results[0].promoted) << done.results[0].reason;
    EXPECT_EQ(done.results[0].rows, 2400u);  // the newest fifth is the holdout
    auto active = registry_->active_info(ModelKind::IsolationForest);
    ASSERT_TRUE(active);
    EXPECT_EQ(active->id, done.results[0].model_id);
    EXPECT_EQ(active->schema_name, "event");
    EXPECT_EQ(active->params.at("n_estimators"), "50");
    auto drift = load_drift_baseline(drift_baseline_path(*registry_, active->id));
    ASSERT_TRUE(drift) << drift.error().detail;
    EXPECT_EQ(drift->features, FeatureExtractor::feature_names());
    EXPECT_EQ(drift->rows, 2400u);
    ASSERT_TRUE(drift->scores);
    // The baseline lives beside the model without confusing the registry on reopening.
    auto reopened = ModelRegistry::open(dir_);
    ASSERT_TRUE(reopened) << reopened.error().detail;
    EXPECT_EQ((*reopened)->active_info(ModelKind::IsolationForest)->id, active->id);

    core::metrics::Registry metrics;
    EventScorer scorer(*registry_, {}, metrics);
    std::vector<model::Detection> detections;
    std::size_t normal_flagged = 0;
    double normal_max = 0;
    for (std::size_t i = 3000; i < 3200; ++i) {
        auto e = normal_event(i);
        const auto before = detections.size();
        scorer.score(e, detections);
        ASSERT_TRUE(e.anomaly_score);
        normal_max = std::max(normal_max, *e.anomaly_score);
        normal_flagged += detections.size() - before;
        if (detections.size() == before) {
            EXPECT_TRUE(e.ml_explanation.empty()) << e.ml_explanation;
        }
        EXPECT_TRUE(e.threat_class.empty());  // no classifier yet
    }
    EXPECT_LE(normal_flagged, 10u);  // about the 1% contamination, at most
    detections.clear();
    auto bad = anomalous_event(1, fixtures::kStart + 3100 * fixtures::kSpacingMs + 500);
    scorer.score(bad, detections);
    ASSERT_TRUE(bad.anomaly_score);
    EXPECT_GT(*bad.anomaly_score, normal_max);
    EXPECT_FALSE(bad.ml_explanation.empty());
    ASSERT_EQ(detections.size(), 1u);
    const auto& d = detections[0];
    EXPECT_EQ(d.rule_id, "ml.anomaly");
    EXPECT_EQ(d.source, "ml");
    EXPECT_EQ(d.event_ids, std::vector<std::string>{bad.id});
    EXPECT_EQ(d.entities.ips, std::vector<std::string>{"203.0.113.66"});
    EXPECT_EQ(d.entities.users, std::vector<std::string>{"intruder"});
    EXPECT_EQ(d.entities.hosts, std::vector<std::string>{"db-secret"});
    EXPECT_NE(d.explanation.find("\"features\""), std::string::npos);
    EXPECT_NE(d.explanation.find("\"anomaly_score\""), std::string::npos);

    const auto stats = scorer.stats();
    EXPECT_EQ(stats.scored, 201u);
    EXPECT_EQ(stats.anomalies, normal_flagged + 1);
    EXPECT_GT(stats.latency_p50_s, 0);
    std::uint64_t binned = 0;
    for (auto n : stats.score_histogram) binned += n;
    EXPECT_EQ(binned, 201u);
    EXPECT_EQ(scorer.recent().features.rows, 201u);
    EXPECT_NE(metrics.expose().find("securityai_ml_anomalies_total " + std::to_string(stats.anomalies)),
              std::string::npos);
}

TEST_F(TrainingServiceTest, TheScorerSkipsAModelOfAnotherFeatureSchema) {
    Model tabular;
    tabular.kind = ModelKind::IsolationForest;
    tabular.schema_name = "tabular";
    tabular.feature_names = {"x", "y"};
    Matrix data(50, 2);
    for (std::size_t i = 0; i < data.rows; ++i) data.row(i)[0] = static_cast<float>(i);
    tabular.isolation_forest = std::make_shared<const IsolationForest>(
        IsolationForest::fit(data, {.n_estimators = 5}).value());
    auto added = registry_->add(tabular, {}).value();
    ASSERT_TRUE(registry_->activate(added.id));
    core::metrics::Registry metrics;
    EventScorer scorer(*registry_, {}, metrics);
    std::vector<model::Detection> detections;
    auto e = anomalous_event(1, fixtures::kStart);
    scorer.score(e, detections);
    EXPECT_FALSE(e.anomaly_score);
    EXPECT_TRUE(detections.empty());
    const auto stats = scorer.stats();
    EXPECT_EQ(stats.schema_mismatch, 1u);
    EXPECT_EQ(stats.scored, 0u);
    EXPECT_EQ(scorer.events_seen(), 1u);
}

TEST_F(TrainingServiceTest, AnExplicitThresholdOverridesTheModels) {
    TrainingService service(*registry_, fixtures::page_source(baseline(600)), nullptr, {});
    service.start();
    auto done = wait_done(service, service.submit(anomaly_request()).value().id);
    ASSERT_EQ(done.state, JobState::Succeeded) << done.error;
    core::metrics::Registry metrics;
    EventScorer never(*registry_, {.alert_threshold = 1.0}, metrics);
    std::vector<model::Detection> detections;
    auto bad = anomalous_event(1, fixtures::kStart + 600 * fixtures::kSpacingMs + 500);
    never.score(bad, detections);
    EXPECT_TRUE(detections.empty());
    EXPECT_TRUE(bad.ml_explanation.empty());
}

TEST_F(TrainingServiceTest, RetrainingIsPromotedOnlyWhenNotWorseOrForced) {
    auto events = baseline(1000);
    std::map<std::string, std::string> labels;
    // Labels in the holdout (the newest fifth) give the detector an AUC to compare.
    for (std::size_t i = 0; i < 20; ++i) {
        auto a = anomalous_event(i, fixtures::kStart + static_cast<std::int64_t>(900 + i * 5) * fixtures::kSpacingMs + 500);
        labels[a.id] = "malicious";
        events.push_back(a);
    }
    for (std::size_t i = 900; i < 1000; i += 5) labels[normal_event(i).id] = "benign";
    TrainingService service(*registry_, fixtures::page_source(events), [&labels](std::int64_t) {
        return core::Result<std::map<std::string, std::string>>(labels);
    }, {});
    service.start();
    auto first = wait_done(service, service.submit(anomaly_request()).value().id);
    ASSERT_EQ(first.state, JobState::Succeeded) << first.error;
    ASSERT_TRUE(first.results[0].metrics.count("auc"));
    EXPECT_GT(first.results[0].metrics.at("auc"), 0.9);
    EXPECT_TRUE(first.results[0].promoted);

    // A crippled model (one tree on one sample) is worse: kept as a candidate.
    auto crippled = anomaly_request();
    crippled.params["anomaly_detector"] = {{"n_estimators", "1"}, {"max_samples", "2"}, {"random_state", "3"}};
    auto second = wait_done(service, service.submit(crippled).value().id);
    ASSERT_EQ(second.state, JobState::Succeeded) << second.error;
    ASSERT_LT(second.results[0].metrics.at("auc"), first.results[0].metrics.at("auc") - 0.01);
    EXPECT_FALSE(second.results[0].promoted);
    EXPECT_NE(second.results[0].reason.find("worse than the active"), std::string::npos) << second.results[0].reason;
    EXPECT_EQ(registry_->active_info(ModelKind::IsolationForest)->id, first.results[0].model_id);
    EXPECT_EQ(registry_->get(second.results[0].model_id)->status, ModelStatus::Candidate);
    crippled.force = true;
    auto third = wait_done(service, service.submit(crippled).value().id);
    ASSERT_EQ(third.state, JobState::Succeeded) << third.error;
    EXPECT_TRUE(third.results[0].promoted);
    EXPECT_EQ(third.results[0].reason, "forced");
    EXPECT_EQ(registry_->active_info(ModelKind::IsolationForest)->id, third.results[0].model_id);
}

TEST_F(TrainingServiceTest, ClassifierNeedsEnoughLabelsOfTwoClasses) {
    auto events = baseline(500);
    std::map<std::string, std::string> labels;
    for (std::size_t i = 0; i < 10; ++i) labels[normal_event(i * 7).id] = "benign";
    TrainingService service(*registry_, fixtures::page_source(events), [&labels](std::int64_t) {
        return core::Result<std::map<std::string, std::string>>(labels);
    }, {.min_labelled = 20});
    service.start();
    TrainingRequest r;
    r.models = {ModelKind::RandomForest};
    auto few = wait_done(service, service.submit(r).value().id);
    EXPECT_EQ(few.state, JobState::Failed);
    EXPECT_NE(few.error.find("needs at least 20"), std::string::npos) << few.error;
    EXPECT_NE(few.error.find("found 10"), std::string::npos) << few.error;

    for (std::size_t i = 10; i < 40; ++i) labels[normal_event(i * 7).id] = "benign";
    auto one_class = wait_done(service, service.submit(r).value().id);
    EXPECT_EQ(one_class.state, JobState::Failed);
    EXPECT_NE(one_class.error.find("all 'benign'"), std::string::npos) << one_class.error;
    EXPECT_FALSE(registry_->active_info(ModelKind::RandomForest));
}

TEST_F(TrainingServiceTest, ClassifierLearnsFromVerdictsAndFlagsMalicious) {
    auto events = baseline(600);
    std::map<std::string, std::string> labels;
    for (std::size_t i = 0; i < 60; ++i) labels[normal_event(i * 9).id] = "benign";
    for (std::size_t i = 0; i < 40; ++i) {
        auto a = anomalous_event(i, fixtures::kStart + static_cast<std::int64_t>(i) * 15 * fixtures::kSpacingMs + 300);
        labels[a.id] = "malicious";
        events.push_back(a);
    }
    TrainingService service(*registry_, fixtures::page_source(events), [&labels](std::int64_t) {
        return core::Result<std::map<std::string, std::string>>(labels);
    }, {.min_labelled = 20});
    service.start();
    TrainingRequest r;
    r.models = {ModelKind::RandomForest};
    r.params["threat_classifier"] = {{"n_estimators", "30"}, {"random_state", "1"}};
    auto done = wait_done(service, service.submit(r).value().id);
    ASSERT_EQ(done.state, JobState::Succeeded) << done.error;
    EXPECT_EQ(done.results[0].rows, 80u);  // every fifth labelled row held out
    EXPECT_GE(done.results[0].metrics.at("accuracy"), 0.9);

    core::metrics::Registry metrics;
    EventScorer scorer(*registry_, {}, metrics);
    std::vector<model::Detection> detections;
    auto ok = normal_event(700);
    scorer.score(ok, detections);
    EXPECT_EQ(ok.threat_class, "benign");
    EXPECT_FALSE(ok.anomaly_score);  // no detector active
    EXPECT_TRUE(detections.empty());
    auto bad = anomalous_event(99, fixtures::kStart + 700 * fixtures::kSpacingMs + 300);
    scorer.score(bad, detections);
    EXPECT_EQ(bad.threat_class, "malicious");
    ASSERT_TRUE(bad.ml_confidence);
    EXPECT_GT(*bad.ml_confidence, 0.5);
    EXPECT_FALSE(bad.ml_explanation.empty());
    ASSERT_EQ(detections.size(), 1u);
    EXPECT_EQ(detections[0].rule_id, "ml.malicious");
    EXPECT_EQ(scorer.stats().predictions.at("malicious"), 1u);
    EXPECT_NE(metrics.expose().find("securityai_ml_predictions_total{class=\"malicious\"} 1"), std::string::npos);
}

TEST_F(TrainingServiceTest, CancelsQueuedAndRunningJobs) {
    std::promise<void> reading;
    std::promise<void> release;
    auto released = release.get_future().share();
    bool first_call = true;
    auto source = fixtures::page_source(baseline(500));
    TrainingService service(*registry_, [&](std::int64_t f, std::int64_t t, const auto& b, std::size_t l) {
        if (first_call) {
            first_call = false;
            reading.set_value();
            released.wait();
        }
        return source(f, t, b, l);
    }, nullptr, {});
    service.start();
    auto running = service.submit(anomaly_request()).value();
    reading.get_future().wait();
    auto queued = service.submit(anomaly_request()).value();
    auto cancelled = service.cancel(queued.id);
    ASSERT_TRUE(cancelled);
    EXPECT_EQ(cancelled->state, JobState::Cancelled);
    ASSERT_TRUE(service.cancel(running.id));
    release.set_value();
    auto done = wait_done(service, running.id);
    EXPECT_EQ(done.state, JobState::Cancelled);
    EXPECT_FALSE(registry_->active_info(ModelKind::IsolationForest));
    EXPECT_TRUE(registry_->list().empty());
    auto again = service.cancel(running.id);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, core::Errc::Conflict);
    EXPECT_EQ(service.cancel("no-such-job").error().code, core::Errc::NotFound);
}

TEST_F(TrainingServiceTest, RejectsBadRequestsAndEmptyWindows) {
    TrainingService service(*registry_, fixtures::page_source(baseline(100)), nullptr, {.max_queued = 1});
    auto bad = anomaly_request();
    bad.params["anomaly_detector"] = {{"n_estimators", "many"}};
    auto refused = service.submit(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, core::Errc::InvalidArgument);
    EXPECT_NE(refused.error().detail.find("n_estimators"), std::string::npos) << refused.error().detail;
    auto unknown = anomaly_request();
    unknown.params["other_model"] = {};
    EXPECT_FALSE(service.submit(unknown));
    EXPECT_FALSE(service.submit(TrainingRequest{}));
    auto backwards = anomaly_request();
    backwards.from_ms = 10;
    backwards.to_ms = 5;
    EXPECT_FALSE(service.submit(backwards));

    // Not started: the first job waits, the second finds the queue full.
    auto empty = anomaly_request();
    empty.from_ms = 1;
    empty.to_ms = 2;
    auto queued = service.submit(empty).value();
    EXPECT_EQ(service.submit(anomaly_request()).error().code, core::Errc::Unavailable);
    EXPECT_EQ(service.current()->id, queued.id);
    service.start();
    auto done = wait_done(service, queued.id);
    EXPECT_EQ(done.state, JobState::Failed);
    EXPECT_EQ(done.error, "no events in the training window");
    EXPECT_FALSE(service.current());
}

TEST_F(TrainingServiceTest, AutoTrainsOnceWhenEnoughEventsAndNoDetector) {
    TrainingService service(*registry_, fixtures::page_source(baseline(400)), nullptr, {.auto_train_events = 300});
    EXPECT_TRUE(service.auto_train_pending());
    EXPECT_FALSE(service.maybe_auto_train(299));
    EXPECT_TRUE(service.maybe_auto_train(300));
    EXPECT_FALSE(service.auto_train_pending());
    EXPECT_FALSE(service.maybe_auto_train(400));  // once
    auto current = service.current();
    ASSERT_TRUE(current);
    EXPECT_TRUE(current->request.automatic);
    service.start();
    auto done = wait_done(service, current->id);
    ASSERT_EQ(done.state, JobState::Succeeded) << done.error;
    EXPECT_TRUE(registry_->active(ModelKind::IsolationForest));

    TrainingService disabled(*registry_, fixtures::page_source(baseline(10)), nullptr, {.auto_train_events = 0});
    EXPECT_FALSE(disabled.auto_train_pending());
    EXPECT_FALSE(disabled.maybe_auto_train(1'000'000));
}

TEST_F(TrainingServiceTest, HistoryIsNewestFirstWithACursor) {
    TrainingService service(*registry_, fixtures::page_source(baseline(10)), nullptr, {.max_queued = 8});
    std::vector<std::string> ids;
    for (int i = 0; i < 5; ++i) {
        ids.push_back(service.submit(anomaly_request()).value().id);
        std::this_thread::sleep_for(2ms);  // distinct UUIDv7 milliseconds
    }
    auto page1 = service.history(2, std::nullopt);
    ASSERT_EQ(page1.size(), 2u);
    EXPECT_EQ(page1[0].id, ids[4]);
    EXPECT_EQ(page1[1].id, ids[3]);
    auto page2 = service.history(2, page1.back().id);
    ASSERT_EQ(page2.size(), 2u);
    EXPECT_EQ(page2[0].id, ids[2]);
    auto page3 = service.history(2, page2.back().id);
    ASSERT_EQ(page3.size(), 1u);
    EXPECT_EQ(page3[0].id, ids[0]);
}

TEST_F(TrainingServiceTest, JournalsEveryStateAndRestoresHistory) {
    std::mutex mutex;
    std::vector<std::pair<std::string, JobState>> records;
    std::map<std::string, std::string> last;  // id -> JSON, as a store would keep it
    auto journal = [&](const TrainingJob& j) {
        std::lock_guard lock(mutex);
        records.emplace_back(j.id, j.state);
        last[j.id] = training_job_to_json(j);
    };
    std::string done_id;
    {
        TrainingService service(*registry_, fixtures::page_source(baseline(300)), nullptr, {});
        service.set_journal(journal);
        service.start();
        auto request = anomaly_request();
        request.from_ms = fixtures::kStart;
        request.to_ms = fixtures::kStart + 1000 * fixtures::kSpacingMs;
        done_id = wait_done(service, service.submit(request).value().id).id;
        service.stop();
    }
    {
        std::lock_guard lock(mutex);
        std::vector<JobState> states;
        for (const auto& [id, state] : records) {
            if (id == done_id) states.push_back(state);
        }
        EXPECT_EQ(states, (std::vector<JobState>{JobState::Queued, JobState::Running, JobState::Succeeded}));
    }
    auto original = training_job_from_json(last[done_id]);
    ASSERT_TRUE(original) << original.error().detail;
    EXPECT_EQ(original->request.params.at("anomaly_detector").at("n_estimators"), "50");
    EXPECT_EQ(original->request.from_ms, fixtures::kStart);
    ASSERT_EQ(original->results.size(), 1u);
    EXPECT_TRUE(original->results[0].promoted);
    EXPECT_EQ(training_job_to_json(*original), last[done_id]);  // a faithful round trip
    EXPECT_FALSE(training_job_from_json("{\"id\": 1}"));
    EXPECT_FALSE(training_job_from_json("not json"));

    // A job the previous process left running comes back failed, and is journaled so.
    TrainingJob stale = *original;
    stale.id = core::new_uuid_v7();
    stale.state = JobState::Running;
    stale.results.clear();
    stale.request.automatic = true;
    auto empty = ModelRegistry::open(dir_ / "empty").value();  // no detector: only the restored job stops auto-training
    TrainingService restarted(*empty, fixtures::page_source(baseline(300)), nullptr, {.auto_train_events = 1});
    restarted.set_journal(journal);
    restarted.restore({*original, stale});
    EXPECT_EQ(restarted.get(done_id)->state, JobState::Succeeded);
    auto interrupted = restarted.get(stale.id).value();
    EXPECT_EQ(interrupted.state, JobState::Failed);
    EXPECT_NE(interrupted.error.find("interrupted"), std::string::npos);
    EXPECT_EQ(training_job_from_json(last[stale.id])->state, JobState::Failed);
    auto history = restarted.history(10, std::nullopt);
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[0].id, stale.id);
    EXPECT_FALSE(restarted.auto_train_pending());  // an automatic training was already tried
}

TEST(DriftBaselineTest, SurvivesASaveAndDetectsAShift) {
    Matrix rows(1000, 2);
    std::vector<double> scores;
    for (std::size_t i = 0; i < rows.rows; ++i) {
        rows.row(i)[0] = static_cast<float>(i % 100);
        rows.row(i)[1] = 5;
        scores.push_back(0.3 + 0.001 * static_cast<double>(i % 100));
    }
    const std::vector<std::string> names = {"x", "constant"};
    auto built = build_drift_baseline(rows, names, scores);
    const auto file = std::filesystem::path(testing::TempDir()) / "drift_baseline_test.json";
    ASSERT_TRUE(save_drift_baseline(built, file));
    auto loaded = load_drift_baseline(file);
    ASSERT_TRUE(loaded) << loaded.error().detail;
    EXPECT_EQ(loaded->features, names);
    EXPECT_EQ(loaded->rows, 1000u);
    EXPECT_EQ(loaded->profiles[0].edges(), built.profiles[0].edges());
    std::vector<double> same, shifted;
    for (int i = 0; i < 500; ++i) {
        same.push_back(i % 100);
        shifted.push_back(200 + i % 100);
    }
    EXPECT_LT(loaded->profiles[0].psi(same), 0.1);
    EXPECT_GE(loaded->profiles[0].psi(shifted), 0.25);
    std::filesystem::remove(file);
    EXPECT_EQ(load_drift_baseline(file).error().code, core::Errc::NotFound);
}

}  // namespace
}  // namespace sai::ml
