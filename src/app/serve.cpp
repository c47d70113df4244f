// `securityai serve`: wires configuration, store, services, routes and the server.

#include "alerts/alert_manager.hpp"
#include "alerts/remediation.hpp"
#include "api/alert_routes.hpp"
#include "api/auth_routes.hpp"
#include "api/dispatcher.hpp"
#include "api/event_routes.hpp"
#include "api/graph_routes.hpp"
#include "api/live_routes.hpp"
#include "api/log_routes.hpp"
#include "api/metrics_routes.hpp"
#include "api/ml_routes.hpp"
#include "api/report_routes.hpp"
#include "api/rule_routes.hpp"
#include "api/syslog_server.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "api/system_routes.hpp"
#include "app.hpp"
#include "influx_export.hpp"
#include "kafka_ingest.hpp"
#include "ml_metadata.hpp"
#include "ml_stage.hpp"
#include "redis_scaleout.hpp"
#include "auth/audit_log.hpp"
#include "auth/auth_service.hpp"
#include "core/health.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/periodic.hpp"
#include "core/time.hpp"
#include "graph/geoip.hpp"
#include "graph/graph_service.hpp"
#include "ml/registry.hpp"
#include "ml/scorer.hpp"
#include "ml/training_service.hpp"
#include "model/event.hpp"
#include "pipeline/detect_stage.hpp"
#include "pipeline/parse_stage.hpp"
#include "pipeline/pipeline.hpp"
#include "reports/report_service.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <pthread.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <thread>

