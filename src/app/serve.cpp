// `securityai serve`: wires configuration, store, services, routes and the server.

#include "alerts/alert_manager.hpp"
#include "alerts/remediation.hpp"
#include "api/alert_routes.hpp"
#include "api/auth_routes.hpp"
#include "api/dispatcher.hpp"
#include "api/event_routes.hpp"
#include "api/graph_routes.hpp"
#include "api/live_routes.hpp"
#include "api/metrics_routes.hpp"
#include "api/syslog_server.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "api/system_routes.hpp"
#include "app.hpp"
#include "auth/audit_log.hpp"
#include "auth/auth_service.hpp"
#include "core/health.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "core/periodic.hpp"
#include "core/time.hpp"
#include "graph/geoip.hpp"
#include "graph/graph_service.hpp"
#include "model/event.hpp"
#include "pipeline/pipeline.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <mutex>
#include <pthread.h>

namespace sai::app {
namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(core::Clock::now().time_since_epoch()).count();
}

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
                                            {"storage", "sqlite"}});
    if (config.secret_key == core::kDefaultSecretKey) {
        core::log::warn("SECRET_KEY is the built-in development default; set SECRET_KEY before exposing this server");
    }

    auto store = storage::SqliteStore::open(sqlite_options(config, true));
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
    auto limiter = auth::make_memory_rate_limiter();

    core::HealthMonitor health;
    health.add_check("storage", [s = store->get()] { return s->check_health(); });
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
    pipeline.add_stage(std::make_unique<GraphStage>(graph, alert_manager));
    pipeline.start();

    std::unique_ptr<api::SyslogServer> syslog;
    if (config.syslog.udp || config.syslog.tcp) {
        api::SyslogOptions syslog_options;
        syslog_options.host = config.syslog.host.empty() ? config.http.host : config.syslog.host;
        syslog_options.port = config.syslog.port;
        syslog_options.udp = config.syslog.udp;
        syslog_options.tcp = config.syslog.tcp;
        auto started = api::SyslogServer::start(syslog_options, pipeline);
        if (!started) {
            core::log::error("cannot start the syslog listeners", {{"error", started.error().detail}});
            pipeline.stop();
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
    api::add_event_routes(router, monitor);
    api::add_live_routes(router);
    api::HubLiveService live(hub, pipeline);
    api::AlertServices alert_services{**store, alert_manager, remediation};
    api::add_alert_routes(router, alert_services);
    alert_manager.add_listener([&live](const std::vector<alerts::AlertUpdate>& u) { live.push_alerts(u); });
    alert_manager.add_listener([&remediation](const std::vector<alerts::AlertUpdate>& u) { remediation.on_alerts(u); });
    alert_manager.add_listener([&graph](const std::vector<alerts::AlertUpdate>& u) {
        std::vector<model::Alert> changed;
        changed.reserve(u.size());
        for (const auto& x : u) changed.push_back(x.alert);
        graph.on_alerts(changed);
    });
    api::add_graph_routes(router, graph);
    alert_manager.start();
    remediation.start();

    for (const auto& cidr : config.metrics.allow) {
        if (!model::cidr_range(cidr)) {
            return fail("metrics.allow: '" + cidr + "' is not an address or CIDR block");
        }
    }
    api::MetricsServices metrics_services{**store, config.data_dir, std::chrono::steady_clock::now(),
                                          {config.metrics.token, config.metrics.allow}, {}};
    api::add_metrics_routes(router, metrics_services);
    add_metric_collectors(**store, pipeline, syslog.get(), alert_manager, live, graph);
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
        const auto now = wall_ms();
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
    core::Periodic maintenance(std::chrono::seconds(10), [a = auth->get(), s = store->get(), &config] {
        a->flush_usage();
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
        pipeline.stop();
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
    pipeline.stop();  // commits everything still queued
    alert_manager.stop();  // stores the detections of those last batches
    graph_upkeep.stop();
    (void)graph.flush_discovered(wall_ms());
    if (auto r = graph.save_snapshot(wall_ms()); !r) {
        core::log::warn("graph snapshot failed", {{"error", r.error().detail}});
    }
    remediation.stop();
    maintenance.stop();
    (*auth)->flush_usage();
    (*audit_log)->flush();
    health.stop();
    (*store)->close();
    core::log::info("stopped");
    return 0;
}

}  // namespace sai::app
