#include "core/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace sai::core {
namespace {

constexpr std::size_t kMaxBody = 64 * 1024;

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
    auto* out = static_cast<std::string*>(user);
    const std::size_t bytes = size * n;
    if (out->size() < kMaxBody) {
        out->append(data, std::min(bytes, kMaxBody - out->size()));
    }
    return bytes;
}

class CurlClient final : public HttpClient {
public:
    CurlClient() {
        static std::once_flag once;
        std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    }

    Result<HttpResult> post(const std::string& url, const Headers& headers, const std::string& body,
                            std::chrono::milliseconds timeout) override {
        std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
        if (!curl) return make_error(Errc::Internal, "curl_easy_init failed");
        curl_slist* list = nullptr;
        for (const auto& [name, value] : headers) {
            list = curl_slist_append(list, (name + ": " + value).c_str());
        }
        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(list, curl_slist_free_all);
        HttpResult result;
        CURL* c = curl.get();
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<std::int64_t>(timeout.count(), 5000)));
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "securityai");
        const CURLcode rc = curl_easy_perform(c);
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            return make_error(Errc::Timeout, "no answer within " + std::to_string(timeout.count()) + " ms");
        }
        if (rc != CURLE_OK) {
            return make_error(Errc::Unavailable, curl_easy_strerror(rc));
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        result.status = static_cast<int>(status);
        return result;
    }
};

}  // namespace

std::unique_ptr<HttpClient> make_http_client() { return std::make_unique<CurlClient>(); }

}  // namespace sai::core