namespace sai::app {
namespace {

/// Folds committed batches into the entity graph and hands the graph's
/// detections (lateral movement) to the alert manager. Pipeline thread only.
class GraphStage final : public pipeline::Stage {
public:
    GraphStage(graph::GraphService& graph, alerts::AlertManager& alerts) : graph_(graph), alerts_(alerts) {}
    std::string_view name() const override { return "graph"; }
    void process(std::vector<model::Event>&) override {}
    void committed(const std::vector<model::Event>& batch) override {
        auto detections = graph_.observe(batch);
        if (!detections.empty()) alerts_.submit(std::move(detections));
    }

private:
    graph::GraphService& graph_;
    alerts::AlertManager& alerts_;
};

/// Before detection: marks logins at hours unusual for the user (from the graph's
/// per-user baselines) so rules can use `ueba.unusual_hour`. Pipeline thread only.
class UserBaselineStage final : public pipeline::Stage {
public:
    explicit UserBaselineStage(const graph::GraphService& graph) : graph_(graph) {}
    std::string_view name() const override { return "user-baseline"; }
    void process(std::vector<model::Event>& batch) override { graph_.annotate(batch); }

private:
    const graph::GraphService& graph_;
};

void print_generated_password(const std::string& password) {
    // Straight to the console, once: never through the logger.
    std::fprintf(stderr,
                 "\n"
                 "  ============================================================\n"
                 "  SecurityAI created the administrator account.\n"
                 "    username: admin\n"
                 "    password: %s\n"
                 "  It is shown only now. Sign in and change it, or set\n"
                 "  SECURITYAI_ADMIN_PASSWORD before the first start.\n"
                 "  ============================================================\n\n",
                 password.c_str());
    std::fflush(stderr);
}


/// Figures read at scrape time (the counted ones register themselves where they count).
void add_metric_collectors(storage::Store& store, pipeline::Pipeline& pipeline, api::SyslogServer* syslog,
                           alerts::AlertManager& alert_manager, api::HubLiveService& live, graph::GraphService& graph) {
    using core::metrics::Writer;
    auto& registry = core::metrics::default_registry();
    registry.add_collector(core::metrics::collect_process);
    registry.add_collector([&pipeline](Writer& w) {
        const auto s = pipeline.stats();
        w.family("securityai_pipeline_queue_depth", "Events waiting to be committed.", "gauge");
        w.sample("securityai_pipeline_queue_depth", {}, static_cast<double>(s.queue_depth));
        w.family("securityai_pipeline_queue_capacity", "Events the ingest queue holds at most.", "gauge");
        w.sample("securityai_pipeline_queue_capacity", {}, static_cast<double>(s.queue_capacity));
        w.family("securityai_pipeline_events_total", "Events through the pipeline, by outcome.", "counter");
        w.sample("securityai_pipeline_events_total", {{"outcome", "committed"}}, static_cast<double>(s.committed));
        w.sample("securityai_pipeline_events_total", {{"outcome", "duplicate"}}, static_cast<double>(s.duplicates));
        w.sample("securityai_pipeline_events_total", {{"outcome", "rejected"}}, static_cast<double>(s.rejected));
        w.sample("securityai_pipeline_events_total", {{"outcome", "dropped"}}, static_cast<double>(s.dropped));
        w.family("securityai_pipeline_batches_total", "Batches committed.", "counter");
        w.sample("securityai_pipeline_batches_total", {}, static_cast<double>(s.batches));
        w.family("securityai_pipeline_errors_total", "Stage failures and failed commits.", "counter");
        w.sample("securityai_pipeline_errors_total", {{"kind", "stage"}}, static_cast<double>(s.stage_errors));
        w.sample("securityai_pipeline_errors_total", {{"kind", "commit"}}, static_cast<double>(s.commit_errors));
    });
    if (syslog) {
        registry.add_collector([syslog](Writer& w) {
            const auto c = syslog->counters();
            w.family("securityai_syslog_messages_total", "Syslog messages received, by outcome.", "counter");
            w.sample("securityai_syslog_messages_total", {{"outcome", "received"}}, static_cast<double>(c.received));
            w.sample("securityai_syslog_messages_total", {{"outcome", "accepted"}}, static_cast<double>(c.accepted));
            w.sample("securityai_syslog_messages_total", {{"outcome", "rejected"}}, static_cast<double>(c.rejected));
            w.family("securityai_syslog_udp_dropped_total", "UDP syslog datagrams dropped, by where.", "counter");
            w.sample("securityai_syslog_udp_dropped_total", {{"where", "queue"}}, static_cast<double>(c.dropped));
            w.sample("securityai_syslog_udp_dropped_total", {{"where", "kernel"}}, static_cast<double>(c.udp_kernel_dropped));
            w.family("securityai_syslog_tcp_refused_connections_total", "Syslog TCP connections refused at the cap.",
                     "counter");
            w.sample("securityai_syslog_tcp_refused_connections_total", {}, static_cast<double>(c.refused_connections));
        });
    }
    registry.add_collector([&graph](Writer& w) {
        const auto g = graph.stats();
        w.family("securityai_graph_nodes", "Nodes in the entity graph.", "gauge");
        w.sample("securityai_graph_nodes", {}, static_cast<double>(g.nodes));
        w.family("securityai_graph_edges", "Edges in the entity graph.", "gauge");
        w.sample("securityai_graph_edges", {}, static_cast<double>(g.edges));
        w.family("securityai_graph_memory_bytes", "Approximate memory held by the entity graph.", "gauge");
        w.sample("securityai_graph_memory_bytes", {}, static_cast<double>(g.memory_bytes));
        w.family("securityai_graph_detections_total", "Detections raised by the graph (lateral movement).", "counter");
        w.sample("securityai_graph_detections_total", {}, static_cast<double>(g.detections));
    });
    registry.add_collector([&store, &alert_manager, &live](Writer& w) {
        if (auto n = store.events().count()) {
            w.family("securityai_events_stored", "Events in the store.", "gauge");
            w.sample("securityai_events_stored", {}, static_cast<double>(*n));
        }
        if (auto rows = store.alerts().count_by_severity_and_status()) {
            w.family("securityai_alerts", "Alerts in the store, by severity and status.", "gauge");
            for (const auto& [key, n] : *rows) {
                w.sample("securityai_alerts", {{"severity", key.first}, {"status", key.second}}, static_cast<double>(n));
            }
        }
        const auto a = alert_manager.stats();
        w.family("securityai_detections_total", "Detections given to the alert manager, by outcome.", "counter");
        w.sample("securityai_detections_total", {{"outcome", "new_alert"}}, static_cast<double>(a.created));
        w.sample("securityai_detections_total", {{"outcome", "merged"}}, static_cast<double>(a.merged));
        w.sample("securityai_detections_total", {{"outcome", "suppressed"}}, static_cast<double>(a.suppressed));
        w.sample("securityai_detections_total", {{"outcome", "dropped"}}, static_cast<double>(a.dropped));
        w.family("securityai_alert_queue_depth", "Detections waiting for the alert manager.", "gauge");
        w.sample("securityai_alert_queue_depth", {}, static_cast<double>(a.queue_depth));
        w.family("securityai_websocket_connections", "Open WebSocket connections.", "gauge");
        w.sample("securityai_websocket_connections", {}, static_cast<double>(live.connections()));
    });
}

}  // namespace

std::optional<std::filesystem::path> builtin_rules_dir() {
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    std::vector<std::filesystem::path> candidates{"rules"};
    if (!ec) {
        candidates.push_back(exe.parent_path() / "rules");
        candidates.push_back(exe.parent_path().parent_path() / "rules");
    }
    candidates.emplace_back("/usr/share/securityai/rules");
    for (const auto& c : candidates) {
        if (std::filesystem::is_directory(c / "linux", ec)) {
            return std::filesystem::absolute(c, ec);
        }
    }
    return std::nullopt;
}

int serve(const core::Config& config) {
    // Signals are taken by sigwait() on this thread; every other thread blocks them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    core::log::Level level = core::log::Level::Info;
    core::log::parse_level(config.log.level, level);
    core::log::init({.level = level, .file = config.log.file, .async = true});
    struct LogFlush {
        ~LogFlush() { core::log::shutdown(); }
    } log_flush;

    core::log::info("securityai starting", {{"version", core::kVersion},
                                            {"environment", config.environment},
                                            {"data_dir", config.data_dir},
                                            {"storage", config.storage.postgres_url.empty() ? "sqlite" : "postgres"}});
    if (config.secret_key == core::kDefaultSecretKey) {
        core::log::warn("SECRET_KEY is the built-in development default; set SECRET_KEY before exposing this server");
    }

    for (const auto& cidr : config.metrics.allow) {
        if (!model::cidr_range(cidr)) {
            return fail("metrics.allow: '" + cidr + "' is not an address or CIDR block");
        }
    }
    auto store = open_store(config, true);
    // A PostgreSQL that is still starting (a compose stack, a failover) is waited
    // for a while rather than failing the node at once.
    const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!store && store.error().code == core::Errc::Unavailable && !config.storage.postgres_url.empty() &&
           std::chrono::steady_clock::now() < wait_until) {
        core::log::warn("waiting for PostgreSQL", {{"error", store.error().detail}});
        std::this_thread::sleep_for(std::chrono::seconds(1));
        store = open_store(config, true);
    }
    if (!store) {
        core::log::error("cannot open the store", {{"error", store.error().detail}});
        return fail(store.error().detail);
    }
    auto audit_log = auth::AuditLog::open((*store)->audit());
    if (!audit_log) {
        return fail("audit log: " + audit_log.error().detail);
    }
    auth::AuthOptions auth_options;
    auth_options.jwt.secret = config.secret_key;
    auth_options.jwt.issuer = config.auth.issuer;
    auth_options.jwt.audience = config.auth.audience;
    auth_options.jwt.ttl = config.auth.access_token_ttl;
    auth_options.refresh_ttl = config.auth.refresh_token_ttl;
    auto auth = auth::AuthService::open(**store, **audit_log, auth_options);
    if (!auth) {
        return fail("authentication: " + auth.error().detail);
    }
    const std::string admin_password = core::process_env("SECURITYAI_ADMIN_PASSWORD").value_or("");
    auto bootstrap = (*auth)->ensure_admin(admin_password);
    if (!bootstrap) {
        return fail(bootstrap.error().detail, 2);
    }
    if (*bootstrap) {
        core::log::info("administrator account created", {{"username", "admin"}, {"password", "printed to the console"}});
        core::log::flush();
        print_generated_password(**bootstrap);
    } else if (!admin_password.empty()) {
        core::log::info("administrator account ready", {{"username", "admin"}});
    }
    std::unique_ptr<RedisScaleOut> redis;
    std::unique_ptr<auth::RateLimiter> limiter;
    if (!config.redis.url.empty()) {
        auto opened = RedisScaleOut::open(config.redis, **auth);
        if (!opened) {
            return fail("redis: " + opened.error().detail);
        }
        redis = std::move(*opened);
        limiter = redis->make_limiter(auth::make_memory_rate_limiter());
    } else {
        limiter = auth::make_memory_rate_limiter();
    }

