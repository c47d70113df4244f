#include "parser/entity_extractor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace sai::parser {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

class EntityExtractorTest : public testing::Test {
protected:
    std::vector<std::string> values(std::string_view text, EntityType type) {
        std::vector<std::string> out;
        for (const auto& e : extractor_->extract(text).items) {
            if (e.type == type) {
                out.push_back(e.value);
                EXPECT_EQ(text.substr(e.begin, e.end - e.begin), e.value) << "offsets of " << e.value;
            }
        }
        return out;
    }

    // Compiled once for the suite, as in production.
    static void SetUpTestSuite() { shared_ = EntityExtractor::create().value(); }
    static void TearDownTestSuite() { shared_.reset(); }
    static inline std::shared_ptr<const EntityExtractor> shared_;
    const EntityExtractor* extractor_ = shared_.get();
};

TEST_F(EntityExtractorTest, Ipv4) {
    EXPECT_THAT(values("from 173.234.31.186 port 22", EntityType::Ipv4), ElementsAre("173.234.31.186"));
    EXPECT_THAT(values("to /10.0.0.1:50010.", EntityType::Ipv4), ElementsAre("10.0.0.1"));
    EXPECT_THAT(values("version 1.2.3.4.5 and 300.1.1.1 and 1.2.3", EntityType::Ipv4), IsEmpty());
    // As inet_pton(): no group above 255, no leading zero ("0" alone is one).
    EXPECT_THAT(values("1.2.3.256 01.2.3.4 1.2.3.00 0.0.0.0 255.255.255.255", EntityType::Ipv4),
                ElementsAre("0.0.0.0", "255.255.255.255"));
}

TEST_F(EntityExtractorTest, Ipv6) {
    EXPECT_THAT(values("peer fe80::1ff:fe23:4567:890a up", EntityType::Ipv6), ElementsAre("fe80::1ff:fe23:4567:890a"));
    EXPECT_THAT(values("at 2001:db8:0:0:1:0:0:1", EntityType::Ipv6), ElementsAre("2001:db8:0:0:1:0:0:1"));
    EXPECT_THAT(values("at 12:30:45 on a:b:c", EntityType::Ipv6), IsEmpty());
    // Eight groups of four digits (colons five characters apart), after colons further apart.
    EXPECT_THAT(values("k: v, k2: v2, ip: 2001:0db8:85a3:0000:0000:8a2e:0370:7334 x", EntityType::Ipv6),
                ElementsAre("2001:0db8:85a3:0000:0000:8a2e:0370:7334"));
}

TEST_F(EntityExtractorTest, Mac) {
    EXPECT_THAT(values("hw 00:1A:2b:3c:4D:5e ok", EntityType::Mac), ElementsAre("00:1A:2b:3c:4D:5e"));
    EXPECT_THAT(values("hw 00-1a-2b-3c-4d-5e", EntityType::Mac), ElementsAre("00-1a-2b-3c-4d-5e"));
    EXPECT_THAT(values("hw 00:1a:2b:3c:4d and 12:30:45", EntityType::Mac), IsEmpty());
}

TEST_F(EntityExtractorTest, EmailUrlDomain) {
    const auto text = "mail bob.smith@example.org then https://www.example.com/a?b=1 and api.github.com.";
    EXPECT_THAT(values(text, EntityType::Email), ElementsAre("bob.smith@example.org"));
    EXPECT_THAT(values(text, EntityType::Url), ElementsAre("https://www.example.com/a?b=1"));
    EXPECT_THAT(values(text, EntityType::Domain), ElementsAre("api.github.com"));
    EXPECT_THAT(values("workerEnv.init() ok dfs.DataNode x@y", EntityType::Domain), IsEmpty());
    EXPECT_THAT(values("x@y and user@host", EntityType::Email), IsEmpty());
    EXPECT_THAT(values("not a url: www.example", EntityType::Url), IsEmpty());
}

