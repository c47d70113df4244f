#include "detection/field_mapping.hpp"

#include "yaml_guard.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>

namespace sai::detection {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

FieldMapping FieldMapping::defaults() {
    FieldMapping m;
    // Windows System element, as Winlogbeat names it (model maps the .evtx shape there).
    m.add("EventID", "winlog.event_id");
    m.add("EventID", "event.code");
    m.add("Channel", "winlog.channel");
    m.add("Provider_Name", "winlog.provider_name");
    m.add("Provider", "winlog.provider_name");
    m.add("Computer", "winlog.computer_name");
    m.add("Computer", "host.name");
    m.add("ComputerName", "winlog.computer_name");
    m.add("EventRecordID", "winlog.record_id");
    m.add("Level", "winlog.level");
    m.add("Task", "winlog.task");
    m.add("Opcode", "winlog.opcode");
    m.add("Keywords", "winlog.keywords");
    m.add("Version", "winlog.version");
    m.add("ProcessID", "winlog.process.pid");
    m.add("ThreadID", "winlog.process.thread.id");
    m.add("UserID", "winlog.user.identifier");
    m.add("SecurityUserID", "winlog.user.identifier");
    // Security 4688 names for Sysmon's process fields.
    m.add("Image", "winlog.event_data.NewProcessName");
    m.add("ParentImage", "winlog.event_data.ParentProcessName");
    // Process fields of ECS shippers (Elastic Agent, auditbeat).
    m.add("Image", "process.executable");
    m.add("CommandLine", "process.command_line");
    m.add("ParentImage", "process.parent.executable");
    m.add("ParentCommandLine", "process.parent.command_line");
    m.add("ProcessId", "process.pid");
    m.add("CurrentDirectory", "process.working_directory");
    // Linux, network, web and proxy names to ECS.
    for (const char* n : {"src_ip", "SourceIp", "c-ip", "ClientIP", "clientip"}) {
        m.add(n, "source.ip");
    }
    for (const char* n : {"dst_ip", "DestinationIp", "s-ip", "dest_ip"}) {
        m.add(n, "destination.ip");
    }
    for (const char* n : {"src_port", "SourcePort"}) {
        m.add(n, "source.port");
    }
    for (const char* n : {"dst_port", "DestinationPort", "dest_port", "s-port"}) {
        m.add(n, "destination.port");
    }
    for (const char* n : {"c-uri", "cs-uri", "url", "uri", "r-dns"}) {
        m.add(n, "url.original");
    }
    m.add("cs-method", "http.request.method");
    m.add("c-useragent", "user_agent.original");
    m.add("sc-status", "http.response.status_code");
    m.add("query", "dns.question.name");
    m.add("QueryName", "dns.question.name");
    for (const char* n : {"User", "user", "username", "USER", "TargetUserName", "SubjectUserName"}) {
        m.add(n, "user.name");
    }
    for (const char* n : {"hostname", "Hostname", "host"}) {
        m.add(n, "host.name");
    }
    m.add("msg", "message");
    m.add("proto", "network.transport");
    m.add("TargetFilename", "file.path");
    return m;
}

core::Result<FieldMapping> FieldMapping::from_yaml(std::string_view yaml) {
    FieldMapping m = defaults();
    try {
        const std::string text(yaml);
        check_yaml_terminates(text);
        const YAML::Node root = YAML::Load(text);
        const YAML::Node fm = root["fieldmappings"];
        if (!fm || !fm.IsMap()) {
            return core::make_error(core::Errc::InvalidArgument, "fieldmappings: expected a map");
        }
        for (const auto& kv : fm) {
            const auto name = kv.first.as<std::string>();
            if (kv.second.IsScalar()) {
                m.add(name, kv.second.as<std::string>());
            } else if (kv.second.IsSequence()) {
                for (const auto& p : kv.second) {
                    m.add(name, p.as<std::string>());
                }
            } else {
                return core::make_error(core::Errc::InvalidArgument, "fieldmappings." + name + ": expected a path or a list");
            }
        }
    } catch (const YAML::Exception& e) {
        return core::make_error(core::Errc::InvalidArgument, std::string("fieldmappings: ") + e.what());
    }
    return m;
}

void FieldMapping::add(std::string_view sigma_name, std::string_view event_path) {
    auto& paths = paths_[lower(sigma_name)];
    std::string p = lower(event_path);
    if (std::find(paths.begin(), paths.end(), p) == paths.end()) {
        paths.push_back(std::move(p));
    }
}

std::vector<std::string> FieldMapping::candidates(std::string_view sigma_name) const {
    const std::string key = lower(sigma_name);
    std::vector<std::string> out;
    if (auto it = paths_.find(key); it != paths_.end()) {
        out = it->second;
    }
    for (std::string p : {key, "winlog.event_data." + key, "winlog.user_data." + key}) {
        if (std::find(out.begin(), out.end(), p) == out.end()) {
            out.push_back(std::move(p));
        }
    }
    return out;
}

}  // namespace sai::detection