    core::HealthMonitor health;
    // PostgreSQL shows as its own component: when it is down, /health says so.
    health.add_check((*store)->backend() == "postgres" ? "postgres" : "storage",
                     [s = store->get()] { return s->check_health(); });
    std::unique_ptr<storage::influx::InfluxWriter> influx;
    if (!config.influxdb.url.empty()) {
        storage::influx::InfluxOptions influx_options;
        influx_options.url = config.influxdb.url;
        influx_options.token = config.influxdb.token;
        influx_options.org = config.influxdb.org;
        influx_options.bucket = config.influxdb.bucket;
        influx_options.database = config.influxdb.database;
        auto opened = storage::influx::InfluxWriter::open(influx_options);
        if (!opened) {
            return fail("influxdb: " + opened.error().detail);
        }
        influx = std::move(*opened);
        // Optional: a down InfluxDB degrades the service, it never stops ingestion.
        health.add_optional_check("influxdb", [w = influx.get()] { return w->health(); });
    }
    if (redis) {
        // Optional: without Redis a node limits, revokes and streams locally.
        health.add_optional_check("redis", [r = redis.get()] { return r->health(); });
    }
    // Kafka: sources publish to the raw topic, the pipeline consumes it (started below).
    std::unique_ptr<storage::kafka::KafkaProducer> kafka_producer;
    if (!config.kafka.bootstrap_servers.empty()) {
        auto opened = storage::kafka::KafkaProducer::open(kafka_options(config.kafka));
        if (!opened) {
            return fail("kafka: " + opened.error().detail);
        }
        kafka_producer = std::move(*opened);
        // Optional: without a broker ingestion answers 503, stored data stays readable.
        health.add_optional_check("kafka", [p = kafka_producer.get()] { return p->health(); });
    }
    health.start(std::chrono::seconds(1));

