#include "model/json_write.hpp"

#include "core/json_text.hpp"

#include <boost/json.hpp>

#include <charconv>

namespace sai::model {
namespace bj = boost::json;
namespace {

template <typename Integer>
void append_integer(std::string& out, Integer value) {
    char buf[24];
    const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
    out.append(buf, end);
}

/// `open`, each element written by `write` with commas between, `close`.
template <typename Range, typename Write>
void append_list(std::string& out, char open, const Range& range, char close, Write write) {
    out.push_back(open);
    bool first = true;
    for (const auto& element : range) {
        if (!first) {
            out.push_back(',');
        }
        first = false;
        write(element);
    }
    out.push_back(close);
}

void append_object(std::string& out, const bj::object& object) {
    append_list(out, '{', object, '}', [&](const bj::key_value_pair& member) {
        core::append_json_string(out, member.key());
        out.push_back(':');
        append_json_text(out, member.value());
    });
}

void append_array(std::string& out, const bj::array& array) {
    append_list(out, '[', array, ']', [&](const bj::value& element) { append_json_text(out, element); });
}

}  // namespace

void append_json_text(std::string& out, const bj::value& value) {
    switch (value.kind()) {
    case bj::kind::null: out += "null"; break;
    case bj::kind::bool_: out += value.get_bool() ? "true" : "false"; break;
    case bj::kind::int64: append_integer(out, value.get_int64()); break;
    case bj::kind::uint64: append_integer(out, value.get_uint64()); break;
    case bj::kind::double_: core::append_json_number(out, value.get_double()); break;
    case bj::kind::string: core::append_json_string(out, value.get_string()); break;
    case bj::kind::array: append_array(out, value.get_array()); break;
    case bj::kind::object: append_object(out, value.get_object()); break;
    }
}

// Most texts written are documents of a few hundred bytes: start there rather than
// growing the string from its inline capacity several times.
constexpr std::size_t kInitialCapacity = 512;

std::string to_json_text(const bj::value& value) {
    std::string out;
    out.reserve(kInitialCapacity);
    append_json_text(out, value);
    return out;
}

std::string to_json_text(const bj::object& object) {
    std::string out;
    out.reserve(kInitialCapacity);
    append_object(out, object);
    return out;
}

std::string to_json_text(const bj::array& array) {
    std::string out;
    out.reserve(kInitialCapacity);
    append_array(out, array);
    return out;
}

}  // namespace sai::model
