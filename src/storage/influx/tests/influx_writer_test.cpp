#include "storage/influx/influx_writer.hpp"

#include <gtest/gtest.h>

#include <mutex>

namespace sai::storage::influx {
namespace {

TEST(LineProtocolTest, EscapesAndTypes) {
    Point p{"events per minute",
            {{"category", "authentication"}, {"host name", "web,1=a"}, {"empty", ""}},
            {{"count", std::int64_t{12}}, {"rate", 0.5}, {"ok", true}, {"note", std::string("say \"hi\"\\")}},
            1'795'000'000'000};
    EXPECT_EQ(to_line(p),
              "events\\ per\\ minute,category=authentication,host\\ name=web\\,1\\=a "
              "count=12i,rate=0.5,ok=true,note=\"say \\\"hi\\\"\\\\\" 1795000000000");
    EXPECT_EQ(to_line(Point{"m", {}, {}, 1}), "");  // no fields: not a point
}

/// Answers with scripted statuses (0 = no answer) and records the requests.
class FakeClient final : public core::HttpClient {
public:
    std::vector<int> statuses;
    std::vector<std::pair<std::string, std::string>> requests;  // url, body
    std::mutex mutex;
    core::Result<core::HttpResult> post(const std::string& url, const Headers&, const std::string& body,
                                        std::chrono::milliseconds) override {
        std::lock_guard lock(mutex);
        requests.emplace_back(url, body);
        const int s = statuses.empty() ? 204 : statuses.front();
        if (statuses.size() > 1) statuses.erase(statuses.begin());
        if (s == 0) return core::make_error(core::Errc::Unavailable, "connection refused");
        return core::HttpResult{s, ""};
    }
};

TEST(InfluxWriterTest, WritesBatchesToTheV1ApiAfterCreatingTheDatabase) {
    auto client = std::make_unique<FakeClient>();
    auto* fake = client.get();
    InfluxOptions o;
    o.url = "http://127.0.0.1:8086/";
    o.max_batch = 2;
    auto w = InfluxWriter::open(o, std::move(client)).value();
    std::vector<Point> points;
    for (int i = 0; i < 3; ++i) points.push_back({"m", {}, {{"v", std::int64_t{i}}}, 1000 + i});
    w->write(points);
    ASSERT_TRUE(w->flush());
    ASSERT_EQ(fake->requests.size(), 3u);  // CREATE DATABASE, then two batches
    EXPECT_EQ(fake->requests[0].first, "http://127.0.0.1:8086/query");
    EXPECT_EQ(fake->requests[1].first, "http://127.0.0.1:8086/write?db=securityai&precision=ms");
    EXPECT_EQ(fake->requests[1].second, "m v=0i 1000\nm v=1i 1001\n");
    EXPECT_EQ(w->stats().written, 3u);
    EXPECT_TRUE(w->health());
}

TEST(InfluxWriterTest, V2UrlNeedsOrgAndToken) {
    InfluxOptions o;
    o.url = "http://x:8086";
    o.bucket = "b";
    EXPECT_FALSE(InfluxWriter::open(o));
    o.org = "acme corp";
    o.token = "t";
    auto client = std::make_unique<FakeClient>();
    auto* fake = client.get();
    auto w = InfluxWriter::open(o, std::move(client)).value();
    w->write({{"m", {}, {{"v", 1.0}}, 1}});
    ASSERT_TRUE(w->flush());
    EXPECT_EQ(fake->requests[0].first, "http://x:8086/api/v2/write?org=acme%20corp&bucket=b&precision=ms");
    o.url = "ftp://x";
    EXPECT_FALSE(InfluxWriter::open(o));
}

TEST(InfluxWriterTest, FailuresKeepPointsDegradeHealthAndOpenTheBreaker) {
    auto client = std::make_unique<FakeClient>();
    auto* fake = client.get();
    fake->statuses = {204, 0, 0, 0, 204};  // database created, three failures, then up again
    InfluxOptions o;
    o.url = "http://127.0.0.1:1";
    o.max_attempts = 3;
    o.backoff = std::chrono::milliseconds(1);
    o.breaker_threshold = 3;
    o.breaker_cooldown = std::chrono::milliseconds(50);
    auto w = InfluxWriter::open(o, std::move(client)).value();
    w->write({{"m", {}, {{"v", 1.0}}, 1}});
    EXPECT_FALSE(w->flush());
    EXPECT_FALSE(w->health());
    EXPECT_EQ(w->stats().pending, 1u);  // kept for the next round
    EXPECT_FALSE(w->flush());           // breaker open: no request made
    EXPECT_EQ(fake->requests.size(), 4u);
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    EXPECT_TRUE(w->flush());  // half-open trial succeeds
    EXPECT_TRUE(w->health());
    EXPECT_EQ(w->stats().written, 1u);
}

TEST(InfluxWriterTest, QueueIsBoundedOldestDropped) {
    InfluxOptions o;
    o.url = "http://127.0.0.1:1";
    o.max_pending = 2;
    auto w = InfluxWriter::open(o, std::make_unique<FakeClient>()).value();
    w->write({{"m", {}, {{"v", 1.0}}, 1}, {"m", {}, {{"v", 2.0}}, 2}, {"m", {}, {{"v", 3.0}}, 3}});
    EXPECT_EQ(w->stats().pending, 2u);
    EXPECT_EQ(w->stats().dropped, 1u);
}

}  // namespace
}  // namespace sai::storage::influx