    alerts::RemediationConfig remediation_config;
    if (!config.config_file.empty()) {
        auto loaded = alerts::load_remediation_config(config.config_file);
        if (!loaded) {
            return fail(loaded.error().detail);
        }
        remediation_config = std::move(*loaded);
    }
    alerts::AlertManager alert_manager((*store)->alerts(),
                                       {.dedup_window = std::chrono::minutes(config.alerts.dedup_window_minutes)});
    auto disable_account = [a = auth->get(), s = store->get()](const std::string& username,
                                                               const std::string& actor) -> core::Result<void> {
        auto user = s->users().find_by_username(username);
        if (!user) {
            return user.error();
        }
        model::Principal system{.kind = model::Principal::Kind::User, .id = "remediation", .name = actor,
                                .role = model::Role::Admin};
        auto updated = a->update_user(user->id, {.disabled = true}, system, {"", ""});
        if (!updated) {
            return updated.error();
        }
        return {};
    };
    auto audit_remediation = [a = auth->get()](const std::string& actor, const std::string& action,
                                               const std::string& target, const std::string& outcome,
                                               const std::string& detail) {
        a->audit({.actor = actor, .action = action, .target = target, .outcome = outcome, .detail = detail});
    };
    alerts::RemediationService remediation((*store)->alerts(), alert_manager, std::move(remediation_config),
                                           alerts::make_curl_poster(), disable_account, audit_remediation);

    // Models: files in <data_dir>/models (the registry), scored on the pipeline
    // thread, trained by one background worker with one thread.
    auto registry = ml::ModelRegistry::open(std::filesystem::path(config.data_dir) / "models");
    if (!registry) {
        return fail("models: " + registry.error().detail);
    }
    ml::EventScorer scorer(**registry, {.alert_threshold = config.ml.anomaly_alert_threshold});
    ml::TrainingService training(
        **registry,
        [s = store->get()](std::int64_t from, std::int64_t to, const std::optional<std::pair<std::int64_t, std::string>>& before,
                           std::size_t limit) {
            storage::EventQuery q;
            q.from_ms = from;
            q.to_ms = to;
            q.before = before;
            q.limit = limit;
            return s->events().query(q);
        },
        [s = store->get()](std::int64_t since) -> core::Result<std::map<std::string, std::string>> {
            auto labels = s->alerts().labels(since, 1'000'000);
            if (!labels) {
                return labels.error();
            }
            std::map<std::string, std::string> out;
            for (const auto& l : *labels) {
                out[l.event_id] = l.label;  // oldest first: the latest verdict wins
            }
            return out;
        },
        {.max_rows = config.ml.max_training_events,
         .min_labelled = config.ml.min_labelled_events,
         .auto_train_events = config.ml.auto_train_events,
         .promotion_tolerance = config.ml.promotion_tolerance});
    // The store mirrors the registry and journals the jobs (migration 7).
    mirror_models(**registry, (*store)->ml());
    training.restore(load_training_jobs((*store)->ml(), 500));
    training.set_journal([r = registry->get(), s = store->get()](const ml::TrainingJob& job) {
        record_training_job(job, s->ml());
        if (job.state != ml::JobState::Queued && job.state != ml::JobState::Running) {
            mirror_models(*r, s->ml());
        }
    });
    training.start();
    struct TrainingStop {
        ml::TrainingService& t;
        ~TrainingStop() { t.stop(); }
    } training_stop{training};

