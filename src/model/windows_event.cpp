#include "windows_event.hpp"
#include "model/json_write.hpp"

#include <boost/json.hpp>

namespace sai::model {
namespace {

namespace bj = boost::json;

/// `{"#attributes": {...}}` of an XML-exported element, or null.
const bj::object* attributes(const bj::value* v) {
    if (v == nullptr || !v->is_object()) {
        return nullptr;
    }
    const auto* a = v->get_object().if_contains("#attributes");
    return a != nullptr && a->is_object() ? &a->get_object() : nullptr;
}

/// The text of an element exported either as a scalar or as {"#text": ..., "#attributes": ...}.
const bj::value* text_of(const bj::value* v) {
    if (v != nullptr && v->is_object()) {
        return v->get_object().if_contains("#text");
    }
    return v;
}

void copy(const bj::value* from, bj::object& to, std::string_view key) {
    if (from != nullptr && !from->is_null() && !from->is_object()) {
        to[key] = *from;
    }
}

/// EventData/UserData members by name. Handles the plain {"Name": value} form and
/// the XML form {"Data": [{"#attributes": {"Name": ...}, "#text": ...}, ...]}.
void named_data(const bj::object& data, bj::object& out) {
    for (const auto& kv : data) {
        if (kv.key() == "#attributes") {
            continue;
        }
        const bj::value& v = kv.value();
        if (kv.key() == "Data" && (v.is_array() || v.is_object())) {
            const bj::array single{v};
            const bj::array& items = v.is_array() ? v.get_array() : single;
            for (const auto& item : items) {
                const auto* a = attributes(&item);
                const auto* name = a != nullptr ? a->if_contains("Name") : nullptr;
                if (name != nullptr && name->is_string()) {
                    const auto* t = text_of(&item);
                    out[name->get_string()] = t != nullptr && !t->is_object() ? *t : bj::value("");
                }
            }
            continue;
        }
        if (v.is_object()) {
            const auto* t = v.get_object().if_contains("#text");
            if (t != nullptr) {
                out[kv.key()] = *t;
            }
            continue;
        }
        out[kv.key()] = v;
    }
}

}  // namespace

bool windows_event_to_winlog(const bj::object& event, bj::object& out) {
    const auto* system_v = event.if_contains("System");
    if (system_v == nullptr || !system_v->is_object()) {
        return false;
    }
    const bj::object& system = system_v->get_object();
    bj::object winlog;
    if (const auto* p = attributes(system.if_contains("Provider"))) {
        copy(p->if_contains("Name"), winlog, "provider_name");
        copy(p->if_contains("Guid"), winlog, "provider_guid");
    }
    const bj::value* event_id = text_of(system.if_contains("EventID"));
    copy(event_id, winlog, "event_id");
    copy(system.if_contains("Version"), winlog, "version");
    copy(system.if_contains("Level"), winlog, "level");
    copy(system.if_contains("Task"), winlog, "task");
    copy(system.if_contains("Opcode"), winlog, "opcode");
    copy(system.if_contains("Keywords"), winlog, "keywords");
    copy(system.if_contains("EventRecordID"), winlog, "record_id");
    copy(system.if_contains("Channel"), winlog, "channel");
    copy(system.if_contains("Computer"), winlog, "computer_name");
    if (const auto* x = attributes(system.if_contains("Execution"))) {
        bj::object process;
        copy(x->if_contains("ProcessID"), process, "pid");
        if (const auto* tid = x->if_contains("ThreadID"); tid != nullptr && !tid->is_object()) {
            process["thread"] = bj::object{{"id", *tid}};
        }
        winlog["process"] = std::move(process);
    }
    if (const auto* s = attributes(system.if_contains("Security"))) {
        if (const auto* uid = s->if_contains("UserID"); uid != nullptr && !uid->is_object()) {
            winlog["user"] = bj::object{{"identifier", *uid}};
        }
    }
    bj::object event_data;
    if (const auto* d = event.if_contains("EventData"); d != nullptr && d->is_object()) {
        named_data(d->get_object(), event_data);
    }
    winlog["event_data"] = std::move(event_data);
    if (const auto* u = event.if_contains("UserData"); u != nullptr && u->is_object()) {
        // UserData wraps its fields in one provider-specific element (e.g. "EventXML").
        bj::object user_data;
        for (const auto& kv : u->get_object()) {
            if (kv.value().is_object()) {
                named_data(kv.value().get_object(), user_data);
            }
        }
        winlog["user_data"] = std::move(user_data);
    }
    if (const auto* t = attributes(system.if_contains("TimeCreated"))) {
        copy(t->if_contains("SystemTime"), out, "@timestamp");
    }
    if (const auto* c = system.if_contains("Computer"); c != nullptr && c->is_string()) {
        out["host"] = bj::object{{"name", *c}};
    }
    if (event_id != nullptr && (event_id->is_int64() || event_id->is_uint64() || event_id->is_string())) {
        out["event"] = bj::object{{"code", event_id->is_string() ? bj::value(event_id->get_string())
                                                                 : bj::value(model::to_json_text(*event_id))}};
    }
    out["winlog"] = std::move(winlog);
    return true;
}

}  // namespace sai::model
