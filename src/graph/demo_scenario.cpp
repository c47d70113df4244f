#include "graph/demo_scenario.hpp"

#include <random>
#include <string>

namespace sai::graph {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;

struct Host {
    std::string name, ip;
};

/// Public prefixes whose country the GeoIP database knows (customers of the web shop).
constexpr const char* kCustomerPrefixes[] = {"24.48.", "81.2.", "84.56.", "121.128.", "177.0.", "190.0.", "41.0.",
                                             "1.10.",  "31.13.", "125.10.", "139.10.", "151.10.", "212.10."};
/// Background SSH noise from the internet: every exposed SSH server sees it.
constexpr const char* kNoisePrefixes[] = {"36.110.", "58.10."};

class Builder {
public:
    explicit Builder(unsigned seed) : rng_(seed) {}

    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    std::string address(const char* prefix) { return prefix + std::to_string(uniform(1, 254)) + "." + std::to_string(uniform(1, 254)); }

    model::Event base(std::int64_t ts, const char* dataset) {
        model::Event e;
        e.timestamp = ts;
        e.kind = "event";
        e.dataset = dataset;
        return e;
    }

    model::Event flow(std::int64_t ts, const std::string& src, const std::string& dst, int port, std::int64_t out_bytes,
                      std::int64_t in_bytes, const std::string& host, bool ok = true) {
        model::Event e = base(ts, "demo.netflow");
        e.category = "network";
        e.type = ok ? "connection" : "denied";
        e.action = ok ? "network_flow" : "connection_refused";
        e.outcome = ok ? "success" : "failure";
        e.source_ip = src;
        e.source_port = uniform(32768, 60999);
        e.destination_ip = dst;
        e.destination_port = port;
        e.source_bytes = out_bytes;
        e.destination_bytes = in_bytes;
        e.network_transport = "tcp";
        e.host_name = host;
        e.message = (ok ? "flow " : "refused ") + src + ":" + std::to_string(*e.source_port) + " -> " + dst + ":" +
                    std::to_string(port) + " tcp bytes_out=" + std::to_string(out_bytes) +
                    " bytes_in=" + std::to_string(in_bytes);
        return e;
    }

    model::Event ssh(std::int64_t ts, const std::string& user, const std::string& src, const Host& host, bool ok,
                     const char* method = "password", bool invalid_user = false) {
        model::Event e = base(ts, "demo.sshd");
        e.category = "authentication";
        e.type = ok ? "start" : "info";
        e.action = ok ? "ssh_login" : "ssh_login_failed";
        e.outcome = ok ? "success" : "failure";
        e.user_name = user;
        e.source_ip = src;
        e.source_port = uniform(32768, 60999);
        e.destination_ip = host.ip;
        e.destination_port = 22;
        e.host_name = host.name;
        e.host_ip = host.ip;
        e.process_name = "sshd";
        e.process_pid = uniform(1000, 65000);
        e.network_transport = "tcp";
        e.message = std::string(ok ? "Accepted " : "Failed ") + method + " for " + (invalid_user ? "invalid user " : "") +
                    user + " from " + src + " port " + std::to_string(*e.source_port) + " ssh2";
        e.log_level = ok ? "info" : "warning";
        return e;
    }

    model::Event logon(std::int64_t ts, const std::string& user, const Host& ws) {
        model::Event e = base(ts, "demo.windows");
        e.category = "authentication";
        e.type = "start";
        e.action = "logged-in";
        e.outcome = "success";
        e.user_name = user;
        e.host_name = ws.name;
        e.host_ip = ws.ip;
        e.message = "An account was successfully logged on. Account Name: " + user + " Logon Type: 2 Workstation: " + ws.name;
        return e;
    }

private:
    std::mt19937 rng_;
};

model::Asset asset(const std::string& name, const std::string& ip, model::AssetType type, int criticality,
                   bool internet_facing, const std::string& owner, std::vector<std::string> tags) {
    model::Asset a;
    a.name = name;
    a.ips = {ip};
    a.hostnames = {name + ".corp.example"};
    a.type = type;
    a.criticality = criticality;
    a.internet_facing = internet_facing;
    a.owner = owner;
    a.tags = std::move(tags);
    return a;
}

}  // namespace