    reports::ReportHooks report_hooks;
    report_hooks.verify_audit_chain = [a = audit_log->get(), s = store->get()]() -> core::Result<reports::AuditChainStatus> {
        a->flush();  // entries recorded so far are part of what is verified
        auto v = auth::verify_audit_chain(s->audit());
        if (!v) {
            return v.error();
        }
        return reports::AuditChainStatus{v->ok, v->entries, v->first_broken_seq, v->reason};
    };
    report_hooks.ml_snapshot = [r = registry->get(), &scorer](std::int64_t, std::int64_t) -> core::Result<reports::MlSnapshot> {
        reports::MlSnapshot snapshot;
        const auto recent = scorer.recent();
        for (const auto& m : r->list()) {
            reports::ModelVersionSummary v;
            v.model = std::string(ml::model_role(m.kind));
            v.version = m.id;
            v.status = std::string(ml::to_string(m.status));
            v.trained_at = m.created_at;
            v.metrics.assign(m.metrics.begin(), m.metrics.end());
            if (m.status == ml::ModelStatus::Active && !recent.scores.empty()) {
                if (auto b = ml::load_drift_baseline(ml::drift_baseline_path(*r, m.id)); b && b->scores) {
                    v.drift = b->scores->psi(recent.scores);  // PSI of the anomaly scores since start
                }
            }
            snapshot.versions.push_back(std::move(v));
        }
        return snapshot;
    };
    report_hooks.retention_settings = {
        {"pipeline.retention_days (events)",
         config.pipeline.retention_days > 0 ? std::to_string(config.pipeline.retention_days) + " days" : "kept forever"},
        {"reports.retention_days (generated reports)",
         config.reports.retention_days > 0 ? std::to_string(config.reports.retention_days) + " days" : "kept forever"},
        {"audit log", "kept forever (hash-chained; never deleted by the server)"},
        {"alerts and their history", "kept forever"}};
    reports::ReportService report_service(**store,
                                          {.directory = std::filesystem::path(config.data_dir) / "reports",
                                           .retention_days = config.reports.retention_days},
                                          std::move(report_hooks));
    if (auto started = report_service.start(); !started) {
        health.stop();
        (*audit_log)->flush();
        (*store)->close();
        return fail("reports: " + started.error().detail);
    }
    // The graph: GeoIP is optional (the threat map then groups by "unknown").
    auto geoip = graph::GeoIp::open();
    if (!geoip) {
        core::log::warn("GeoIP unavailable: the threat map cannot place addresses", {{"error", geoip.error().detail}});
    }
    graph::GraphService graph((*store)->graph(), &(*store)->alerts(), geoip ? geoip->get() : nullptr);
    if (auto started = graph.start(); !started) {
        return fail("graph: " + started.error().detail);
    }

    pipeline::LiveHub hub;
    pipeline::Pipeline pipeline((*store)->events(),
                                {.queue_capacity = config.pipeline.queue_capacity,
                                 .max_batch = config.pipeline.max_batch},
                                &hub);
    // Log parsing first: later stages (ML, detection, graph) read its templates and entities.
    auto parser_config = config.config_file.empty() ? core::Result<parser::ParserConfig>(parser::ParserConfig{})
                                                    : parser::ParserConfig::load_file(config.config_file);
    if (!parser_config) {
        return fail("parser: " + parser_config.error().detail);
    }
    auto log_parser = parser::LogParser::create(*parser_config);
    if (!log_parser) {
        return fail("parser: " + log_parser.error().detail);
    }
    auto parse_stage_owned = pipeline::ParseStage::create(*log_parser, (*store)->templates(), {});
    if (!parse_stage_owned) {
        return fail("parser: " + parse_stage_owned.error().detail);
    }
    pipeline::ParseStage& parse_stage = **parse_stage_owned;
    pipeline.add_stage(std::move(*parse_stage_owned));

    // ML scoring before detection: rules may test ml.anomaly_score and ml.threat_class.
    if (config.ml.enabled) {
        pipeline.add_stage(std::make_unique<MlScoringStage>(scorer, alert_manager));
    }
    std::vector<std::filesystem::path> rule_dirs;
    if (config.detection.builtin_rules) {
        if (auto pack = builtin_rules_dir()) {
            rule_dirs.push_back(*pack);
        } else {
            core::log::warn("built-in detection rules not found (looked in ./rules, next to the binary and in "
                            "/usr/share/securityai/rules)");
        }
    }
    const auto api_rules = std::filesystem::path(config.data_dir) / "rules";
    std::error_code rules_ec;
    std::filesystem::create_directories(api_rules, rules_ec);
    rule_dirs.push_back(api_rules);  // rules added through the API
    for (const auto& d : config.detection.rules_dirs) {
        rule_dirs.emplace_back(d);
    }
    pipeline.add_stage(std::make_unique<UserBaselineStage>(graph));
    auto detect_stage_owned = std::make_unique<pipeline::DetectStage>(
        rule_dirs, [&alert_manager](std::vector<model::Detection> d) { alert_manager.submit(std::move(d)); });
    pipeline::DetectStage& detect_stage = *detect_stage_owned;
    pipeline.add_stage(std::move(detect_stage_owned));

