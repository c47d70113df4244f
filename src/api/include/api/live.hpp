#pragma once
// The live stream (WebSocket /api/v1/monitor/ws) without Beast: the server owns
// the socket and calls a LiveService; the service pushes text frames back
// through the LiveChannel. Frames are JSON: {"type": "event"|"metrics"|"lagged"|...}.

#include "api/http.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sai::api {

using Frame = std::shared_ptr<const std::string>;

/// The server's side of one WebSocket connection. send() may be called from any
/// thread; frames beyond the connection's queue bound are dropped and reported
/// to the client as {"type":"lagged","dropped":N}; a client that stays behind is closed.
class LiveChannel {
public:
    virtual ~LiveChannel() = default;
    virtual void send(std::vector<Frame> frames) = 0;
};

/// One subscriber, created per connection by the LiveService.
class LiveConnection {
public:
    virtual ~LiveConnection() = default;
    /// A text frame from the client (subscribe, ping...). Runs on the connection's thread.
    virtual void on_message(std::string_view text) = 0;
};

class LiveService {
public:
    virtual ~LiveService() = default;
    /// Called after the upgrade, with the authenticated request. The connection is
    /// released (and unsubscribed) when the socket closes.
    virtual std::shared_ptr<LiveConnection> open(const Request& request, std::shared_ptr<LiveChannel> channel) = 0;
};

}  // namespace sai::api
