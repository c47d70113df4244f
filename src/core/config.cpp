#include "core/config.hpp"

#include <toml++/toml.h>

#include <charconv>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace sai::core {
namespace {

using Setter = std::function<Result<void>(Config&, std::string_view)>;

struct KeySpec {
    std::string key;
    std::string env;
    std::string description;
    Setter set;
};

Error bad(std::string what) { return make_error(Errc::InvalidArgument, std::move(what)); }

template <class T>
Setter integer(std::function<T&(Config&)> field, std::int64_t min, std::int64_t max) {
    return [field, min, max](Config& c, std::string_view v) -> Result<void> {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
            return bad("expected an integer from " + std::to_string(min) + " to " + std::to_string(max) + ", got '" +
                       std::string(v) + "'");
        }
        field(c) = static_cast<T>(n);
        return {};
    };
}

Setter millis(std::function<std::chrono::milliseconds&(Config&)> field, std::int64_t min, std::int64_t max) {
    return [field, min, max](Config& c, std::string_view v) -> Result<void> {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
            return bad("expected milliseconds from " + std::to_string(min) + " to " + std::to_string(max) +
                       ", got '" + std::string(v) + "'");
        }
        field(c) = std::chrono::milliseconds(n);
        return {};
    };
}

Setter real(std::function<double&(Config&)> field, double min, double max) {
    return [field, min, max](Config& c, std::string_view v) -> Result<void> {
        double n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || end != v.data() + v.size() || !(n >= min && n <= max)) {
            return bad("expected a number from " + std::to_string(min) + " to " + std::to_string(max) + ", got '" +
                       std::string(v) + "'");
        }
        field(c) = n;
        return {};
    };
}

Setter text(std::function<std::string&(Config&)> field, bool allow_empty = true) {
    return [field, allow_empty](Config& c, std::string_view v) -> Result<void> {
        if (!allow_empty && v.empty()) {
            return bad("must not be empty");
        }
        field(c) = std::string(v);
        return {};
    };
}

Setter one_of(std::function<std::string&(Config&)> field, std::vector<std::string> allowed) {
    return [field, allowed](Config& c, std::string_view v) -> Result<void> {
        for (const auto& a : allowed) {
            if (a == v) {
                field(c) = a;
                return {};
            }
        }
        std::string list;
        for (const auto& a : allowed) {
            list += (list.empty() ? "" : ", ") + a;
        }
        return bad("expected one of " + list + ", got '" + std::string(v) + "'");
    };
}

Setter seconds(std::function<std::chrono::seconds&(Config&)> field, std::int64_t min, std::int64_t max) {
    return [field, min, max](Config& c, std::string_view v) -> Result<void> {
        std::int64_t n = 0;
        auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc{} || end != v.data() + v.size() || n < min || n > max) {
            return bad("expected seconds from " + std::to_string(min) + " to " + std::to_string(max) + ", got '" +
                       std::string(v) + "'");
        }
        field(c) = std::chrono::seconds(n);
        return {};
    };
}

Setter boolean(std::function<bool&(Config&)> field) {
    return [field](Config& c, std::string_view v) -> Result<void> {
        if (v == "true" || v == "1" || v == "yes" || v == "on") {
            field(c) = true;
        } else if (v == "false" || v == "0" || v == "no" || v == "off") {
            field(c) = false;
        } else {
            return bad("expected true or false, got '" + std::string(v) + "'");
        }
        return {};
    };
}

Setter list(std::function<std::vector<std::string>&(Config&)> field) {
    return [field](Config& c, std::string_view v) -> Result<void> {
        std::vector<std::string> items;
        std::size_t start = 0;
        while (start <= v.size()) {
            const std::size_t comma = v.find(',', start);
            std::string_view item = v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
            while (!item.empty() && item.front() == ' ') {
                item.remove_prefix(1);
            }
            while (!item.empty() && item.back() == ' ') {
                item.remove_suffix(1);
            }
            if (!item.empty()) {
                items.emplace_back(item);
            }
            if (comma == std::string_view::npos) {
                break;
            }
            start = comma + 1;
        }
        field(c) = std::move(items);
        return {};
    };
}