    auto rate_stage = std::make_unique<EventRateStage>();
    EventRateStage& rates = *rate_stage;
    if (influx) {
        pipeline.add_stage(std::move(rate_stage));
    }
    pipeline.add_stage(std::make_unique<GraphStage>(graph, alert_manager));
    pipeline.start();
    std::optional<InfluxExport> influx_export;
    if (influx) {
        char node[256] = {};
        gethostname(node, sizeof node - 1);
        influx_export.emplace(*influx, **store, pipeline, rates, node);
        influx->start(std::chrono::seconds(config.influxdb.interval_s), [&influx_export] { influx_export->sample(); });
        core::log::info("exporting to InfluxDB", {{"url", config.influxdb.url},
                                                  {"api", config.influxdb.bucket.empty() ? "1.x" : "2.x"},
                                                  {"interval_s", config.influxdb.interval_s}});
    }

    std::optional<KafkaIngest> kafka_ingest;
    std::unique_ptr<storage::kafka::EventConsumer> kafka_consumer;
    if (kafka_producer) {
        kafka_ingest.emplace(*kafka_producer, config.kafka.raw_topic);
        auto consumer = storage::kafka::EventConsumer::start(kafka_options(config.kafka), pipeline_handler(pipeline));
        if (!consumer) {
            pipeline.stop();
            report_service.stop();
            health.stop();
            (*audit_log)->flush();
            (*store)->close();
            return fail("kafka consumer: " + consumer.error().detail);
        }
        kafka_consumer = std::move(*consumer);
        add_kafka_metrics(*kafka_producer, kafka_consumer.get());
        core::log::info("ingesting through Kafka", {{"bootstrap_servers", config.kafka.bootstrap_servers},
                                                    {"raw_topic", config.kafka.raw_topic},
                                                    {"alerts_topic", config.kafka.alerts_topic},
                                                    {"group_id", config.kafka.group_id}});
    }
    pipeline::EventSink* ingest_sink = kafka_ingest ? &*kafka_ingest : nullptr;

    std::unique_ptr<api::SyslogServer> syslog;
    if (config.syslog.udp || config.syslog.tcp) {
        api::SyslogOptions syslog_options;
        syslog_options.host = config.syslog.host.empty() ? config.http.host : config.syslog.host;
        syslog_options.port = config.syslog.port;
        syslog_options.udp = config.syslog.udp;
        syslog_options.tcp = config.syslog.tcp;
        auto started = api::SyslogServer::start(syslog_options, pipeline, ingest_sink);
        if (!started) {
            core::log::error("cannot start the syslog listeners", {{"error", started.error().detail}});
            if (kafka_consumer) {
                kafka_consumer->stop();
            }
            pipeline.stop();
            report_service.stop();
            health.stop();
            (*audit_log)->flush();
            (*store)->close();
            return fail(started.error().detail);
        }
        syslog = std::move(*started);
        for (const auto& s : syslog->status()) {
            core::log::info("syslog listening", {{"source", s.name}, {"address", s.address}});
        }
    }