DemoScenario make_demo_scenario(std::int64_t now_ms, unsigned seed) {
    Builder b(seed);
    DemoScenario s;
    using T = model::AssetType;
    const Host bastion{"bastion-01", "10.0.0.10"}, web1{"web-01", "10.0.0.20"}, web2{"web-02", "10.0.0.21"};
    const Host app[4] = {{"app-01", "10.0.2.11"}, {"app-02", "10.0.2.12"}, {"app-03", "10.0.2.13"}, {"app-04", "10.0.2.14"}};
    const Host db1{"db-01", "10.0.3.10"}, db2{"db-02", "10.0.3.11"};
    const Host dc{"dc-01", "10.0.4.10"}, files{"files-01", "10.0.4.20"}, mail{"mail-01", "10.0.4.30"};
    const Host ci{"ci-01", "10.0.4.40"};
    s.assets.push_back(asset(bastion.name, bastion.ip, T::Server, 3, true, "it-ops", {"dmz", "ssh"}));
    s.assets.push_back(asset(web1.name, web1.ip, T::Server, 3, true, "web-team", {"dmz", "web"}));
    s.assets.push_back(asset(web2.name, web2.ip, T::Server, 3, true, "web-team", {"dmz", "web"}));
    for (const auto& h : app) s.assets.push_back(asset(h.name, h.ip, T::Server, 3, false, "app-team", {"app"}));
    s.assets.push_back(asset(db1.name, db1.ip, T::Server, 5, false, "dba-team", {"database", "pci"}));
    s.assets.push_back(asset(db2.name, db2.ip, T::Server, 4, false, "dba-team", {"database"}));
    s.assets.push_back(asset(dc.name, dc.ip, T::Server, 5, false, "it-ops", {"core", "identity"}));
    s.assets.push_back(asset(files.name, files.ip, T::Server, 4, false, "it-ops", {"core"}));
    s.assets.push_back(asset(mail.name, mail.ip, T::Server, 3, false, "it-ops", {"core"}));
    s.assets.push_back(asset(ci.name, ci.ip, T::Server, 3, false, "app-team", {"core", "ci"}));
    const char* names[] = {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
                           "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yvonne",
                           "zoe", "quinn", "uma", "ops-admin"};
    std::vector<std::pair<std::string, Host>> staff;
    for (int i = 0; i < 24; ++i) {
        Host ws{"ws-" + std::string(i < 9 ? "0" : "") + std::to_string(i + 1), "10.0.1." + std::to_string(101 + i)};
        s.assets.push_back(asset(ws.name, ws.ip, T::Workstation, 2, false, names[i], {"workstation"}));
        staff.emplace_back(names[i], ws);
    }
    const std::string contractor_ip = "81.2.69.160";  // the hosting partner's admin, GB

    // A day of ordinary traffic, hour by hour. Every pair that talks talks in the
    // first hour too, so the graph has learnt it before the attack.
    const std::int64_t day_start = now_ms - 24 * kHour;
    for (int hour = 0; hour < 24; ++hour) {
        const std::int64_t h0 = day_start + hour * kHour;
        const int utc_hour = static_cast<int>((h0 / kHour) % 24);
        const bool office = hour == 0 || (utc_hour >= 7 && utc_hour <= 18);
        auto at = [&] { return h0 + b.uniform(0, static_cast<int>(kHour / kSecond) - 1) * kSecond; };
        for (const auto& [user, ws] : staff) {
            if (!office && user != "ops-admin") continue;
            s.normal.push_back(b.logon(at(), user, ws));
            s.normal.push_back(b.flow(at(), ws.ip, web1.ip, 443, b.uniform(2'000, 20'000), b.uniform(20'000, 400'000), ws.name));
            s.normal.push_back(b.flow(at(), ws.ip, app[b.uniform(0, 3)].ip, 8080, b.uniform(1'000, 8'000), b.uniform(5'000, 90'000), ws.name));
            s.normal.push_back(b.flow(at(), ws.ip, files.ip, 445, b.uniform(10'000, 200'000), b.uniform(50'000, 2'000'000), ws.name));
            s.normal.push_back(b.flow(at(), ws.ip, dc.ip, 88, 1'500, 1'800, ws.name));
            s.normal.push_back(b.flow(at(), ws.ip, mail.ip, 993, b.uniform(1'000, 5'000), b.uniform(10'000, 300'000), ws.name));
            s.normal.push_back(b.flow(at(), ws.ip, b.address(kCustomerPrefixes[b.uniform(0, 12)]), 443,
                                      b.uniform(2'000, 30'000), b.uniform(50'000, 3'000'000), ws.name));
        }
        // The operations admin works from ws-24 straight onto the servers (no hopping).
        const auto& admin_ws = staff.back().second;
        for (const Host* h : {&app[0], &app[1], &app[2], &app[3], &db1, &db2, &files}) {
            if (hour != 0 && b.uniform(0, 3) != 0) continue;
            const auto t = at();
            s.normal.push_back(b.flow(t, admin_ws.ip, h->ip, 22, b.uniform(5'000, 50'000), b.uniform(20'000, 200'000), admin_ws.name));
            s.normal.push_back(b.ssh(t + kSecond, "ops-admin", admin_ws.ip, *h, true, "publickey"));
        }
        // The CI server deploys to the application servers as `deploy`, every hour.
        for (const auto& a : app) {
            const auto t = at();
            s.normal.push_back(b.flow(t, ci.ip, a.ip, 22, b.uniform(200'000, 2'000'000), b.uniform(5'000, 20'000), ci.name));
            s.normal.push_back(b.ssh(t + kSecond, "deploy", ci.ip, a, true, "publickey"));
        }
        // Service tiers.
        for (const Host* w : {&web1, &web2}) {
            for (const auto& a : app) s.normal.push_back(b.flow(at(), w->ip, a.ip, 8080, b.uniform(2'000, 20'000), b.uniform(10'000, 200'000), w->name));
        }
        for (const auto& a : app) {
            s.normal.push_back(b.flow(at(), a.ip, db1.ip, 5432, b.uniform(5'000, 50'000), b.uniform(50'000, 900'000), a.name));
            s.normal.push_back(b.flow(at(), a.ip, db2.ip, 5432, b.uniform(5'000, 50'000), b.uniform(50'000, 500'000), a.name));
            s.normal.push_back(b.flow(at(), a.ip, dc.ip, 389, 2'000, 4'000, a.name));
        }
        if (hour == 0 || utc_hour == 2) {
            s.normal.push_back(b.flow(at(), files.ip, db1.ip, 5432, 20'000, 450'000'000, files.name));  // nightly backup
        }
        // Customers on the web shop, from around the world.
        for (int i = 0; i < 25; ++i) {
            const auto ip = b.address(kCustomerPrefixes[b.uniform(0, 12)]);
            s.normal.push_back(b.flow(at(), ip, (i % 2 ? web1 : web2).ip, 443, b.uniform(1'000, 10'000), b.uniform(20'000, 900'000), "web-01"));
        }
        // The hosting partner's admin checks the DMZ through the bastion, then app-01.
        if (hour == 0 || hour % 6 == 3) {
            const auto t = at();
            s.normal.push_back(b.flow(t, contractor_ip, bastion.ip, 22, 20'000, 80'000, bastion.name));
            s.normal.push_back(b.ssh(t + kSecond, "partner-ops", contractor_ip, bastion, true, "publickey"));
            s.normal.push_back(b.flow(t + 2 * kMinute, bastion.ip, app[0].ip, 22, 10'000, 40'000, bastion.name));
        }
        // Internet noise: a few failed SSH logins an hour on the exposed bastion.
        for (int i = 0; i < 3; ++i) {
            const auto ip = b.address(kNoisePrefixes[b.uniform(0, 1)]);
            s.normal.push_back(b.ssh(at(), i % 2 ? "admin" : "root", ip, bastion, false, "password", i % 2 == 1));
        }
    }
    std::sort(s.normal.begin(), s.normal.end(),
              [](const model::Event& x, const model::Event& y) { return x.timestamp < y.timestamp; });
    std::erase_if(s.normal, [&](const model::Event& e) { return e.timestamp >= now_ms - 10 * kMinute; });

    // The attack, in the last four minutes.
    const std::string attacker = kDemoAttacker;
    std::int64_t t = now_ms - 4 * kMinute;
    const int ports[] = {21, 22, 23, 25, 53, 80, 110, 139, 143, 443, 445, 993, 1433, 3306, 3389, 5432, 5900, 6379, 8080, 8443};
    for (const Host* h : {&bastion, &web1, &web2}) {
        for (int port : ports) {
            const bool open = (h == &bastion && port == 22) || (h != &bastion && port == 443);
            s.attack.push_back(b.flow(t, attacker, h->ip, port, 60, open ? 60 : 0, h->name, open));
            t += 150;
        }
    }
    t += 20 * kSecond;
    const char* guesses[] = {"root", "admin", "oracle", "postgres", "deploy", "ubuntu", "test", "git"};
    for (int i = 0; i < 40; ++i) {
        const std::string user = guesses[i % 8];
        const bool invalid = user == "oracle" || user == "ubuntu" || user == "test" || user == "git";
        s.attack.push_back(b.ssh(t, user, attacker, bastion, false, "password", invalid));
        t += 1500;
    }
    s.attack.push_back(b.ssh(t, "deploy", attacker, bastion, true, "password"));
    t += 45 * kSecond;
    s.attack.push_back(b.flow(t, bastion.ip, app[1].ip, 22, 8'000, 30'000, bastion.name));
    s.attack.push_back(b.ssh(t + kSecond, "deploy", bastion.ip, app[1], true, "password"));
    t += 40 * kSecond;
    s.attack.push_back(b.flow(t, app[1].ip, db1.ip, 22, 9'000, 41'000, app[1].name));
    s.attack.push_back(b.ssh(t + kSecond, "deploy", app[1].ip, db1, true, "password"));
    t += 30 * kSecond;
    auto exfil = b.flow(t, db1.ip, attacker, 443, 2'147'483'648LL, 120'000, db1.name);
    exfil.message += " (tls, 2.0 GiB to " + attacker + ")";
    s.attack.push_back(std::move(exfil));
    return s;
}

}  // namespace sai::graph