const std::vector<KeySpec>& specs() {
    static const std::vector<KeySpec> kSpecs = {
        {"environment", "ENVIRONMENT", "development, staging, production or test",
         one_of([](Config& c) -> std::string& { return c.environment; },
                {"development", "staging", "production", "test"})},
        {"secret_key", "SECRET_KEY", "key that signs tokens; at least 32 bytes in production",
         text([](Config& c) -> std::string& { return c.secret_key; }, false)},
        {"data_dir", "DATA_DIR", "directory of the embedded store",
         text([](Config& c) -> std::string& { return c.data_dir; }, false)},
        {"log.level", "LOG_LEVEL", "debug, info, warn, error or off",
         one_of([](Config& c) -> std::string& { return c.log.level; },
                {"debug", "info", "warn", "error", "off"})},
        {"log.file", "LOG_FILE", "write logs to this file instead of stdout",
         text([](Config& c) -> std::string& { return c.log.file; })},
        {"log.access", "ACCESS_LOG", "one JSON line per HTTP request (true/false)",
         boolean([](Config& c) -> bool& { return c.log.access; })},
        {"http.host", "HOST", "address to listen on",
         text([](Config& c) -> std::string& { return c.http.host; }, false)},
        {"http.port", "PORT", "TCP port (0 picks a free one)",
         integer<std::uint16_t>([](Config& c) -> std::uint16_t& { return c.http.port; }, 0, 65535)},
        {"http.workers", "WORKERS", "I/O threads; 0 means one per core",
         integer<int>([](Config& c) -> int& { return c.http.workers; }, 0, 256)},
        {"http.blocking_threads", "BLOCKING_THREADS",
         "threads for handlers that block (store, password hashing, waiting for ingest commits)",
         integer<int>([](Config& c) -> int& { return c.http.blocking_threads; }, 1, 1024)},
        {"http.behind_tls_proxy", "BEHIND_TLS_PROXY",
         "production may listen without TLS on a non-loopback address because a TLS-terminating proxy is the only way in",
         boolean([](Config& c) -> bool& { return c.http.behind_tls_proxy; })},
        {"http.max_body_bytes", "MAX_BODY_BYTES", "default request body limit",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.http.max_body_bytes; }, 1024,
                              std::int64_t{1} << 30)},
        {"http.max_header_bytes", "", "limit on the request line plus headers",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.http.max_header_bytes; }, 1024, 1 << 20)},
        {"http.max_connections", "MAX_CONNECTIONS", "open connections beyond this are refused",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.http.max_connections; }, 1, 1'000'000)},
        {"http.header_timeout_ms", "", "time allowed from a request's first byte to its last header",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.http.header_timeout; }, 100, 600'000)},
        {"http.body_timeout_ms", "", "time allowed to receive a request body",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.http.body_timeout; }, 100, 3'600'000)},
        {"http.idle_timeout_ms", "", "keep-alive connections idle this long are closed",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.http.idle_timeout; }, 100, 3'600'000)},
        {"http.write_timeout_ms", "", "time allowed to send a response",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.http.write_timeout; }, 100, 3'600'000)},
        {"http.shutdown_grace_ms", "SHUTDOWN_GRACE_MS", "how long in-flight requests may finish at shutdown",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.http.shutdown_grace; }, 0, 600'000)},
        {"http.cors_origins", "CORS_ORIGINS", "allowed browser origins, comma-separated (\"*\" for any)",
         list([](Config& c) -> std::vector<std::string>& { return c.http.cors_origins; })},
        {"storage.sqlite_synchronous", "SQLITE_SYNCHRONOUS",
         "full (durable across power loss) or normal (across process crashes)",
         one_of([](Config& c) -> std::string& { return c.storage.sqlite_synchronous; }, {"full", "normal"})},
        {"storage.read_connections", "", "SQLite reader connections",
         integer<int>([](Config& c) -> int& { return c.storage.read_connections; }, 1, 64)},
        {"storage.busy_timeout_ms", "", "how long a store call waits for a lock",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.storage.busy_timeout; }, 0, 600'000)},
        {"storage.postgres_url", "POSTGRES_URL",
         "PostgreSQL connection URL; when set, PostgreSQL is the store instead of SQLite (data_dir still holds files)",
         text([](Config& c) -> std::string& { return c.storage.postgres_url; })},
        {"storage.postgres_pool_size", "POSTGRES_POOL_SIZE", "PostgreSQL connections per process at most",
         integer<int>([](Config& c) -> int& { return c.storage.postgres_pool_size; }, 1, 256)},
        {"storage.postgres_acquire_timeout_ms", "", "how long a store call waits for a free PostgreSQL connection",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.storage.postgres_acquire_timeout; }, 1,
                600'000)},
        {"storage.postgres_connect_timeout_s", "", "PostgreSQL connect timeout (seconds)",
         seconds([](Config& c) -> std::chrono::seconds& { return c.storage.postgres_connect_timeout; }, 1, 300)},
        {"storage.postgres_statement_timeout_ms", "", "PostgreSQL statement_timeout for every statement",
         millis([](Config& c) -> std::chrono::milliseconds& { return c.storage.postgres_statement_timeout; }, 1,
                3'600'000)},
        {"auth.data_encryption_key", "DATA_ENCRYPTION_KEY",
         "32-byte key (hex or base64url) for secrets at rest; derived from secret_key when unset",
         text([](Config& c) -> std::string& { return c.auth.data_encryption_key; })},
        {"auth.access_token_ttl_s", "", "access token lifetime (seconds)",
         seconds([](Config& c) -> std::chrono::seconds& { return c.auth.access_token_ttl; }, 60, 24 * 3600)},
        {"auth.refresh_token_ttl_s", "", "refresh token lifetime (seconds)",
         seconds([](Config& c) -> std::chrono::seconds& { return c.auth.refresh_token_ttl; }, 300, 90 * 24 * 3600)},
        {"auth.issuer", "", "JWT iss claim", text([](Config& c) -> std::string& { return c.auth.issuer; }, false)},
        {"auth.audience", "", "JWT aud claim", text([](Config& c) -> std::string& { return c.auth.audience; }, false)},
        {"auth.rate_limit_per_minute", "RATE_LIMIT_PER_MINUTE", "API requests per minute per user/key/IP (0: off)",
         integer<int>([](Config& c) -> int& { return c.auth.rate_limit_per_minute; }, 0, 10'000'000)},
        {"auth.rate_limit_ingest_per_minute", "RATE_LIMIT_INGEST_PER_MINUTE",
         "ingest requests per minute per user/key/IP (0: off)",
         integer<int>([](Config& c) -> int& { return c.auth.rate_limit_ingest_per_minute; }, 0, 10'000'000)},
        {"tls.cert_file", "TLS_CERT_FILE", "PEM certificate chain; with tls.key_file, serve HTTPS",
         text([](Config& c) -> std::string& { return c.tls.cert_file; })},
        {"tls.key_file", "TLS_KEY_FILE", "PEM private key", text([](Config& c) -> std::string& { return c.tls.key_file; })},
        {"syslog.host", "SYSLOG_HOST", "syslog listen address (default: http.host)",
         text([](Config& c) -> std::string& { return c.syslog.host; })},
        {"syslog.port", "SYSLOG_PORT", "syslog UDP and TCP port (0 picks a free one)",
         integer<std::uint16_t>([](Config& c) -> std::uint16_t& { return c.syslog.port; }, 0, 65535)},
        {"syslog.udp", "SYSLOG_UDP", "listen for syslog over UDP (true/false)",
         boolean([](Config& c) -> bool& { return c.syslog.udp; })},
        {"syslog.tcp", "SYSLOG_TCP", "listen for syslog over TCP (true/false)",
         boolean([](Config& c) -> bool& { return c.syslog.tcp; })},
        {"pipeline.queue_capacity", "INGEST_QUEUE_CAPACITY", "events waiting to be committed, at most",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.pipeline.queue_capacity; }, 1000, 10'000'000)},
        {"pipeline.max_batch", "", "events per group-commit transaction",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.pipeline.max_batch; }, 1, 100'000)},
        {"pipeline.retention_days", "RETENTION_DAYS", "delete events older than this many days (0: never)",
         integer<int>([](Config& c) -> int& { return c.pipeline.retention_days; }, 0, 36'500)},
        {"metrics.token", "METRICS_TOKEN", "bearer token Prometheus must send to scrape /metrics (unset: address check)",
         text([](Config& c) -> std::string& { return c.metrics.token; })},
        {"metrics.allow", "METRICS_ALLOW",
         "addresses or CIDR blocks allowed to scrape /metrics without a token, comma-separated",
         list([](Config& c) -> std::vector<std::string>& { return c.metrics.allow; })},
        {"influxdb.url", "INFLUXDB_URL", "InfluxDB to export metrics and per-minute event counts to (unset: none)",
         text([](Config& c) -> std::string& { return c.influxdb.url; })},
        {"influxdb.token", "INFLUXDB_TOKEN", "InfluxDB API token (2.x) or user:password (1.x with auth)",
         text([](Config& c) -> std::string& { return c.influxdb.token; })},
        {"influxdb.org", "INFLUXDB_ORG", "InfluxDB 2.x organisation",
         text([](Config& c) -> std::string& { return c.influxdb.org; })},
        {"influxdb.bucket", "INFLUXDB_BUCKET", "InfluxDB 2.x bucket (set: use the 2.x API)",
         text([](Config& c) -> std::string& { return c.influxdb.bucket; })},
        {"influxdb.database", "INFLUXDB_DATABASE", "InfluxDB 1.x database (created when missing)",
         text([](Config& c) -> std::string& { return c.influxdb.database; }, false)},
        {"influxdb.interval_s", "INFLUXDB_INTERVAL_S", "seconds between writes to InfluxDB",
         integer<int>([](Config& c) -> int& { return c.influxdb.interval_s; }, 1, 3600)},
        {"redis.url", "REDIS_URL",
         "Redis shared by the nodes: rate limits, token revocations, live fan-out (unset: none)",
         text([](Config& c) -> std::string& { return c.redis.url; })},
        {"redis.timeout_ms", "REDIS_TIMEOUT_MS", "connect and command timeout of Redis calls, milliseconds",
         integer<int>([](Config& c) -> int& { return c.redis.timeout_ms; }, 10, 5000)},
        {"redis.key_prefix", "REDIS_KEY_PREFIX", "prefix of the Redis keys and channels of this deployment",
         text([](Config& c) -> std::string& { return c.redis.key_prefix; }, false)},
        {"redis.cache_ttl_s", "REDIS_CACHE_TTL_S",
         "seconds the shared cache keeps hot read responses (the alert summary); 0: no cache",
         integer<int>([](Config& c) -> int& { return c.redis.cache_ttl_s; }, 0, 3600)},
        {"kafka.bootstrap_servers", "KAFKA_BOOTSTRAP_SERVERS",
         "Kafka brokers, host:port comma-separated (set: ingestion goes through the raw-events topic)",
         text([](Config& c) -> std::string& { return c.kafka.bootstrap_servers; })},
        {"kafka.raw_topic", "KAFKA_RAW_TOPIC", "topic of raw ingested events",
         text([](Config& c) -> std::string& { return c.kafka.raw_topic; }, false)},
        {"kafka.alerts_topic", "KAFKA_ALERTS_TOPIC", "topic alert changes are published to (empty: none)",
         text([](Config& c) -> std::string& { return c.kafka.alerts_topic; })},
        {"kafka.group_id", "KAFKA_GROUP_ID", "consumer group of the pipeline workers",
         text([](Config& c) -> std::string& { return c.kafka.group_id; }, false)},
        {"kafka.message_timeout_ms", "KAFKA_MESSAGE_TIMEOUT_MS",
         "a produced event is acknowledged by the brokers or failed (HTTP 503) within this many ms",
         integer<int>([](Config& c) -> int& { return c.kafka.message_timeout_ms; }, 1000, 300'000)},
        {"kafka.max_in_flight", "KAFKA_MAX_IN_FLIGHT", "produced events waiting for their acknowledgement, at most",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.kafka.max_in_flight; }, 1000, 10'000'000)},
        {"kafka.session_timeout_ms", "KAFKA_SESSION_TIMEOUT_MS", "consumer-group session timeout in ms",
         integer<int>([](Config& c) -> int& { return c.kafka.session_timeout_ms; }, 1000, 300'000)},
        {"kafka.consumer_max_batch", "", "consumed events per pipeline batch",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.kafka.consumer_max_batch; }, 1, 100'000)},
        {"detection.builtin_rules", "DETECTION_BUILTIN_RULES", "load the built-in Sigma rule pack (true/false)",
         boolean([](Config& c) -> bool& { return c.detection.builtin_rules; })},
        {"detection.rules_dirs", "DETECTION_RULES_DIRS", "more Sigma rule directories, comma-separated",
         list([](Config& c) -> std::vector<std::string>& { return c.detection.rules_dirs; })},
        {"detection.reload_interval_s", "", "seconds between checks of the rule files for changes",
         integer<int>([](Config& c) -> int& { return c.detection.reload_interval_s; }, 1, 3600)},
        {"alerts.dedup_window_minutes", "ALERT_DEDUP_WINDOW_MINUTES",
         "detections of the same rule and entity within this many minutes of an open alert update it",
         integer<int>([](Config& c) -> int& { return c.alerts.dedup_window_minutes; }, 1, 30 * 24 * 60)},
        {"reports.retention_days", "REPORT_RETENTION_DAYS", "delete generated reports older than this many days (0: never)",
         integer<int>([](Config& c) -> int& { return c.reports.retention_days; }, 0, 36'500)},
        {"ml.enabled", "ML_ENABLED", "score ingested events with the active models (true/false)",
         boolean([](Config& c) -> bool& { return c.ml.enabled; })},
        {"ml.auto_train_events", "ML_AUTO_TRAIN_EVENTS",
         "with no anomaly detector, train one automatically once this many events are stored (0: never)",
         integer<std::uint64_t>([](Config& c) -> std::uint64_t& { return c.ml.auto_train_events; }, 0, 100'000'000)},
        {"ml.anomaly_alert_threshold", "ML_ANOMALY_ALERT_THRESHOLD",
         "anomaly score above which an ml.anomaly alert is raised (0: the model's contamination threshold)",
         real([](Config& c) -> double& { return c.ml.anomaly_alert_threshold; }, 0, 1)},
        {"ml.promotion_tolerance", "ML_PROMOTION_TOLERANCE",
         "how much lower a retrained model's holdout metric may be and still replace the active model",
         real([](Config& c) -> double& { return c.ml.promotion_tolerance; }, 0, 1)},
        {"ml.min_labelled_events", "ML_MIN_LABELLED_EVENTS",
         "events labelled by alert verdicts the threat classifier needs to train",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.ml.min_labelled_events; }, 2, 10'000'000)},
        {"ml.max_training_events", "ML_MAX_TRAINING_EVENTS", "events one training job reads, at most (the newest)",
         integer<std::size_t>([](Config& c) -> std::size_t& { return c.ml.max_training_events; }, 100, 10'000'000)},
    };
    return kSpecs;
}

const KeySpec* find_spec(std::string_view key) {
    for (const auto& s : specs()) {
        if (s.key == key) {
            return &s;
        }
    }
    return nullptr;
}

Result<void> apply(Config& config, std::string_view key, std::string_view value, const std::string& source) {
    const KeySpec* spec = find_spec(key);
    if (!spec) {
        return bad(source + ": unknown configuration key '" + std::string(key) + "'");
    }
    if (auto r = spec->set(config, value); !r) {
        return bad(source + ": " + spec->key + ": " + r.error().detail);
    }
    return {};
}

// Flattens a TOML value into the text form the setters parse.
std::optional<std::string> toml_text(const toml::node& node) {
    if (auto s = node.as_string()) {
        return s->get();
    }
    if (auto i = node.as_integer()) {
        return std::to_string(i->get());
    }
    if (auto b = node.as_boolean()) {
        return std::string(b->get() ? "true" : "false");
    }
    if (auto f = node.as_floating_point()) {
        char buf[64];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f->get());
        return ec == std::errc{} ? std::optional<std::string>(std::string(buf, end)) : std::nullopt;
    }
    if (auto a = node.as_array()) {
        std::string joined;
        for (const auto& item : *a) {
            auto s = item.as_string();
            if (!s || s->get().find(',') != std::string::npos) {
                return std::nullopt;
            }
            joined += (joined.empty() ? "" : ",") + s->get();
        }
        return joined;
    }
    return std::nullopt;
}

// Tables that subsystems read from the file themselves (structured, arrays of tables).
bool owned_elsewhere(std::string_view key) {
    for (std::string_view owned : kSubsystemTables) {
        if (key == owned || (key.starts_with(owned) && key[owned.size()] == '.')) {
            return true;
        }
    }
    return false;
}

Result<void> apply_table(Config& config, const toml::table& table, const std::string& prefix,
                         const std::string& file) {
    for (const auto& [k, node] : table) {
        const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
        if (owned_elsewhere(key)) {
            continue;
        }
        if (auto sub = node.as_table()) {
            if (auto r = apply_table(config, *sub, key, file); !r) {
                return r;
            }
            continue;
        }
        auto value = toml_text(node);
        if (!value) {
            return bad("config file " + file + ": " + key + ": unsupported value type");
        }
        if (auto r = apply(config, key, *value, "config file " + file); !r) {
            return r;
        }
    }
    return {};
}

}  // namespace