    api::Router router;
    api::add_system_routes(router, {std::string(core::kVersion), config.environment, &health});
    api::add_auth_routes(router, **auth, (*store)->audit());
    std::atomic<std::uint16_t> http_port{config.http.port};  // the real one once listening
    api::MonitorServices monitor{**store, pipeline, std::string(core::kVersion), std::chrono::steady_clock::now(),
                                 [&syslog, &http_port, &config] {
                                     std::vector<api::SourceStatus> sources{
                                         {"http", config.http.host + ":" + std::to_string(http_port.load()), true}};
                                     if (syslog) {
                                         for (auto& s : syslog->status()) {
                                             sources.push_back(std::move(s));
                                         }
                                     }
                                     return sources;
                                 },
                                 [&syslog] {
                                     std::vector<std::pair<std::string, std::uint64_t>> out;
                                     if (syslog) {
                                         const auto c = syslog->counters();
                                         out = {{"syslog_received", c.received},
                                                {"syslog_accepted", c.accepted},
                                                {"syslog_rejected", c.rejected},
                                                {"syslog_udp_queue_dropped", c.dropped},
                                                {"syslog_udp_kernel_dropped", c.udp_kernel_dropped},
                                                {"syslog_tcp_refused_connections", c.refused_connections}};
                                     }
                                     return out;
                                 }};
    monitor.health = &health;
    monitor.ingest = ingest_sink;
    api::MlServices ml_services{**registry, training, scorer,
                                [r = registry->get(), s = store->get()] { mirror_models(*r, s->ml()); }};
    monitor.models_status = [&ml_services] { return api::ml_status_json(ml_services); };
    api::add_event_routes(router, monitor);
    api::add_live_routes(router);
    api::HubLiveService live(hub, pipeline);
    api::AlertServices alert_services{**store, alert_manager, remediation};
    api::add_alert_routes(router, alert_services);
    alert_manager.add_listener([&live](const std::vector<alerts::AlertUpdate>& u) { live.push_alerts(u); });
    // The bus relays into `live`: it must stop before `live` and `hub` go away.
    struct StopRedis {
        RedisScaleOut* r;
        ~StopRedis() {
            if (r) r->stop();
        }
    } stop_redis{redis.get()};
    if (redis) {
        redis->attach_live(hub, live, alert_manager);
        redis->start();
    }
    alert_manager.add_listener([&remediation](const std::vector<alerts::AlertUpdate>& u) { remediation.on_alerts(u); });
    alert_manager.add_listener([&graph](const std::vector<alerts::AlertUpdate>& u) {
        std::vector<model::Alert> changed;
        changed.reserve(u.size());
        for (const auto& x : u) changed.push_back(x.alert);
        graph.on_alerts(changed);
    });
    if (kafka_producer && !config.kafka.alerts_topic.empty()) {
        alert_manager.add_listener(alert_publisher(*kafka_producer, config.kafka.alerts_topic));
    }
    api::add_graph_routes(router, graph);
    alert_manager.start();
    remediation.start();

    api::MetricsServices metrics_services{**store, config.data_dir, std::chrono::steady_clock::now(),
                                          {config.metrics.token, config.metrics.allow}, {}};
    metrics_services.sections.emplace_back("ml", [&ml_services] { return api::ml_metrics_json(ml_services); });
    if (redis) metrics_services.cache = redis->response_cache();
    api::add_metrics_routes(router, metrics_services);
    api::add_ml_routes(router, ml_services);
    add_metric_collectors(**store, pipeline, syslog.get(), alert_manager, live, graph);
    api::add_log_routes(router, parse_stage);
    api::RuleServices rule_services{detect_stage, api_rules, **store};
    api::add_rule_routes(router, rule_services);
    core::metrics::default_registry().add_collector([&parse_stage](core::metrics::Writer& w) {
        const auto p = parse_stage.stats();
        w.family("securityai_parser_templates", "Log templates the parser knows.", "gauge");
        w.sample("securityai_parser_templates", {}, static_cast<double>(p.templates));
        w.family("securityai_parser_evictions_total", "Templates evicted by the memory caps.", "counter");
        w.sample("securityai_parser_evictions_total", {}, static_cast<double>(p.evictions));
    });
    monitor.components = [&parse_stage] {
        const auto p = parse_stage.stats();
        return std::vector<std::pair<std::string, std::string>>{
            {"parser", "{\"state\":\"running\",\"templates\":" + std::to_string(p.templates) +
                           ",\"evictions\":" + std::to_string(p.evictions) + ",\"parsed\":" + std::to_string(p.parsed) + "}"}};
    };
    api::add_report_routes(router, report_service);
    api::Dispatcher dispatcher(router,
                               {.default_max_body_bytes = config.http.max_body_bytes,
                                .cors_origins = config.http.cors_origins,
                                .hsts = config.is_production() && !config.tls.cert_file.empty()},
                               {.auth = auth->get(),
                                .limiter = limiter.get(),
                                .api_per_minute = config.auth.rate_limit_per_minute,
                                .ingest_per_minute = config.auth.rate_limit_ingest_per_minute});

    // Graph upkeep: discovered assets, ageing and asset changes (CSV imports by other
    // processes) every 10 s, PageRank every minute, a snapshot every 5 minutes.
    std::uint64_t graph_ticks = 0;
    core::Periodic graph_upkeep(std::chrono::seconds(10), [&graph, &graph_ticks] {
        const auto now = core::now_unix_ms();
        // Declared assets first: traffic they claim is not "discovered".
        if (auto r = graph.reload_assets(); !r) core::log::warn("reloading assets failed", {{"error", r.error().detail}});
        if (auto r = graph.flush_discovered(now); !r) {
            core::log::warn("storing discovered assets failed", {{"error", r.error().detail}});
        }
        graph.maintain(now);
        if (++graph_ticks % 6 == 0) graph.refresh_centrality();
        if (graph_ticks % 30 == 0) {
            if (auto r = graph.save_snapshot(now); !r) core::log::warn("graph snapshot failed", {{"error", r.error().detail}});
        }
    });

