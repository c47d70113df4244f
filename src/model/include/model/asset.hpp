#pragma once
// Assets: the hosts, devices and workloads an organisation protects. Declared
// by people (API, CSV import) or discovered from traffic by the graph stage
// (`discovered` set, criticality 3, no owner).
//
// JSON form (API and CSV import use the same field names):
//   {"name": "db-01", "ips": ["10.0.3.10"], "hostnames": ["db-01.corp"],
//    "type": "server" | "workstation" | "network_device" | "cloud" | "container",
//    "criticality": 1..5, "internet_facing": false, "owner": "dba-team",
//    "tags": ["pci"], "discovered": false}

#include "core/error.hpp"

#include <boost/json/fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sai::model {

inline constexpr std::size_t kMaxAssetAddresses = 32;  // ips, hostnames and tags, each
inline constexpr int kDefaultCriticality = 3;

enum class AssetType { Server, Workstation, NetworkDevice, Cloud, Container };

std::string_view to_string(AssetType type) noexcept;
std::optional<AssetType> parse_asset_type(std::string_view text) noexcept;

struct Asset {
    std::string id;  // UUIDv7
    std::string name;
    std::vector<std::string> ips;  // canonical
    std::vector<std::string> hostnames;
    AssetType type = AssetType::Server;
    int criticality = kDefaultCriticality;  // 1 (lab box) .. 5 (crown jewels)
    bool internet_facing = false;
    std::string owner;
    std::vector<std::string> tags;
    bool discovered = false;
    std::int64_t created_at = 0;  // Unix ms
    std::int64_t updated_at = 0;
};

/// Applies the fields present in `object` to `asset` (a create starts from a
/// default Asset, a PATCH from the stored one). Unknown fields, wrong types, an
/// invalid IP, criticality outside 1..5 or an empty name are InvalidArgument.
core::Result<void> apply_asset_json(Asset& asset, const boost::json::object& object);

boost::json::object asset_to_json(const Asset& asset);

}  // namespace sai::model
