#include "model/asset.hpp"

#include "core/time.hpp"
#include "model/event.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace sai::model {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

constexpr std::array<std::pair<AssetType, std::string_view>, 5> kTypes = {{
    {AssetType::Server, "server"},
    {AssetType::Workstation, "workstation"},
    {AssetType::NetworkDevice, "network_device"},
    {AssetType::Cloud, "cloud"},
    {AssetType::Container, "container"},
}};

core::Error field_error(std::string_view field, std::string_view what) {
    return make_error(Errc::InvalidArgument, "field '" + std::string(field) + "' " + std::string(what));
}

core::Result<std::vector<std::string>> strings_of(const bj::value& v, std::string_view field) {
    if (!v.is_array()) return field_error(field, "must be an array of strings");
    const auto& a = v.get_array();
    if (a.size() > kMaxAssetAddresses) {
        return field_error(field, "has more than " + std::to_string(kMaxAssetAddresses) + " items");
    }
    std::vector<std::string> out;
    for (const auto& item : a) {
        if (!item.is_string() || item.get_string().empty() || item.get_string().size() > 253) {
            return field_error(field, "must hold non-empty strings of at most 253 bytes");
        }
        std::string s(item.get_string());
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
    return out;
}

bj::array to_array(const std::vector<std::string>& v) { return bj::array(v.begin(), v.end()); }

}  // namespace

std::string_view to_string(AssetType type) noexcept {
    for (const auto& [t, name] : kTypes) {
        if (t == type) return name;
    }
    return "server";
}

std::optional<AssetType> parse_asset_type(std::string_view text) noexcept {
    for (const auto& [t, name] : kTypes) {
        if (name == text) return t;
    }
    return std::nullopt;
}

core::Result<void> apply_asset_json(Asset& asset, const bj::object& object) {
    for (const auto& kv : object) {
        const std::string_view key = kv.key();
        const bj::value& v = kv.value();
        if (key == "name" || key == "owner") {
            if (!v.is_string() || v.get_string().size() > 253) return field_error(key, "must be a string of at most 253 bytes");
            (key == "name" ? asset.name : asset.owner) = std::string(v.get_string());
        } else if (key == "ips") {
            auto ips = strings_of(v, key);
            if (!ips) return ips.error();
            asset.ips.clear();
            for (const auto& ip : *ips) {
                auto c = canonical_ip(ip);
                if (!c) return field_error(key, ": '" + ip + "' is not an IP address");
                if (std::find(asset.ips.begin(), asset.ips.end(), *c) == asset.ips.end()) asset.ips.push_back(*c);
            }
        } else if (key == "hostnames" || key == "tags") {
            auto list = strings_of(v, key);
            if (!list) return list.error();
            (key == "hostnames" ? asset.hostnames : asset.tags) = std::move(*list);
        } else if (key == "type") {
            auto t = v.is_string() ? parse_asset_type(v.get_string()) : std::nullopt;
            if (!t) return field_error(key, "must be server, workstation, network_device, cloud or container");
            asset.type = *t;
        } else if (key == "criticality") {
            if (!v.is_int64() || v.get_int64() < 1 || v.get_int64() > 5) {
                return field_error(key, "must be an integer from 1 to 5");
            }
            asset.criticality = static_cast<int>(v.get_int64());
        } else if (key == "internet_facing" || key == "discovered") {
            if (!v.is_bool()) return field_error(key, "must be true or false");
            (key == "internet_facing" ? asset.internet_facing : asset.discovered) = v.get_bool();
        } else {
            return make_error(Errc::InvalidArgument, "unknown field '" + std::string(key) + "'");
        }
    }
    if (asset.name.empty()) return field_error("name", "is required");
    return {};
}

bj::object asset_to_json(const Asset& a) {
    return {
        {"id", a.id},
        {"name", a.name},
        {"ips", to_array(a.ips)},
        {"hostnames", to_array(a.hostnames)},
        {"type", to_string(a.type)},
        {"criticality", a.criticality},
        {"internet_facing", a.internet_facing},
        {"owner", a.owner.empty() ? bj::value(nullptr) : bj::value(a.owner)},
        {"tags", to_array(a.tags)},
        {"discovered", a.discovered},
        {"created_at", core::format_rfc3339_ms(a.created_at)},
        {"updated_at", core::format_rfc3339_ms(a.updated_at)},
    };
}

}  // namespace sai::model
