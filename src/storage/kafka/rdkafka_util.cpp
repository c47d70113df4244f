#include "rdkafka_util.hpp"

#include "core/log.hpp"

#include <exception>

namespace sai::storage::kafka::detail {
namespace {

// librdkafka calls these from its own threads: no exception may leave them.
void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) noexcept {
    try {
        const char* client = rk ? rd_kafka_name(rk) : "";
        // syslog levels: 0-3 errors, 4 warning, 5-6 notice/info, 7 debug.
        if (level <= 3) {
            core::log::error("kafka", {{"component", "kafka"}, {"client", client}, {"facility", fac}, {"detail", buf}});
        } else if (level == 4) {
            core::log::warn("kafka", {{"component", "kafka"}, {"client", client}, {"facility", fac}, {"detail", buf}});
        } else if (level <= 6) {
            core::log::info("kafka", {{"component", "kafka"}, {"client", client}, {"facility", fac}, {"detail", buf}});
        } else {
            core::log::debug("kafka", {{"component", "kafka"}, {"client", client}, {"facility", fac}, {"detail", buf}});
        }
    } catch (const std::exception&) {
        // Logging must not take the client down; there is nowhere else to report.
        return;
    }
}

void error_cb(rd_kafka_t* rk, int err, const char* reason, void*) noexcept {
    try {
        // Transport errors and "all brokers down" are transient: librdkafka retries.
        core::log::warn("kafka client error", {{"component", "kafka"},
                                               {"client", rd_kafka_name(rk)},
                                               {"error", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
                                               {"detail", reason}});
    } catch (const std::exception&) {
        return;
    }
}

}  // namespace

core::Result<void> set(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
    char err[512];
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        return core::make_error(core::Errc::InvalidArgument, "kafka property " + name + ": " + err);
    }
    return {};
}

core::Result<ConfPtr> base_conf(const KafkaOptions& options, const char* role) {
    if (options.bootstrap_servers.empty()) {
        return core::make_error(core::Errc::InvalidArgument, "kafka: no bootstrap servers");
    }
    ConfPtr conf(rd_kafka_conf_new());
    for (const auto& [name, value] : {
             std::pair<std::string, std::string>{"bootstrap.servers", options.bootstrap_servers},
             {"client.id", std::string("securityai-") + role},
             {"reconnect.backoff.max.ms", std::to_string(options.reconnect_backoff_max.count())},
             {"log.connection.close", "false"},
         }) {
        if (auto r = set(conf.get(), name, value); !r) {
            return r.error();
        }
    }
    rd_kafka_conf_set_log_cb(conf.get(), log_cb);
    rd_kafka_conf_set_error_cb(conf.get(), error_cb);
    return conf;
}

core::Result<void> apply_properties(rd_kafka_conf_t* conf, const KafkaOptions& options) {
    for (const auto& [name, value] : options.properties) {
        if (auto r = set(conf, name, value); !r) {
            return r;
        }
    }
    return {};
}

std::string error_text(rd_kafka_resp_err_t err) {
    return std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
}

}  // namespace sai::storage::kafka::detail
