#include "api/metrics_routes.hpp"

#include "core/crypto.hpp"
#include "core/metrics.hpp"
#include "core/time.hpp"
#include "json_util.hpp"
#include "model/event.hpp"
#include "model/json_write.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <dirent.h>
#include <fstream>
#include <mutex>
#include <sstream>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

bool allowed_address(const std::vector<std::string>& allow, const std::string& remote) {
    const std::string key = model::ip_sort_key(remote);
    if (key.empty()) return false;
    for (const auto& cidr : allow) {
        if (auto range = model::cidr_range(cidr); range && key >= range->first && key <= range->second) return true;
    }
    return false;
}

/// Total and idle jiffies of all CPUs, from the first line of /proc/stat.
std::pair<double, double> cpu_jiffies() {
    std::ifstream f("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    return {user + nice + system + idle + iowait + irq + softirq + steal, idle + iowait};
}

double process_cpu_seconds() {
    std::ifstream f("/proc/self/stat");
    std::string line;
    std::getline(f, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream rest(line.substr(close + 2));
    std::string tok;
    double utime = 0, stime = 0;
    for (int field = 3; rest >> tok && field <= 15; ++field) {
        if (field == 14) utime = std::atof(tok.c_str());
        if (field == 15) stime = std::atof(tok.c_str());
    }
    return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::int64_t meminfo_kb(const std::string& text, std::string_view key) {
    const auto p = text.find(std::string(key) + ":");
    if (p == std::string::npos) return 0;
    return std::atoll(text.c_str() + p + key.size() + 1);
}

std::int64_t status_kb(std::string_view key) {
    std::ifstream f("/proc/self/status");
    for (std::string l; std::getline(f, l);) {
        if (l.starts_with(key) && l.size() > key.size() && l[key.size()] == ':') return std::atoll(l.c_str() + key.size() + 1);
    }
    return 0;
}

bj::object top_json(const std::vector<storage::AlertSummary::Top>& top, bool with_label) {
    bj::array items;
    for (const auto& t : top) {
        bj::object o{{"key", t.key}, {"alerts", t.alerts}, {"detections", t.detections}};
        if (with_label) o["title"] = t.label;
        items.push_back(std::move(o));
    }
    return {{"items", std::move(items)}};
}

bj::value alert_metrics(storage::Store& store, std::int64_t from, std::int64_t to) {
    auto s = store.alerts().summary(from, to);
    if (!s) return nullptr;
    bj::array days;
    for (const auto& d : s->per_day) {
        days.push_back(bj::object{{"day", d.day}, {"low", d.low}, {"medium", d.medium}, {"high", d.high},
                                  {"critical", d.critical}, {"total", d.low + d.medium + d.high + d.critical}});
    }
    bj::object statuses;
    for (const auto& [k, v] : s->by_status) statuses[k] = v;
    bj::object tactics;
    for (const auto& [k, v] : s->tactics) tactics[k] = v;
    // Threat trend: the second half of the range against the first.
    std::int64_t first = 0, second = 0;
    const std::string mid = core::format_rfc3339_ms(from + (to - from) / 2).substr(0, 10);
    for (const auto& d : s->per_day) {
        (d.day < mid ? first : second) += d.low + d.medium + d.high + d.critical;
    }
    const char* trend = second > first * 5 / 4 ? "rising" : second * 5 / 4 < first ? "falling" : "steady";
    auto opt = [](const std::optional<double>& v) { return v ? bj::value(*v) : bj::value(nullptr); };
    return bj::object{{"from", core::format_rfc3339_ms(from)},
                      {"to", core::format_rfc3339_ms(to)},
                      {"alerts", s->alerts},
                      {"per_day", std::move(days)},
                      {"by_status", std::move(statuses)},
                      {"tactics", std::move(tactics)},
                      {"top_rules", top_json(s->top_rules, true).at("items")},
                      {"top_hosts", top_json(s->top_hosts, false).at("items")},
                      {"top_users", top_json(s->top_users, false).at("items")},
                      {"mtta_seconds", opt(s->mtta_seconds)},
                      {"mttr_seconds", opt(s->mttr_seconds)},
                      {"trend", bj::object{{"direction", trend}, {"first_half", first}, {"second_half", second}}}};
}

/// The alert summary, through the shared cache when there is one. Keyed by the
/// raw query (the range asked for): the body does not depend on the caller.
bj::value cached_alert_metrics(MetricsServices& services, const Request& r, std::int64_t from, std::int64_t to) {
    const std::string key = core::sha256_hex(r.query);
    if (services.cache) {
        if (auto hit = services.cache->get("alerts", key)) {
            boost::system::error_code ec;
            auto v = bj::parse(*hit, ec);
            if (!ec) return v;
        }
    }
    auto m = alert_metrics(services.store, from, to);
    if (services.cache && !m.is_null()) services.cache->put("alerts", key, model::to_json_text(m));
    return m;
}

core::Result<std::pair<std::int64_t, std::int64_t>> range_params(const Request& r) {
    auto from = json::time_param(r, "from");
    auto to = json::time_param(r, "to");
    if (!from) return from.error();
    if (!to) return to.error();
    const std::int64_t end = to->value_or(core::now_unix_ms());
    const std::int64_t begin = from->value_or(end - 30LL * 24 * 3600 * 1000);
    if (begin >= end) return make_error(Errc::InvalidArgument, "from must be before to");
    if (end - begin > 366LL * 24 * 3600 * 1000) return make_error(Errc::InvalidArgument, "the range is limited to 366 days");
    return std::pair{begin, end};
}

}  // namespace

std::string system_metrics_json(const std::string& data_dir, std::chrono::steady_clock::time_point started) {
    // CPU percentages over the interval since the previous call (the first call: since boot / start).
    static std::mutex mutex;
    static std::pair<double, double> last_jiffies{0, 0};
    static double last_process = 0;
    static auto last_wall = std::chrono::steady_clock::now();
    double system_pct = 0, process_pct = 0;
    {
        std::lock_guard lock(mutex);
        const auto j = cpu_jiffies();
        const double process = process_cpu_seconds();
        const auto wall = std::chrono::steady_clock::now();
        const double dt = j.first - last_jiffies.first;
        if (dt > 0) system_pct = 100.0 * (1.0 - (j.second - last_jiffies.second) / dt);
        const double wall_s = std::chrono::duration<double>(wall - last_wall).count();
        if (wall_s > 0.05) process_pct = 100.0 * (process - last_process) / wall_s;
        last_jiffies = j;
        last_process = process;
        last_wall = wall;
    }
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::ifstream mf("/proc/meminfo");
    std::stringstream mem;
    mem << mf.rdbuf();
    const std::string meminfo = mem.str();
    struct statvfs fs {};
    bj::value disk = nullptr;
    if (statvfs(data_dir.c_str(), &fs) == 0) {
        const double total = static_cast<double>(fs.f_blocks) * fs.f_frsize;
        const double avail = static_cast<double>(fs.f_bavail) * fs.f_frsize;
        disk = bj::object{{"path", data_dir},
                          {"total_bytes", total},
                          {"available_bytes", avail},
                          {"used_percent", total > 0 ? 100.0 * (total - avail) / total : 0.0}};
    }
    std::size_t fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++fds;
        closedir(d);
    }
    const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
    return model::to_json_text(bj::object{
        {"cpu", bj::object{{"system_percent", system_pct}, {"process_percent", process_pct},
                           {"cores", sysconf(_SC_NPROCESSORS_ONLN)}}},
        {"load_average", bj::array{load[0], load[1], load[2]}},
        {"memory", bj::object{{"total_bytes", meminfo_kb(meminfo, "MemTotal") * 1024},
                              {"available_bytes", meminfo_kb(meminfo, "MemAvailable") * 1024},
                              {"process_resident_bytes", status_kb("VmRSS") * 1024}}},
        {"disk", std::move(disk)},
        {"process", bj::object{{"uptime_seconds", uptime},
                               {"threads", status_kb("Threads")},
                               {"open_files", fds >= 2 ? fds - 2 : 0},
                               {"pid", static_cast<std::int64_t>(getpid())}}},
    });
}

void add_metrics_routes(Router& router, MetricsServices& services) {
    router.add(Method::Get, "/metrics", [&services](Request& r) {
        const auto& access = services.access;
        if (!access.token.empty()) {
            const std::string_view auth = r.header("Authorization");
            if (!auth.starts_with("Bearer ") || !core::constant_time_equal(auth.substr(7), access.token)) {
                Response res = error_response(r.request_id, 401, "unauthenticated", "send the metrics token as a bearer token");
                res.set_header("WWW-Authenticate", R"(Bearer realm="securityai-metrics")");
                return res;
            }
        } else if (!allowed_address(access.allow, r.remote_address)) {
            return error_response(r.request_id, 403, "permission_denied",
                                  "metrics are served to the addresses in metrics.allow or with metrics.token");
        }
        Response res;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = core::metrics::default_registry().expose();
        return res;
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/metrics/system", [&services](Request&) {
        return json_response(200, system_metrics_json(services.data_dir, services.started));
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/metrics/alerts", [&services](Request& r) {
        auto range = range_params(r);
        if (!range) return error_response(r, range.error());
        auto m = cached_alert_metrics(services, r, range->first, range->second);
        if (m.is_null()) return error_response(r, make_error(Errc::Unavailable, "alert store unavailable"));
        return json::ok(200, m);
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/metrics", [&services](Request& r) {
        auto range = range_params(r);
        if (!range) return error_response(r, range.error());
        bj::object out;
        out["system"] = bj::parse(system_metrics_json(services.data_dir, services.started));
        out["alerts"] = cached_alert_metrics(services, r, range->first, range->second);
        for (const auto& [name, section] : services.sections) {
            boost::system::error_code ec;
            auto v = bj::parse(section(), ec);
            out[name] = ec ? bj::value(nullptr) : v;
        }
        return json::ok(200, out);
    }, {.blocking = true});
}

}  // namespace sai::api
