// The built-in rule pack (rules/ in the repository): every rule fires on real-looking
// events and stays silent on a benign counterpart.
#include "detection/engine.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <algorithm>

namespace sai::detection {
namespace {

constexpr std::int64_t kNow = 1'795'000'000'000;
constexpr std::int64_t kT0 = kNow - 3'600'000;

std::shared_ptr<const CompiledRuleSet> pack() {
    static const auto set = [] {
        LoadReport report;
        auto s = load_rule_directories({SAI_RULES_DIR}, report);
        std::string why;
        for (const auto& f : report.failed) why += f.file + ": " + f.rule_id + ": " + f.reason + "\n";
        EXPECT_TRUE(report.failed.empty()) << why;
        return s;
    }();
    return set;
}

model::Event event(boost::json::object o, std::int64_t at = kT0) {
    o["@timestamp"] = at;
    return model::event_from_json(o, kNow).value();
}

model::Event sshd(std::string message, std::string ip, std::string user, std::int64_t at) {
    return event({{"message", message}, {"process.name", "sshd"}, {"host.name", "bastion-1"},
                  {"source.ip", ip}, {"user.name", user}}, at);
}

/// Titles of the detections of `events`, evaluated in order by one engine.
std::vector<std::string> titles(const std::vector<model::Event>& events) {
    Engine engine(pack());
    std::vector<std::string> out;
    for (const auto& d : engine.evaluate(events)) out.push_back(d.rule->title);
    return out;
}

bool has(const std::vector<std::string>& v, std::string_view title) {
    return std::find(v.begin(), v.end(), title) != v.end();
}

std::vector<model::Event> failures(std::string ip, int n, std::int64_t step_ms, bool distinct_users = false) {
    std::vector<model::Event> out;
    for (int i = 0; i < n; ++i) {
        const std::string user = distinct_users ? "user" + std::to_string(i) : "root";
        out.push_back(sshd("Failed password for " + user + " from " + ip + " port " + std::to_string(40000 + i) + " ssh2",
                           ip, user, kT0 + i * step_ms));
    }
    return out;
}

TEST(BuiltinRulesTest, SshBruteForceAndItsSuccess) {
    auto events = failures("203.0.113.7", 12, 1000);
    events.push_back(sshd("Accepted password for root from 203.0.113.7 port 40100 ssh2", "203.0.113.7", "root",
                          kT0 + 20'000));
    const auto t = titles(events);
    EXPECT_TRUE(has(t, "SSH Brute Force"));
    EXPECT_TRUE(has(t, "SSH Successful Brute Force"));
    // Benign: a few typos spread over an hour, then a login.
    auto benign = failures("198.51.100.4", 4, 900'000);
    benign.push_back(sshd("Accepted password for root from 198.51.100.4 port 50000 ssh2", "198.51.100.4", "root",
                          kT0 + 3'600'000));
    // Each failure is a low "SSH Failed Login" on its own (deduplicated into one alert
    // per source); nothing more.
    for (const auto& title : titles(benign)) {
        EXPECT_EQ(title, "SSH Failed Login");
    }
    EXPECT_EQ(titles(benign).size(), 4u);
}

TEST(BuiltinRulesTest, PasswordSpraying) {
    EXPECT_TRUE(has(titles(failures("203.0.113.9", 6, 2000, true)), "Password Spraying"));
    EXPECT_FALSE(has(titles(failures("203.0.113.9", 6, 2000, false)), "Password Spraying")) << "one user is not spraying";
}

TEST(BuiltinRulesTest, PrivilegeEscalationAttempts) {
    std::vector<model::Event> events;
    for (int i = 0; i < 3; ++i) {
        events.push_back(event({{"message", "pam_unix(sudo:auth): authentication failure; logname=bob uid=1001 euid=0 "
                                            "tty=/dev/pts/0 ruser=bob rhost=  user=bob"},
                                {"process.name", "sudo"}, {"user.name", "bob"}, {"host.name", "web-1"}},
                               kT0 + i * 10'000));
    }
    const auto t = titles(events);
    EXPECT_EQ(std::count(t.begin(), t.end(), "Sudo or Su Authentication Failure"), 3);
    EXPECT_TRUE(has(t, "Repeated Privilege Escalation Attempts"));
    const auto ok = event({{"message", "bob : TTY=pts/0 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/apt update"},
                           {"process.name", "sudo"}, {"user.name", "bob"}});
    EXPECT_TRUE(titles({ok}).empty());
}

TEST(BuiltinRulesTest, NewUserOrAdminLinuxAndWindows) {
    const auto useradd = event({{"message", "new user: name=backdoor, UID=1002, GID=1002, home=/home/backdoor, "
                                            "shell=/bin/bash, from=/dev/pts/1"},
                                {"process.name", "useradd"}});
    const auto usermod = event({{"message", "add 'backdoor' to group 'sudo'"}, {"process.name", "usermod"}});
    const auto win = model::event_from_json(boost::json::parse(R"({"Event": {"System": {"EventID": 4732,
        "Channel": "Security", "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}}},
        "EventData": {"TargetUserName": "Administrators", "MemberSid": "S-1-5-21-1-2-3-1104"}}})").as_object(), kNow).value();
    for (const auto* e : {&useradd, &usermod}) {
        EXPECT_TRUE(has(titles({*e}), "New Local User or Admin Group Membership (Linux)")) << e->message;
    }
    EXPECT_TRUE(has(titles({win}), "New Local User or Admin Group Membership (Windows)"));
    const auto benign = event({{"message", "add 'alice' to group 'docker'"}, {"process.name", "usermod"}});
    EXPECT_TRUE(titles({benign}).empty());
}

model::Event flow(std::string src, std::string dst, int port, std::int64_t at, std::int64_t bytes = 600) {
    return event({{"source.ip", src}, {"destination.ip", dst}, {"destination.port", port}, {"source.bytes", bytes},
                  {"network.transport", "tcp"}, {"event.category", "network"}}, at);
}

TEST(BuiltinRulesTest, PortScanAndHorizontalScan) {
    std::vector<model::Event> vertical, horizontal, benign;
    for (int i = 0; i < 25; ++i) {
        vertical.push_back(flow("10.0.0.66", "10.0.0.10", 20 + i, kT0 + i * 100));
        horizontal.push_back(flow("10.0.0.66", "10.0.1." + std::to_string(i + 1), 445, kT0 + i * 100));
        benign.push_back(flow("10.0.0.5", "10.0.0.10", 443, kT0 + i * 1000));
    }
    EXPECT_TRUE(has(titles(vertical), "Port Scan"));
    EXPECT_FALSE(has(titles(vertical), "Horizontal Scan"));
    EXPECT_TRUE(has(titles(horizontal), "Horizontal Scan"));
    EXPECT_TRUE(titles(benign).empty());
}

TEST(BuiltinRulesTest, LargeOutboundTransfer) {
    EXPECT_TRUE(has(titles({flow("10.0.0.8", "198.51.100.20", 443, kT0, 800'000'000)}), "Large Outbound Transfer"));
    EXPECT_TRUE(titles({flow("10.0.0.8", "10.0.0.9", 445, kT0, 800'000'000)}).empty()) << "internal backup traffic";
    EXPECT_TRUE(titles({flow("10.0.0.8", "198.51.100.20", 443, kT0, 2'000'000)}).empty());
}

TEST(BuiltinRulesTest, MachineLearningFields) {
    EXPECT_TRUE(has(titles({event({{"message", "x"}, {"ml.anomaly_score", 0.97}})}), "High Anomaly Score"));
    EXPECT_TRUE(titles({event({{"message", "x"}, {"ml.anomaly_score", 0.2}})}).empty());
    EXPECT_TRUE(has(titles({event({{"ml.threat_class", "malicious"}, {"ml.confidence", 0.91}})}), "Malicious Classification"));
    EXPECT_TRUE(titles({event({{"ml.threat_class", "malicious"}, {"ml.confidence", 0.4}})}).empty());
}

TEST(BuiltinRulesTest, LoginAtAnUnusualHour) {
    // ueba.unusual_hour is set before detection by the graph's per-user baselines.
    auto login = [](bool unusual, std::string outcome) {
        boost::json::object o{{"event.category", "authentication"}, {"event.outcome", outcome},
                              {"user.name", "alice"}, {"host.name", "web-1"}, {"message", "Accepted password for alice"}};
        if (unusual) o["ueba.unusual_hour"] = true;
        return event(o);
    };
    EXPECT_TRUE(has(titles({login(true, "success")}), "Login at an Unusual Hour for the Account"));
    EXPECT_FALSE(has(titles({login(false, "success")}), "Login at an Unusual Hour for the Account"));
    EXPECT_FALSE(has(titles({login(true, "failure")}), "Login at an Unusual Hour for the Account"));
}

model::Event logon(std::string user, std::string computer, int type, std::int64_t at) {
    const std::string json = R"({"Event": {"System": {"EventID": 4624, "Channel": "Security", "Computer": ")" +
                             computer + R"(", "TimeCreated": {"#attributes": {"SystemTime": "2026-11-18T09:00:0)" +
                             std::to_string(at) + R"(Z"}}}, "EventData": {"TargetUserName": ")" + user +
                             R"(", "LogonType": )" + std::to_string(type) + "}}}";
    return model::event_from_json(boost::json::parse(json).as_object(), kNow).value();
}

TEST(BuiltinRulesTest, LateralMovement) {
    const auto t = titles({logon("svc-backup", "srv-1", 3, 1), logon("svc-backup", "srv-2", 3, 2),
                           logon("svc-backup", "srv-3", 10, 3)});
    EXPECT_TRUE(has(t, "Lateral Movement - One Account Logs On to Many Hosts"));
    EXPECT_TRUE(titles({logon("alice", "srv-1", 3, 1), logon("alice", "srv-1", 3, 2), logon("SRV-9$", "srv-2", 3, 3),
                        logon("SRV-9$", "srv-3", 3, 4), logon("SRV-9$", "srv-4", 3, 5), logon("bob", "ws-1", 2, 6)})
                    .empty());
}

}  // namespace
}  // namespace sai::detection
