#pragma once
// Private to model/: the Windows event shape exported from .evtx files
// ({"Event": {"System": {...}, "EventData": {...}}}) rewritten into Winlogbeat's
// ECS shape ({"winlog": {"event_id", "channel", "provider_name", "event_data": {...}}}),
// so both shapes reach the same event paths.

#include <boost/json/fwd.hpp>

namespace sai::model {

/// True when `event` (the value of a top-level "Event" key) has the Windows
/// System/EventData shape; fills `out` with the equivalent Winlogbeat document
/// (winlog.*, @timestamp, host.name, event.code).
bool windows_event_to_winlog(const boost::json::object& event, boost::json::object& out);

}  // namespace sai::model