TEST_F(EntityExtractorTest, Paths) {
    EXPECT_THAT(values("open /etc/httpd/conf/workers2.properties failed", EntityType::UnixPath),
                ElementsAre("/etc/httpd/conf/workers2.properties"));
    EXPECT_THAT(values("file=/var/log/auth.log", EntityType::UnixPath), ElementsAre("/var/log/auth.log"));
    EXPECT_THAT(values("ratio 1/2 and /single", EntityType::UnixPath), IsEmpty());
    EXPECT_THAT(values(R"(Loaded C:\Windows\winsxs\cbscore.dll now)", EntityType::WindowsPath),
                ElementsAre(R"(C:\Windows\winsxs\cbscore.dll)"));
    EXPECT_THAT(values(R"(ratio C:/x and C:)", EntityType::WindowsPath), IsEmpty());
}

TEST_F(EntityExtractorTest, Hashes) {
    const std::string md5(32, 'a'), sha1(40, 'b'), sha256(64, 'c');
    EXPECT_THAT(values("md5 " + md5, EntityType::Md5), ElementsAre(md5));
    EXPECT_THAT(values("sha1 " + sha1 + ".", EntityType::Sha1), ElementsAre(sha1));
    EXPECT_THAT(values("sha256=" + sha256, EntityType::Sha256), ElementsAre(sha256));
    EXPECT_THAT(values("hex " + std::string(33, 'a') + " " + std::string(31, 'f'), EntityType::Md5), IsEmpty());
}

TEST_F(EntityExtractorTest, Ports) {
    EXPECT_THAT(values("from 1.2.3.4 port 50022 ssh2", EntityType::Port), ElementsAre("50022"));
    EXPECT_THAT(values("to 10.0.0.1:8080 done", EntityType::Port), ElementsAre("8080"));
    EXPECT_THAT(values("port 99999 and 10.0.0.1:70000 and report 22", EntityType::Port), IsEmpty());
}

TEST_F(EntityExtractorTest, Users) {
    EXPECT_THAT(values("Failed password for root from 1.2.3.4", EntityType::User), ElementsAre("root"));
    EXPECT_THAT(values("Failed password for invalid user admin from 1.2.3.4", EntityType::User), ElementsAre("admin"));
    EXPECT_THAT(values("session opened user=alice tty", EntityType::User), ElementsAre("alice"));
    EXPECT_THAT(values("check pass; user unknown", EntityType::User), IsEmpty());
    EXPECT_THAT(values("No more user authentication methods", EntityType::User), IsEmpty());
    // sudo: the account acting comes first, then the one the command runs as.
    EXPECT_THAT(values("alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; "
                       "COMMAND=/bin/bash",
                       EntityType::User),
                ElementsAre("alice", "root"));
    EXPECT_THAT(values("Nov 30 00:53:52 vm sudo:   bob.smith : TTY=pts/1 ; PWD=/ ; USER=postgres ; COMMAND=/usr/bin/id",
                       EntityType::User),
                ElementsAre("bob.smith", "postgres"));
    EXPECT_THAT(values("TTY=pts/1 ; USER=root", EntityType::User), ElementsAre("root"));
    EXPECT_THAT(values("a:b TTY=pts/1 ; USER=root", EntityType::User), ElementsAre("root"));
}

TEST_F(EntityExtractorTest, ProcessAndPid) {
    EXPECT_THAT(values("LabSZ sshd[24200]: Invalid user", EntityType::Process), ElementsAre("sshd"));
    EXPECT_THAT(values("LabSZ sshd[24200]: Invalid user", EntityType::Pid), ElementsAre("24200"));
    EXPECT_THAT(values("combo sshd(pam_unix)[19939]: check", EntityType::Process), ElementsAre("sshd(pam_unix)"));
    EXPECT_THAT(values("array[i] and [123] alone", EntityType::Pid), IsEmpty());
}

