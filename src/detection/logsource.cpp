#include "logsource.hpp"

#include <algorithm>
#include <initializer_list>

namespace sai::detection {
namespace {

struct ServiceChannel {
    std::string_view service;
    std::string_view channel;  // lowercased
};

// Sigma's Windows service names and the event log channels they read.
constexpr ServiceChannel kServices[] = {
    {"security", "security"},
    {"system", "system"},
    {"application", "application"},
    {"sysmon", "microsoft-windows-sysmon/operational"},
    {"powershell", "microsoft-windows-powershell/operational"},
    {"powershell-classic", "windows powershell"},
    {"taskscheduler", "microsoft-windows-taskscheduler/operational"},
    {"wmi", "microsoft-windows-wmi-activity/operational"},
    {"dns-server", "dns server"},
    {"dns-server-analytic", "microsoft-windows-dns-server/analytical"},
    {"dns-server-audit", "microsoft-windows-dns-server/audit"},
    {"driver-framework", "microsoft-windows-driverframeworks-usermode/operational"},
    {"ntlm", "microsoft-windows-ntlm/operational"},
    {"dhcp", "microsoft-windows-dhcp-server/operational"},
    {"applocker", "microsoft-windows-applocker/msi and script"},
    {"applocker", "microsoft-windows-applocker/exe and dll"},
    {"applocker", "microsoft-windows-applocker/packaged app-deployment"},
    {"applocker", "microsoft-windows-applocker/packaged app-execution"},
    {"msexchange-management", "msexchange management"},
    {"printservice-admin", "microsoft-windows-printservice/admin"},
    {"printservice-operational", "microsoft-windows-printservice/operational"},
    {"codeintegrity-operational", "microsoft-windows-codeintegrity/operational"},
    {"smbclient-security", "microsoft-windows-smbclient/security"},
    {"smbclient-connectivity", "microsoft-windows-smbclient/connectivity"},
    {"smbserver-connectivity", "microsoft-windows-smbserver/connectivity"},
    {"firewall-as", "microsoft-windows-windows firewall with advanced security/firewall"},
    {"bits-client", "microsoft-windows-bits-client/operational"},
    {"windefend", "microsoft-windows-windows defender/operational"},
    {"terminalservices-localsessionmanager", "microsoft-windows-terminalservices-localsessionmanager/operational"},
    {"microsoft-servicebus-client", "microsoft-servicebus-client"},
    {"ldap", "microsoft-windows-ldap-client/debug"},
    {"ldap_debug", "microsoft-windows-ldap-client/debug"},
    {"security-mitigations", "microsoft-windows-security-mitigations/kernel mode"},
    {"security-mitigations", "microsoft-windows-security-mitigations/user mode"},
    {"diagnosis-scripted", "microsoft-windows-diagnosis-scripted/operational"},
    {"shell-core", "microsoft-windows-shell-core/operational"},
    {"openssh", "openssh/operational"},
    {"bitlocker", "microsoft-windows-bitlocker/bitlocker management"},
    {"vhdmp", "microsoft-windows-vhdmp-operational"},
    {"appxdeployment-server", "microsoft-windows-appxdeploymentserver/operational"},
    {"lsa-server", "microsoft-windows-lsa/operational"},
    {"appxpackaging-om", "microsoft-windows-appxpackagingom/microsoft-windows-appxpackaging/operational"},
    {"dns-client", "microsoft-windows-dns client events/operational"},
    {"appmodel-runtime", "microsoft-windows-appmodel-runtime/admin"},
    {"capi2", "microsoft-windows-capi2/operational"},
    {"certificateservicesclient-lifecycle-system",
     "microsoft-windows-certificateservicesclient-lifecycle-system/operational"},
    {"kernel-shimengine", "microsoft-windows-kernel-shimengine/operational"},
    {"kernel-shimengine", "microsoft-windows-kernel-shimengine/diagnostic"},
    {"hyper-v-worker", "microsoft-windows-hyper-v-worker"},
    {"iis-configuration", "microsoft-iis-configuration/operational"},
    {"sysmon-error", "microsoft-windows-sysmon/operational"},
};

struct CategoryEvents {
    std::string_view category;
    std::initializer_list<std::int64_t> sysmon;  // Sysmon event ids
};

constexpr std::string_view kSysmonChannel = "microsoft-windows-sysmon/operational";

const CategoryEvents kSysmonCategories[] = {
    {"process_creation", {1}},
    {"file_change", {2}},
    {"network_connection", {3}},
    {"sysmon_status", {4, 16}},
    {"process_termination", {5}},
    {"driver_load", {6}},
    {"image_load", {7}},
    {"create_remote_thread", {8}},
    {"raw_access_thread", {9}},
    {"process_access", {10}},
    {"file_event", {11}},
    {"registry_add", {12}},
    {"registry_delete", {12}},
    {"registry_set", {13}},
    {"registry_rename", {14}},
    {"registry_event", {12, 13, 14}},
    {"create_stream_hash", {15}},
    {"pipe_created", {17, 18}},
    {"wmi_event", {19, 20, 21}},
    {"dns_query", {22}},
    {"file_delete", {23, 26}},
    {"clipboard_capture", {24}},
    {"process_tampering", {25}},
    {"file_delete_detected", {26}},
    {"file_block_executable", {27}},
    {"file_block_shredding", {28}},
    {"file_executable_detected", {29}},
    {"sysmon_error", {255}},
};

// Categories of other Windows events: one channel and event id each.
struct ChannelCategory {
    std::string_view category;
    std::string_view channel;  // lowercased
    std::int64_t event_id;
};

constexpr ChannelCategory kChannelCategories[] = {
    {"process_creation", "security", 4688},
    {"ps_script", "microsoft-windows-powershell/operational", 4104},
    {"ps_module", "microsoft-windows-powershell/operational", 4103},
    {"ps_classic_start", "windows powershell", 400},
    {"ps_classic_provider_start", "windows powershell", 600},
    {"ps_classic_script", "windows powershell", 800},
};

bool windows_service_matches(std::string_view service, std::string_view channel) {
    bool known = false;
    for (const auto& s : kServices) {
        if (s.service == service) {
            known = true;
            if (s.channel == channel) {
                return true;
            }
        }
    }
    // An unknown service name: accept channels that carry it (e.g. "microsoft-windows-<service>/...").
    return !known && !service.empty() && channel.find(service) != std::string_view::npos;
}

bool windows_category_matches(std::string_view category, const EventSource& e) {
    const bool sysmon = e.channel == kSysmonChannel || e.provider == "microsoft-windows-sysmon";
    if (sysmon) {
        for (const auto& c : kSysmonCategories) {
            if (c.category == category) {
                return std::find(c.sysmon.begin(), c.sysmon.end(), e.event_id) != c.sysmon.end();
            }
        }
        return false;
    }
    for (const auto& c : kChannelCategories) {
        if (c.category == category) {
            return e.channel == c.channel && e.event_id == c.event_id;
        }
    }
    if (category == "antivirus") {
        return e.channel == "microsoft-windows-windows defender/operational";
    }
    return false;
}

/// Sigma categories of non-Windows rules and the ECS event.category values they read.
bool ecs_category_matches(std::string_view category, std::string_view ecs) {
    static const std::pair<std::string_view, std::string_view> kEcs[] = {
        {"process_creation", "process"}, {"network_connection", "network"}, {"firewall", "network"},
        {"dns", "network"},              {"webserver", "web"},              {"proxy", "web"},
        {"file_event", "file"},          {"authentication", "authentication"},
    };
    if (category == ecs) {
        return true;
    }
    for (const auto& [sigma, e] : kEcs) {
        if (sigma == category && e == ecs) {
            return true;
        }
    }
    return false;
}

}  // namespace

bool logsource_applies(const CompiledRule& compiled, const EventSource& event) {
    const Logsource& rule = compiled.logsource;
    if (rule.product == "securityai") {
        return true;  // SecurityAI's derived fields (ml.*, risk, log.template_*) exist on any event
    }
    if (event.windows) {
        if (!rule.product.empty() && rule.product != "windows") {
            return false;
        }
        if (!rule.service.empty() && !windows_service_matches(rule.service, event.channel)) {
            return false;
        }
        return rule.category.empty() || windows_category_matches(rule.category, event);
    }
    if (rule.product == "windows") {
        return false;
    }
    if (!rule.product.empty() && !event.product.empty() && rule.product != event.product) {
        return false;
    }
    if (event.product.empty() && compiled.always_candidate && !rule.product.empty()) {
        return false;
    }
    return rule.category.empty() || event.category.empty() || ecs_category_matches(rule.category, event.category);
}

ClassSet applying_classes(const CompiledRuleSet::Impl& set, const EventSource& event) {
    ClassSet out((set.class_rule.size() + 63) / 64, 0);
    for (std::uint32_t c = 0; c < set.class_rule.size(); ++c) {
        if (logsource_applies(set.rules[set.class_rule[c]], event)) add_class(out, c);
    }
    return out;
}

std::vector<EventSource> typical_sources(const std::vector<std::string>& products) {
    std::vector<EventSource> out;
    auto windows = [&](std::string_view channel, std::string_view provider, std::int64_t event_id) {
        out.push_back({true, "windows", std::string(channel), std::string(provider), event_id, {}});
    };
    for (const auto& s : kServices) windows(s.channel, "", -1);
    for (const auto& c : kSysmonCategories) {
        for (auto id : c.sysmon) windows(kSysmonChannel, "microsoft-windows-sysmon", id);
    }
    for (const auto& c : kChannelCategories) windows(c.channel, "", c.event_id);
    out.push_back({});
    for (const auto& p : products) out.push_back({false, p, {}, {}, -1, {}});
    return out;
}

}  // namespace sai::detection
