// Fuzz target: untrusted request pieces — query strings and form bodies, path
// percent-decoding, and access tokens (JWT shape and signature checks).
#include "api/http.hpp"
#include "auth/jwt.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    (void)sai::api::parse_form(input);
    (void)sai::api::url_decode(input, true);
    sai::api::Request request;
    request.query = std::string(input);
    (void)request.query_param("q");
    static const sai::auth::JwtCodec codec({.secret = std::string(40, 'k')}, 0);
    auto claims = codec.verify(input, 1'795'000'000);
    if (claims) {
        __builtin_trap();  // nothing random can carry a valid signature
    }
    return 0;
}