TEST_F(EntityExtractorTest, Http) {
    const auto line = R"(1.2.3.4 - - [x] "GET /index.html HTTP/1.1" 404 209)";
    EXPECT_THAT(values(line, EntityType::HttpMethod), ElementsAre("GET"));
    EXPECT_THAT(values(line, EntityType::HttpStatus), ElementsAre("404"));
    EXPECT_THAT(values("proxy status code 503 returned", EntityType::HttpStatus), ElementsAre("503"));
    EXPECT_THAT(values("GET ready, status 42, POSTs", EntityType::HttpMethod), IsEmpty());
    EXPECT_THAT(values("GET ready, status 42, POSTs", EntityType::HttpStatus), IsEmpty());
}

TEST_F(EntityExtractorTest, Outcome) {
    EXPECT_EQ(extractor_->extract("Accepted password for root").outcome, "success");
    EXPECT_EQ(extractor_->extract("Failed password for root").outcome, "failure");
    EXPECT_EQ(extractor_->extract("Access DENIED after accepted handshake").outcome, "failure");
    EXPECT_EQ(extractor_->extract("Connection closed by peer").outcome, "unknown");
    EXPECT_EQ(extractor_->extract("Server listening on 0.0.0.0").outcome, "");
    EXPECT_EQ(extractor_->extract("unfailedness closedown").outcome, "");
}

TEST_F(EntityExtractorTest, WordBoundariesAndCase) {
    EXPECT_THAT(values("PORT=8080 and Port: 22", EntityType::Port), ElementsAre("8080", "22"));
    EXPECT_THAT(values("ports 22 and port_1 22 and port 123456", EntityType::Port), IsEmpty());
    EXPECT_THAT(values("USERNAME=carol", EntityType::User), ElementsAre("carol"));
    EXPECT_THAT(values("For root from 1.2.3.4", EntityType::User), IsEmpty()) << "\"for X from\" is case-sensitive";
    EXPECT_THAT(values("POST https://api.example.com/v1 and get /x", EntityType::HttpMethod), ElementsAre("POST"));
    EXPECT_THAT(values("Status Code: 404 and status 4040", EntityType::HttpStatus), ElementsAre("404"));
    EXPECT_THAT(values("x1.2.3.4 and a.10.0.0.1 and 10.0.0.1x", EntityType::Ipv4), IsEmpty());
    EXPECT_THAT(values(std::string("_").append(32, 'a').append(" ").append(32, 'g'), EntityType::Md5), IsEmpty());
    EXPECT_EQ(extractor_->extract("Connection TIMED OUT").outcome, "unknown");
    EXPECT_EQ(extractor_->extract("timed  out, failed_login, error1").outcome, "");
}

TEST_F(EntityExtractorTest, EntityAtTheEndOfTheLineIsFoundAsInTheMiddle) {
    // An e-mail address followed by '_' is not one, wherever it is (its domain is).
    for (const std::string tail : {"", " next"}) {
        const auto text = "mail 404@failed.io_" + tail;
        EXPECT_THAT(values(text, EntityType::Email), IsEmpty()) << text;
        EXPECT_THAT(values(text, EntityType::Domain), ElementsAre("failed.io")) << text;
    }
}

TEST_F(EntityExtractorTest, BadInputIsHandled) {
    EXPECT_TRUE(extractor_->extract("").items.empty());
    static constexpr char kBinary[] = "\x00\xff 10.0.0.1 \x80\x00";
    const std::string binary(kBinary, sizeof kBinary - 1);
    EXPECT_THAT(values(binary, EntityType::Ipv4), ElementsAre("10.0.0.1"));
    std::string huge;
    while (huge.size() < (1 << 20)) huge += "user=a 10.0.0.1 ";
    const auto e = extractor_->extract(huge);
    EXPECT_LE(e.items.size(), 256u);
    EXPECT_FALSE(e.items.empty());
}

}  // namespace
}  // namespace sai::parser
