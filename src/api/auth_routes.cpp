#include "api/auth_routes.hpp"

#include "auth/audit_log.hpp"
#include "core/crypto.hpp"
#include "core/time.hpp"
#include "json_util.hpp"

#include <charconv>

namespace sai::api {
namespace {

namespace bj = boost::json;
using core::Errc;
using core::make_error;

auth::ClientInfo client_of(const Request& r) { return {r.remote_address, r.request_id}; }

/// Token responses must never be cached by browsers or proxies.
Response no_store(Response r) {
    r.set_header("Cache-Control", "no-store");
    r.set_header("Pragma", "no-cache");
    return r;
}

Response token_response(const auth::TokenPair& pair) {
    return no_store(json::ok(200, bj::object{{"access_token", pair.access_token},
                                             {"refresh_token", pair.refresh_token},
                                             {"token_type", "bearer"},
                                             {"expires_in", pair.expires_in}}));
}

bj::object user_json(const model::User& u) {
    return {{"id", u.id},
            {"username", u.username},
            {"role", model::to_string(u.role)},
            {"disabled", u.disabled},
            {"created_at", u.created_at},
            {"updated_at", u.updated_at},
            {"last_login", json::nullable(u.last_login)}};
}

bj::object key_json(const model::ApiKey& k) {
    return {{"id", k.id},
            {"name", k.name},
            {"role", model::to_string(k.role)},
            {"prefix", k.prefix},
            {"created_by", k.created_by},
            {"created_at", k.created_at},
            {"expires_at", json::nullable(k.expires_at)},
            {"revoked", k.revoked},
            {"last_used_at", json::nullable(k.last_used_at)}};
}

bj::object audit_json(const storage::AuditRecord& r) {
    return {{"seq", r.seq},         {"ts", r.ts},         {"actor", r.actor},
            {"role", r.role},       {"client_ip", r.client_ip}, {"request_id", r.request_id},
            {"action", r.action},   {"target", r.target}, {"outcome", r.outcome},
            {"detail", r.detail},   {"hash", r.hash}};
}

/// Opaque cursors: base64url of the position, so clients never build them.
std::string encode_cursor(std::string_view position) { return core::base64url_encode(position); }

core::Result<std::string> decode_cursor(const Request& request) {
    auto text = request.query_param("cursor");
    if (!text || text->empty()) {
        return std::string();
    }
    auto decoded = text->size() <= 256 ? core::base64url_decode(*text) : std::nullopt;
    if (!decoded) {
        return make_error(Errc::InvalidArgument, "malformed cursor");
    }
    return std::move(*decoded);
}

template <class F>
Response guarded(Request& request, F&& body) {
    auto result = body();
    if (!result) {
        return error_response(request, result.error());
    }
    return std::move(*result);
}

}  // namespace

void add_auth_routes(Router& router, auth::AuthService& service, storage::AuditStore& audit_store) {
    const RouteOptions blocking{.blocking = true, .max_body_bytes = 16 << 10};

    router.add(Method::Post, "/api/v1/auth/login", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto body = json::parse_object(r, true);
            if (!body) {
                return body.error();
            }
            auto username = json::required_string(*body, "username", 256);
            auto password = json::required_string(*body, "password", 1024);
            if (!username) {
                return username.error();
            }
            if (!password) {
                return password.error();
            }
            auto pair = service.login(*username, *password, client_of(r));
            if (!pair && pair.error().code == Errc::RateLimited) {
                Response res = error_response(r.request_id, 429, "too_many_attempts",
                                              "too many failed login attempts; try again later");
                res.set_header("Retry-After", pair.error().detail);
                return no_store(std::move(res));
            }
            if (!pair) {
                Response res = error_response(r, pair.error());
                if (res.status == 401) {
                    res.set_header("WWW-Authenticate", R"(Bearer realm="securityai")");
                }
                return no_store(std::move(res));
            }
            return token_response(*pair);
        });
    }, blocking);

    router.add(Method::Post, "/api/v1/auth/refresh", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto body = json::parse_object(r, true);
            if (!body) {
                return body.error();
            }
            auto token = json::required_string(*body, "refresh_token", 256);
            if (!token) {
                return token.error();
            }
            auto pair = service.refresh(*token, client_of(r));
            if (!pair) {
                return no_store(error_response(r, pair.error()));
            }
            return token_response(*pair);
        });
    }, blocking);

    router.add(Method::Post, "/api/v1/auth/logout", [&service](Request& r) {
        if (auto done = service.logout(*r.principal, client_of(r)); !done) {
            return error_response(r, done.error());
        }
        return no_store(no_content());
    }, blocking);

    router.add(Method::Get, "/api/v1/auth/me", [&service](Request& r) {
        const auto& p = *r.principal;
        if (p.kind == model::Principal::Kind::ApiKey) {
            return no_store(json::ok(200, bj::object{{"id", p.id},
                                                     {"kind", "api_key"},
                                                     {"username", p.name},
                                                     {"role", model::to_string(p.role)},
                                                     {"created_at", nullptr},
                                                     {"last_login", nullptr}}));
        }
        // Served from memory: the dispatcher just authenticated this user, so the
        // profile is present unless the account was deleted a moment ago.
        auto user = service.cached_user(p.id);
        if (!user) {
            return error_response(r, make_error(Errc::NotFound, "user not found"));
        }
        return no_store(json::ok(200, bj::object{{"id", user->id},
                                                 {"kind", "user"},
                                                 {"username", user->username},
                                                 {"role", model::to_string(user->role)},
                                                 {"created_at", user->created_at},
                                                 {"last_login", json::nullable(user->last_login)}}));
    });

    // ---- users

    router.add(Method::Get, "/api/v1/users", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto limit = json::limit_param(r, 100, 1000);
            auto after = decode_cursor(r);
            if (!limit) {
                return limit.error();
            }
            if (!after) {
                return after.error();
            }
            auto users = service.list_users(*limit + 1, *after);
            if (!users) {
                return users.error();
            }
            bj::array items;
            const bool more = users->size() > *limit;
            if (more) {
                users->pop_back();
            }
            for (const auto& u : *users) {
                items.push_back(user_json(u));
            }
            return json::ok(200, bj::object{{"items", std::move(items)},
                                            {"next_cursor", more ? bj::value(encode_cursor(users->back().id))
                                                                 : bj::value(nullptr)}});
        });
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/users", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto body = json::parse_object(r);
            if (!body) {
                return body.error();
            }
            if (auto only = json::only_fields(*body, {"username", "password", "role"}); !only) {
                return only.error();
            }
            auto username = json::required_string(*body, "username", 256);
            auto password = json::required_string(*body, "password", 4096);
            auto role = json::optional_role(*body, "role");
            if (!username) return username.error();
            if (!password) return password.error();
            if (!role) return role.error();
            auto user = service.create_user(*username, *password, role->value_or(model::Role::Viewer), *r.principal,
                                            client_of(r));
            if (!user) {
                return user.error();
            }
            Response res = json::ok(201, user_json(*user));
            res.set_header("Location", "/api/v1/users/" + user->id);
            return res;
        });
    }, blocking);

    router.add(Method::Get, "/api/v1/users/{id}", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto user = service.get_user(r.param("id"));
            if (!user) {
                return user.error();
            }
            return json::ok(200, user_json(*user));
        });
    }, {.blocking = true});

    router.add(Method::Patch, "/api/v1/users/{id}", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto body = json::parse_object(r);
            if (!body) {
                return body.error();
            }
            if (auto only = json::only_fields(*body, {"role", "disabled", "password"}); !only) {
                return only.error();
            }
            auth::UserPatch patch;
            auto role = json::optional_role(*body, "role");
            auto disabled = json::optional_bool(*body, "disabled");
            auto password = json::optional_string(*body, "password", 4096);
            if (!role) return role.error();
            if (!disabled) return disabled.error();
            if (!password) return password.error();
            patch.role = *role;
            patch.disabled = *disabled;
            patch.password = *password;
            if (r.principal->id == r.param("id") && (patch.disabled.value_or(false) ||
                                                     (patch.role && *patch.role != model::Role::Admin))) {
                return make_error(Errc::Conflict, "admins cannot disable or demote themselves");
            }
            auto user = service.update_user(r.param("id"), patch, *r.principal, client_of(r));
            if (!user) {
                return user.error();
            }
            return json::ok(200, user_json(*user));
        });
    }, blocking);

    router.add(Method::Delete, "/api/v1/users/{id}", [&service](Request& r) {
        if (r.principal->id == r.param("id")) {
            return error_response(r, make_error(Errc::Conflict, "admins cannot delete themselves"));
        }
        if (auto done = service.delete_user(r.param("id"), *r.principal, client_of(r)); !done) {
            return error_response(r, done.error());
        }
        return no_content();
    }, {.blocking = true});

    // ---- API keys

    router.add(Method::Get, "/api/v1/api-keys", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto keys = service.list_api_keys();
            if (!keys) {
                return keys.error();
            }
            bj::array items;
            for (const auto& k : *keys) {
                items.push_back(key_json(k));
            }
            return json::ok(200, bj::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
        });
    }, {.blocking = true});

    router.add(Method::Post, "/api/v1/api-keys", [&service](Request& r) {
        return guarded(r, [&]() -> core::Result<Response> {
            auto body = json::parse_object(r);
            if (!body) {
                return body.error();
            }
            if (auto only = json::only_fields(*body, {"name", "role", "expires_at"}); !only) {
                return only.error();
            }
            auto name = json::required_string(*body, "name", 128);
            auto role = json::optional_role(*body, "role");
            auto expires = json::optional_string(*body, "expires_at", 64);
            if (!name) return name.error();
            if (!role) return role.error();
            if (!expires) return expires.error();
            auto created = service.create_api_key(*name, role->value_or(model::Role::Viewer), *expires, *r.principal,
                                                  client_of(r));
            if (!created) {
                return created.error();
            }
            bj::object out = key_json(created->key);
            out["key"] = created->secret;  // shown once
            Response res = no_store(json::ok(201, out));
            res.set_header("Location", "/api/v1/api-keys/" + created->key.id);
            return res;
        });
    }, blocking);

    router.add(Method::Delete, "/api/v1/api-keys/{id}", [&service](Request& r) {
        if (auto done = service.revoke_api_key(r.param("id"), *r.principal, client_of(r)); !done) {
            return error_response(r, done.error());
        }
        return no_content();
    }, {.blocking = true});

    // ---- audit

    router.add(Method::Get, "/api/v1/audit", [&audit_store, &service](Request& r) {
        service.flush_audit();  // what happened up to this request is in the answer
        return guarded(r, [&]() -> core::Result<Response> {
            storage::AuditQuery q;
            auto limit = json::limit_param(r, 100, 1000);
            if (!limit) {
                return limit.error();
            }
            q.limit = *limit + 1;
            for (const char* bound : {"from", "to"}) {
                if (auto t = r.query_param(bound)) {
                    auto parsed = core::parse_rfc3339_ms(*t);
                    if (!parsed) {
                        return make_error(Errc::InvalidArgument, std::string(bound) + " must be an RFC 3339 time");
                    }
                    (std::string_view(bound) == "from" ? q.from : q.to) = core::format_rfc3339_ms(*parsed);
                }
            }
            q.actor = r.query_param("actor");
            q.action = r.query_param("action");
            q.outcome = r.query_param("outcome");
            auto cursor = decode_cursor(r);
            if (!cursor) {
                return cursor.error();
            }
            if (!cursor->empty()) {
                auto [end, ec] = std::from_chars(cursor->data(), cursor->data() + cursor->size(), q.before_seq);
                if (ec != std::errc{} || end != cursor->data() + cursor->size() || q.before_seq < 1) {
                    return make_error(Errc::InvalidArgument, "malformed cursor");
                }
            }
            auto entries = audit_store.query(q);
            if (!entries) {
                return entries.error();
            }
            const bool more = entries->size() > *limit;
            if (more) {
                entries->pop_back();
            }
            bj::array items;
            for (const auto& e : *entries) {
                items.push_back(audit_json(e));
            }
            return json::ok(200, bj::object{{"items", std::move(items)},
                                            {"next_cursor", more ? bj::value(encode_cursor(
                                                                       std::to_string(entries->back().seq)))
                                                                 : bj::value(nullptr)}});
        });
    }, {.blocking = true});

    router.add(Method::Get, "/api/v1/audit/verify", [&audit_store, &service](Request& r) {
        service.flush_audit();
        return guarded(r, [&]() -> core::Result<Response> {
            auto v = auth::verify_audit_chain(audit_store);
            if (!v) {
                return v.error();
            }
            return json::ok(200, bj::object{{"ok", v->ok},
                                            {"entries", v->entries},
                                            {"first_broken_seq", v->ok ? bj::value(nullptr) : bj::value(v->first_broken_seq)},
                                            {"reason", v->reason}});
        });
    }, {.blocking = true});
}

}  // namespace sai::api
