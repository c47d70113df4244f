#pragma once
// The server's configuration and how it is assembled. Precedence, lowest first:
// built-in defaults < TOML file (--config) < environment variables < command-line flags.
// Every key has a dotted name (the TOML path, e.g. "http.port"); most also have
// the environment variable users know (PORT). See docs/configuration.md.

#include "core/error.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sai::core {

inline constexpr std::string_view kDefaultSecretKey = "insecure-development-secret-change-me";
inline constexpr std::string_view kVersion = SAI_VERSION;

struct HttpConfig {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8000;
    int workers = 0;  // 0: one per core
    int blocking_threads = 16;  // store, password hashing, ingest commits waiting
    std::size_t max_body_bytes = 1 << 20;
    std::size_t max_header_bytes = 16 << 10;
    std::size_t max_connections = 10000;
    std::chrono::milliseconds header_timeout{10'000};  // from the first byte of a request to its last header
    std::chrono::milliseconds body_timeout{30'000};
    std::chrono::milliseconds idle_timeout{60'000};  // between requests on a keep-alive connection
    std::chrono::milliseconds write_timeout{30'000};
    std::chrono::milliseconds shutdown_grace{10'000};  // how long in-flight requests may finish
    std::vector<std::string> cors_origins;             // "*" allows any origin
    // Production on a non-loopback address without TLS is refused unless the operator
    // states that a TLS-terminating proxy or mesh is the only way in (containers).
    bool behind_tls_proxy = false;
};

struct StorageConfig {
    std::string sqlite_synchronous = "full";  // full: durable across power loss; normal: across crashes
    int read_connections = 4;
    std::chrono::milliseconds busy_timeout{5'000};
    // PostgreSQL (scale-out): used instead of SQLite when the URL is set.
    std::string postgres_url;  // libpq URI or key=value string; may hold a password: never logged
    int postgres_pool_size = 8;
    std::chrono::milliseconds postgres_acquire_timeout{5'000};
    std::chrono::seconds postgres_connect_timeout{5};
    std::chrono::milliseconds postgres_statement_timeout{30'000};
};

struct AuthConfig {
    std::string data_encryption_key;  // empty: derived from secret_key
    std::chrono::seconds access_token_ttl{1800};
    std::chrono::seconds refresh_token_ttl{7 * 24 * 3600};
    std::string issuer = "securityai";
    std::string audience = "securityai-api";
    int rate_limit_per_minute = 100;           // 0 disables
    int rate_limit_ingest_per_minute = 6000;   // 0 disables
};

struct TlsConfig {
    std::string cert_file;  // both set: serve HTTPS
    std::string key_file;
};

struct SyslogConfig {
    std::string host;  // empty: the HTTP host
    std::uint16_t port = 5514;
    bool udp = true;
    bool tcp = true;
};

struct PipelineConfig {
    std::size_t queue_capacity = 200'000;
    std::size_t max_batch = 8000;  // see pipeline::PipelineOptions
    int retention_days = 90;  // 0 keeps events forever
};

struct MetricsConfig {
    std::string token;  // when set, /metrics needs "Authorization: Bearer <token>"
    std::vector<std::string> allow = {"127.0.0.0/8", "::1"};  // without a token: who may scrape
};

struct InfluxConfig {
    std::string url;  // empty: no export
    std::string token;
    std::string org;
    std::string bucket;  // set: the 2.x API
    std::string database = "securityai";
    int interval_s = 10;
};

struct RedisConfig {
    std::string url;  // empty: no Redis (everything local to this node)
    int timeout_ms = 250;  // connect and command timeout of every Redis call
    std::string key_prefix = "sai:";  // keys and channels; nodes of one deployment share it
    int cache_ttl_s = 5;  // shared cache of hot read endpoints; 0: off
};

struct KafkaConfig {
    std::string bootstrap_servers;  // empty: no Kafka (ingestion goes straight to the pipeline)
    std::string raw_topic = "securityai.events.raw";
    std::string alerts_topic = "securityai.alerts";  // empty: alerts are not published
    std::string group_id = "securityai";
    int message_timeout_ms = 10'000;   // a produce is acknowledged or failed within this
    std::size_t max_in_flight = 100'000;  // produced messages waiting for their acknowledgement
    int session_timeout_ms = 10'000;   // consumer-group session timeout
    std::size_t consumer_max_batch = 2000;  // messages per pipeline batch
};

struct DetectionConfig {
    bool builtin_rules = true;            // load the rule pack shipped with SecurityAI (rules/)
    std::vector<std::string> rules_dirs;  // more Sigma rule directories (e.g. a SigmaHQ checkout)
    int reload_interval_s = 5;            // how often rule files are checked for changes
};

struct AlertsConfig {
    int dedup_window_minutes = 60;
};

struct MlConfig {
    bool enabled = true;                    // score events with the active models
    std::uint64_t auto_train_events = 10'000;  // first anomaly-detector training after this many stored events (0: never)
    double anomaly_alert_threshold = 0;     // ml.anomaly fires above this score; 0: the model's contamination threshold
    double promotion_tolerance = 0.01;      // a retrained model may be this much worse on a metric and still replace
    std::size_t min_labelled_events = 50;   // analyst-labelled events the threat classifier needs
    std::size_t max_training_events = 200'000;  // events a training job reads, at most (the newest of its window)
};

struct ReportsConfig {
    int retention_days = 30;  // 0 keeps generated reports forever
};

/// Sections of the configuration file that their subsystems parse themselves
/// (structured tables such as [[alerts.playbooks]]); load_config() skips them.
inline constexpr std::string_view kSubsystemTables[] = {"alerts.remediation", "alerts.targets", "alerts.playbooks",
                                                         "alerts.routes", "parser"};

struct LogConfig {
    std::string level = "info";
    std::string file;  // empty: stdout
    bool access = true;
};

struct Config {
    std::string environment = "development";
    std::string secret_key = std::string(kDefaultSecretKey);
    std::string data_dir = "./data";
    LogConfig log;
    HttpConfig http;
    StorageConfig storage;
    AuthConfig auth;
    TlsConfig tls;
    SyslogConfig syslog;
    PipelineConfig pipeline;
    AlertsConfig alerts;
    MetricsConfig metrics;
    InfluxConfig influxdb;
    RedisConfig redis;
    KafkaConfig kafka;
    DetectionConfig detection;
    ReportsConfig reports;
    MlConfig ml;
    std::string config_file;  // the TOML file read, if any (subsystems read their own tables from it)

    bool is_production() const { return environment == "production"; }
};

/// Where configuration comes from. `env` looks a variable up (std::getenv in
/// the binary, a map in tests); `overrides` are dotted keys from CLI flags.
struct ConfigSources {
    std::optional<std::string> file;
    std::function<std::optional<std::string>(const std::string&)> env;
    std::vector<std::pair<std::string, std::string>> overrides;
};

/// Builds and validates the configuration. Fails with InvalidArgument and a
/// message naming the offending key and its source.
Result<Config> load_config(const ConfigSources& sources);

/// The process environment, for ConfigSources::env.
std::optional<std::string> process_env(const std::string& name);

/// One documented key: its TOML name, its environment variable (may be empty)
/// and a one-line description (used by `securityai serve --help` and the docs).
struct ConfigKeyInfo {
    std::string key;
    std::string env;
    std::string description;
};
std::vector<ConfigKeyInfo> config_keys();

}  // namespace sai::core
