// HttpPoster on libcurl: one easy handle per call (webhooks are rare), no
// redirects, HTTP(S) only, a hard time limit, the response body discarded.

#include "alerts/remediation.hpp"

#include <curl/curl.h>

#include <memory>

namespace sai::alerts {
namespace {

std::size_t discard(char*, std::size_t size, std::size_t n, void*) { return size * n; }

class CurlPoster final : public HttpPoster {
public:
    CurlPoster() { curl_global_init(CURL_GLOBAL_DEFAULT); }

    core::Result<int> post(const std::string& url, const std::vector<std::pair<std::string, std::string>>& headers,
                           const std::string& body, std::chrono::milliseconds timeout) override {
        std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
        if (!curl) return core::make_error(core::Errc::Internal, "curl_easy_init failed");
        curl_slist* list = nullptr;
        for (const auto& [name, value] : headers) {
            list = curl_slist_append(list, (name + ": " + value).c_str());
        }
        std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_list(list, curl_slist_free_all);
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
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "securityai-webhook");
        const CURLcode rc = curl_easy_perform(c);
        if (rc == CURLE_OPERATION_TIMEDOUT) {
            return core::make_error(core::Errc::Timeout, "no answer within " + std::to_string(timeout.count()) + " ms");
        }
        if (rc != CURLE_OK) {
            return core::make_error(core::Errc::Unavailable, curl_easy_strerror(rc));
        }
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        return static_cast<int>(status);
    }
};

}  // namespace

std::unique_ptr<HttpPoster> make_curl_poster() { return std::make_unique<CurlPoster>(); }

}  // namespace sai::alerts
