#include "model/identity.hpp"

namespace sai::model {

std::string_view to_string(Role role) noexcept {
    switch (role) {
    case Role::Viewer: return "viewer";
    case Role::Analyst: return "analyst";
    case Role::Admin: return "admin";
    }
    return "viewer";
}

std::optional<Role> parse_role(std::string_view text) noexcept {
    if (text == "viewer") return Role::Viewer;
    if (text == "analyst") return Role::Analyst;
    if (text == "admin") return Role::Admin;
    return std::nullopt;
}

}  // namespace sai::model