std::optional<std::string> process_env(const std::string& name) {
    if (const char* v = std::getenv(name.c_str())) {
        return std::string(v);
    }
    return std::nullopt;
}

Result<Config> load_config(const ConfigSources& sources) {
    Config config;
    if (sources.file) {
        toml::table table;
        try {
            table = toml::parse_file(*sources.file);
        } catch (const toml::parse_error& err) {
            std::ostringstream where;
            where << "config file " << *sources.file << ":" << err.source().begin.line << ":"
                  << err.source().begin.column << ": " << err.description();
            return bad(where.str());
        }
        if (auto r = apply_table(config, table, "", *sources.file); !r) {
            return r.error();
        }
        config.config_file = *sources.file;
    }
    if (sources.env) {
        for (const auto& spec : specs()) {
            if (spec.env.empty()) {
                continue;
            }
            if (auto value = sources.env(spec.env)) {
                if (auto r = apply(config, spec.key, *value, "environment variable " + spec.env); !r) {
                    return r.error();
                }
            }
        }
    }
    for (const auto& [key, value] : sources.overrides) {
        if (auto r = apply(config, key, value, "command line"); !r) {
            return r.error();
        }
    }
    if (config.tls.cert_file.empty() != config.tls.key_file.empty()) {
        return bad("tls: set both tls.cert_file (TLS_CERT_FILE) and tls.key_file (TLS_KEY_FILE), or neither");
    }
    if (config.is_production()) {
        if (config.secret_key == kDefaultSecretKey) {
            return bad("secret_key: the default SECRET_KEY is not allowed in production; set SECRET_KEY to a random "
                       "value of at least 32 bytes");
        }
        if (config.secret_key.size() < 32) {
            return bad("secret_key: SECRET_KEY must be at least 32 bytes in production (got " +
                       std::to_string(config.secret_key.size()) + ")");
        }
        if (config.tls.cert_file.empty() && !config.http.behind_tls_proxy && config.http.host != "127.0.0.1" &&
            config.http.host != "localhost" && config.http.host != "::1") {
            // Tokens must not cross a network in clear text. Behind a TLS-terminating
            // proxy, listen on loopback (or set TLS_CERT_FILE/TLS_KEY_FILE).
            return bad("http.host: production listens on a non-loopback address without TLS; set TLS_CERT_FILE and "
                       "TLS_KEY_FILE, listen on 127.0.0.1 behind a TLS-terminating proxy, or set BEHIND_TLS_PROXY=true "
                       "when a TLS-terminating proxy or service mesh is the only way to reach this address");
        }
        for (const auto& origin : config.http.cors_origins) {
            if (origin == "*") {
                return bad("http.cors_origins: \"*\" is not allowed in production; list the origins");
            }
        }
    }
    return config;
}

std::vector<ConfigKeyInfo> config_keys() {
    std::vector<ConfigKeyInfo> out;
    for (const auto& s : specs()) {
        out.push_back({s.key, s.env, s.description});
    }
    return out;
}

}  // namespace sai::core
