#include "core/config.hpp"

#include "testkit/temp_dir.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

namespace sai::core {
namespace {

ConfigSources sources_with(std::map<std::string, std::string> env, std::optional<std::string> file = std::nullopt,
                           std::vector<std::pair<std::string, std::string>> overrides = {}) {
    ConfigSources s;
    s.file = std::move(file);
    s.env = [env = std::move(env)](const std::string& name) -> std::optional<std::string> {
        auto it = env.find(name);
        if (it == env.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    s.overrides = std::move(overrides);
    return s;
}

std::string write_file(const testkit::TempDir& dir, const std::string& text) {
    const auto path = dir.path() / "securityai.toml";
    std::ofstream(path) << text;
    return path.string();
}

TEST(ConfigTest, DefaultsAreEmbeddedDevelopmentOnLoopback) {
    auto config = load_config(sources_with({}));
    ASSERT_TRUE(config) << config.error().detail;
    EXPECT_EQ(config->environment, "development");
    EXPECT_EQ(config->http.host, "127.0.0.1");
    EXPECT_EQ(config->http.port, 8000);
    EXPECT_EQ(config->data_dir, "./data");
    EXPECT_EQ(config->http.max_body_bytes, 1u << 20);
}

TEST(ConfigTest, FileThenEnvironmentThenFlags) {
    testkit::TempDir dir;
    const auto file = write_file(dir, R"(
environment = "staging"
data_dir = "/from/file"
[http]
port = 9000
host = "0.0.0.0"
workers = 3
[log]
level = "warn"
)");
    auto config = load_config(sources_with({{"PORT", "9100"}, {"DATA_DIR", "/from/env"}}, file,
                                           {{"http.port", "9200"}}));
    ASSERT_TRUE(config) << config.error().detail;
    EXPECT_EQ(config->environment, "staging");  // file only
    EXPECT_EQ(config->http.host, "0.0.0.0");    // file only
    EXPECT_EQ(config->http.workers, 3);
    EXPECT_EQ(config->log.level, "warn");
    EXPECT_EQ(config->data_dir, "/from/env");  // env beats file
    EXPECT_EQ(config->http.port, 9200);        // flag beats env and file
}

TEST(ConfigTest, InvalidEnvironmentValueNamesTheVariable) {
    auto config = load_config(sources_with({{"PORT", "99999"}}));
    ASSERT_FALSE(config);
    EXPECT_EQ(config.error().code, Errc::InvalidArgument);
    EXPECT_NE(config.error().detail.find("PORT"), std::string::npos) << config.error().detail;
    EXPECT_NE(config.error().detail.find("http.port"), std::string::npos) << config.error().detail;
}

TEST(ConfigTest, UnknownFileKeyIsRejected) {
    testkit::TempDir dir;
    const auto file = write_file(dir, "[http]\nprot = 1\n");
    auto config = load_config(sources_with({}, file));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("http.prot"), std::string::npos) << config.error().detail;
}

TEST(ConfigTest, ParserTableIsLeftToTheParser) {
    testkit::TempDir dir;
    const auto file = write_file(dir, "[parser]\nsimilarity = 0.7\n[[parser.formats]]\nname = \"x\"\n[http]\nport = 9000\n");
    ConfigSources sources;
    sources.file = file;
    auto config = load_config(sources);
    ASSERT_TRUE(config) << config.error().detail;
    EXPECT_EQ(config->http.port, 9000);
}

TEST(ConfigTest, TomlSyntaxErrorHasLineNumber) {
    testkit::TempDir dir;
    const auto file = write_file(dir, "environment = \"development\"\nport = = 3\n");
    auto config = load_config(sources_with({}, file));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find(":2:"), std::string::npos) << config.error().detail;
}

TEST(ConfigTest, MissingFileIsAnError) {
    auto config = load_config(sources_with({}, "/nonexistent/securityai.toml"));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("/nonexistent/securityai.toml"), std::string::npos);
}

TEST(ConfigTest, WrongTypeInFileIsRejected) {
    testkit::TempDir dir;
    const auto file = write_file(dir, "[http]\nport = \"eighty\"\n");
    auto config = load_config(sources_with({}, file));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("http.port"), std::string::npos);
}

TEST(ConfigTest, ProductionRefusesDefaultSecret) {
    auto config = load_config(sources_with({{"ENVIRONMENT", "production"}}));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("SECRET_KEY"), std::string::npos);
}

TEST(ConfigTest, ProductionRefusesShortSecret) {
    auto config = load_config(sources_with({{"ENVIRONMENT", "production"}, {"SECRET_KEY", "short-secret"}}));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("32 bytes"), std::string::npos);
}

TEST(ConfigTest, ProductionAcceptsLongSecret) {
    auto config = load_config(
        sources_with({{"ENVIRONMENT", "production"}, {"SECRET_KEY", std::string(48, 'k')}}));
    ASSERT_TRUE(config) << config.error().detail;
    EXPECT_TRUE(config->is_production());
}

TEST(ConfigTest, ProductionWithoutTlsListensOnANetworkOnlyBehindATlsProxy) {
    const std::string key(48, 'k');
    auto open = load_config(sources_with({{"ENVIRONMENT", "production"}, {"SECRET_KEY", key}, {"HOST", "0.0.0.0"}}));
    ASSERT_FALSE(open);
    EXPECT_NE(open.error().detail.find("BEHIND_TLS_PROXY"), std::string::npos);
    auto proxied = load_config(sources_with(
        {{"ENVIRONMENT", "production"}, {"SECRET_KEY", key}, {"HOST", "0.0.0.0"}, {"BEHIND_TLS_PROXY", "true"}}));
    ASSERT_TRUE(proxied) << proxied.error().detail;
    EXPECT_TRUE(proxied->http.behind_tls_proxy);
}

TEST(ConfigTest, UnknownEnvironmentNameIsRejected) {
    auto config = load_config(sources_with({{"ENVIRONMENT", "prod"}}));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("ENVIRONMENT"), std::string::npos);
}

TEST(ConfigTest, CorsOriginsFromArrayAndCommaList) {
    testkit::TempDir dir;
    const auto file = write_file(dir, "[http]\ncors_origins = [\"https://a.example\", \"https://b.example\"]\n");
    auto from_file = load_config(sources_with({}, file));
    ASSERT_TRUE(from_file) << from_file.error().detail;
    EXPECT_EQ(from_file->http.cors_origins, (std::vector<std::string>{"https://a.example", "https://b.example"}));

    auto from_env = load_config(sources_with({{"CORS_ORIGINS", "https://c.example, https://d.example"}}));
    ASSERT_TRUE(from_env);
    EXPECT_EQ(from_env->http.cors_origins, (std::vector<std::string>{"https://c.example", "https://d.example"}));
}

TEST(ConfigTest, UnknownOverrideKeyIsRejected) {
    auto config = load_config(sources_with({}, std::nullopt, {{"http.nope", "1"}}));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().detail.find("http.nope"), std::string::npos);
}

TEST(ConfigTest, EveryKeyIsDocumented) {
    for (const auto& key : config_keys()) {
        EXPECT_FALSE(key.description.empty()) << key.key;
    }
}

}  // namespace
}  // namespace sai::core