    core::Periodic live_metrics(std::chrono::seconds(5), [&live] { live.push_metrics(); });
    core::Periodic rule_reload(std::chrono::seconds(config.detection.reload_interval_s),
                               [&detect_stage] { detect_stage.reload(); });
    core::Periodic auto_train(std::chrono::seconds(1), [&training, s = store->get(), &config] {
        // Counting events costs a scan: only while a first training may still be due.
        if (config.ml.enabled && training.auto_train_pending()) {
            if (auto n = s->events().count(); n && *n > 0) {
                training.maybe_auto_train(static_cast<std::uint64_t>(*n));
            }
        }
    });
    core::Periodic maintenance(std::chrono::seconds(10), [a = auth->get(), s = store->get(), &config, &parse_stage] {
        a->flush_usage();
        if (auto r = parse_stage.save(); !r) {
            core::log::warn("saving log templates failed", {{"error", r.error().detail}});
        }
        if (auto r = a->reload(); !r) {
            core::log::warn("reloading credentials failed", {{"error", r.error().detail}});
        }
        if (config.pipeline.retention_days > 0) {
            // Retention in small batches, so the writer is never held for long.
            const auto cutoff = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    (core::Clock::now() - std::chrono::hours(24) * config.pipeline.retention_days)
                                        .time_since_epoch())
                                    .count();
            for (int i = 0; i < 20; ++i) {
                auto removed = s->events().delete_before(cutoff, 1000);
                if (!removed || *removed < 1000) {
                    break;
                }
            }
        }
    });

    api::ServerOptions options;
    options.host = config.http.host;
    options.port = config.http.port;
    options.workers = config.http.workers;
    options.blocking_threads = config.http.blocking_threads;
    options.max_header_bytes = config.http.max_header_bytes;
    options.max_connections = config.http.max_connections;
    options.header_timeout = config.http.header_timeout;
    options.body_timeout = config.http.body_timeout;
    options.idle_timeout = config.http.idle_timeout;
    options.write_timeout = config.http.write_timeout;
    options.access_log = config.log.access;
    options.tls_cert_file = config.tls.cert_file;
    options.tls_key_file = config.tls.key_file;
    options.tls_min_version_13 = config.is_production();
    options.live = &live;
    auto server = api::Server::start(options, dispatcher);
    if (!server) {
        core::log::error("cannot start the HTTP server", {{"error", server.error().detail}});
        maintenance.stop();
        graph_upkeep.stop();
        if (syslog) {
            syslog->stop();
        }
        if (kafka_consumer) {
            kafka_consumer->stop();
        }
        pipeline.stop();
        report_service.stop();
        health.stop();
        (*audit_log)->flush();
        (*store)->close();
        return fail(server.error().detail);
    }
    http_port = (*server)->port();
    const std::string scheme = config.tls.cert_file.empty() ? "http" : "https";
    core::log::info("listening", {{"address", config.http.host},
                                  {"port", (*server)->port()},
                                  {"tls", !config.tls.cert_file.empty()},
                                  {"url", scheme + "://" + config.http.host + ":" + std::to_string((*server)->port())}});
    core::log::flush();

    int sig = 0;
    sigwait(&signals, &sig);
    core::log::info("shutting down", {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"},
                                      {"grace_ms", config.http.shutdown_grace.count()}});
    (*server)->shutdown(config.http.shutdown_grace);
    if (syslog) {
        syslog->stop();
    }
    if (kafka_consumer) {
        kafka_consumer->stop();  // waits for its batches' store commits, then commits their offsets
    }
    pipeline.stop();  // commits everything still queued
    auto_train.stop();
    training.stop();
    if (auto r = parse_stage.save(); !r) {
        core::log::warn("saving log templates failed", {{"error", r.error().detail}});
    }
    if (influx) {
        influx->stop();
    }
    alert_manager.stop();  // stores the detections of those last batches
    graph_upkeep.stop();
    (void)graph.flush_discovered(core::now_unix_ms());
    if (auto r = graph.save_snapshot(core::now_unix_ms()); !r) {
        core::log::warn("graph snapshot failed", {{"error", r.error().detail}});
    }
    if (kafka_producer) {
        kafka_producer->flush(std::chrono::milliseconds(config.kafka.message_timeout_ms));  // the last alerts
    }
    remediation.stop();
    report_service.stop();  // finishes the report being built
    maintenance.stop();
    (*auth)->flush_usage();
    (*audit_log)->flush();
    health.stop();
    (*store)->close();
    core::log::info("stopped");
    return 0;
}

}  // namespace sai::app
