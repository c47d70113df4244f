#include "parser/template_miner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace sai::parser {
namespace {

using testing::ElementsAre;

std::unique_ptr<TemplateMiner> make(MinerOptions o = {}, MinerLimits l = {}) {
    auto m = TemplateMiner::create(std::move(o), l);
    EXPECT_TRUE(m) << (m ? "" : m.error().detail);
    return std::move(*m);
}

/// `count` random lines of 1-40 characters drawn from `alphabet`; `spice` may edit each.
template <class Spice>
std::vector<std::string> random_lines(unsigned seed, const std::string& alphabet, int count, Spice spice) {
    std::vector<std::string> lines;
    std::mt19937 rng(seed);
    for (int i = 0; i < count; ++i) {
        std::string line;
        const auto size = 1 + rng() % 40;
        for (std::size_t k = 0; k < size; ++k) line += alphabet[rng() % alphabet.size()];
        spice(rng, line);
        lines.push_back(line);
    }
    return lines;
}

/// Miners with masks `a` and with masks `b` (no generic masking) give every line the same
/// template and parameters.
void expect_same_masking(const std::vector<std::string>& a, const std::vector<std::string>& b,
                         const std::vector<std::string>& lines) {
    MinerOptions oa;
    oa.masks = a;
    oa.generic_masking = false;
    MinerOptions ob = oa;
    ob.masks = b;
    auto ma = make(oa);
    auto mb = make(ob);
    for (const auto& line : lines) {
        const auto ra = ma->parse("f", line);
        const auto rb = mb->parse("f", line);
        ASSERT_EQ(ra.template_text, rb.template_text) << b.back() << " on " << line;
        ASSERT_EQ(ra.params, rb.params) << b.back() << " on " << line;
    }
}

TEST(TemplateMinerTest, MasksNumbersIpsHexPathsUuidsAndTimes) {
    auto m = make();
    auto r = m->parse("t", "conn 10.0.0.1:8080 id=0x1f uuid 550e8400-e29b-41d4-a716-446655440000 at 12:30:45 "
                           "file /var/log/x.log size 42 url http://a.b/c blk_-42 core.7");
    EXPECT_EQ(r.template_text,
              "conn <*>:<*> id=<*> uuid <*> at <*>:<*>:<*> file <*> size <*> url <*> blk_<*> core.<*>");
    EXPECT_THAT(r.params, ElementsAre("10.0.0.1", "8080", "0x1f", "550e8400-e29b-41d4-a716-446655440000", "12", "30",
                                      "45", "/var/log/x.log", "42", "http://a.b/c", "-42", "7"));
    EXPECT_TRUE(r.is_new);
}

TEST(TemplateMinerTest, WordsEndingInADigitAreNotMasked) {
    auto m = make();
    auto r = m->parse("t", "Accepted publickey ssh2 on eth0 via IPv6 jk2_init()");
    EXPECT_EQ(r.template_text, "Accepted publickey ssh2 on eth0 via IPv6 jk2_init()");
    EXPECT_TRUE(r.params.empty());
}

TEST(TemplateMinerTest, ANumberAttachedToLettersAndOnlyToLettersIsMasked) {
    // "core.42" keeps its word only when the word has a letter. Each byte that is no digit,
    // space or delimiter is tried in a run longer than the 16 bytes the masker passes at a
    // time, and after letters; the others ('`', '~', '^', 0x80 and up) leave the number.
    const std::string delimiters = "=:,;()[]{}<>@#|/\"'";
    for (int c = 1; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        if ((ch >= '0' && ch <= '9') || delimiters.find(ch) != std::string::npos ||
            std::string_view(" \t\n\v\f\r.+-").find(ch) != std::string_view::npos) {
            continue;
        }
        const bool letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
        const std::string one(1, ch);
        for (const std::string& word : {std::string(20, ch), std::string(20, '`') + one, "ab" + one}) {
            auto m = make();
            const auto r = m->parse("f", "x " + word + ".42 end");
            const bool any_letter = letter || word.starts_with("ab");
            EXPECT_EQ(r.template_text, "x " + word + (any_letter ? ".<*>" : ".42") + " end") << c;
        }
    }
}

TEST(TemplateMinerTest, MergesADifferingWordAndKeepsTheId) {
    auto m = make();
    auto a = m->parse("ssh", "Accepted password for alice from 10.0.0.1 port 22 ssh2");
    auto b = m->parse("ssh", "Accepted password for bob from 10.0.0.2 port 2222 ssh2");
    EXPECT_TRUE(a.is_new);
    EXPECT_FALSE(b.is_new);
    EXPECT_EQ(a.template_id, b.template_id);
    EXPECT_EQ(a.template_text, "Accepted password for alice from <*> port <*> ssh2");
    EXPECT_EQ(b.template_text, "Accepted password for <*> from <*> port <*> ssh2");
    EXPECT_THAT(b.params, ElementsAre("bob", "10.0.0.2", "2222"));
    auto rec = m->find(a.template_id).value();
    EXPECT_EQ(rec.template_text, b.template_text);
    EXPECT_EQ(rec.count, 2u);
}

TEST(TemplateMinerTest, TokensDifferingInAnyByteDiffer) {
    // Tokens are compared in words of 2, 4 and 8 bytes from both ends: a byte differing at
    // any place of a token of any length must make the template take a <*> there.
    for (std::size_t size = 1; size <= 24; ++size) {
        for (std::size_t at = 0; at < size; ++at) {
            auto m = make();
            const std::string word(size, 'q');
            std::string other = word;
            other[at] = 'r';
            m->parse("f", "a b c d e f " + word);
            EXPECT_EQ(m->parse("f", "a b c d e f " + other).template_text, "a b c d e f <*>")
                << size << " " << at;
            EXPECT_EQ(m->parse("f", "a b c d e f " + other).template_text, "a b c d e f <*>");
        }
    }
}

TEST(TemplateMinerTest, DissimilarOrDifferentLengthMessagesAreSeparate) {
    auto m = make();
    auto a = m->parse("t", "Connection closed by 10.0.0.1");
    auto b = m->parse("t", "Connection closed by 10.0.0.1 [preauth]");
    auto c = m->parse("t", "Server listening on 0.0.0.0");
    EXPECT_NE(a.template_id, b.template_id);
    EXPECT_NE(a.template_id, c.template_id);
    EXPECT_NE(m->parse("other", "Connection closed by 10.0.0.1").template_id, a.template_id)
        << "formats never share templates";
}

TEST(TemplateMinerTest, SettledTemplateKeepsItsWords) {
    MinerOptions settled;
    settled.settled_after = 3;
    MinerOptions open = settled;
    open.settled_after = 0;
    for (const auto& [options, expect_same] : {std::pair{settled, false}, std::pair{open, true}}) {
        auto m = make(options);
        std::string id;
        for (int i = 0; i < 3; ++i) {
            id = m->parse("cbs", "Session: " + std::to_string(i) + " initialized by client WindowsUpdateAgent.").template_id;
        }
        const auto other = m->parse("cbs", "Session: 9 initialized by client SPP.").template_id;
        EXPECT_EQ(other == id, expect_same) << "settled_after=" << options.settled_after;
    }
}

TEST(TemplateMinerTest, PartlyMaskedTokensAreStructure) {
    auto m = make();
    const auto a = m->parse("t", "session opened for user root by (uid=0)");
    const auto b = m->parse("t", "session opened for user root by LOGIN(uid=0)");
    const auto c = m->parse("t", "session opened for user news by (uid=9)");
    EXPECT_NE(a.template_id, b.template_id);
    EXPECT_EQ(a.template_id, c.template_id);
    EXPECT_EQ(c.template_text, "session opened for user <*> by (uid=<*>)");
    // A token that fits a partly masked one generalises it: "(host)" vs "(<*>)".
    const auto d = m->parse("t", "connection from 1.2.3.4 (<*>) at noon");
    const auto e = m->parse("t", "connection from 1.2.3.5 (my.host) at noon");
    EXPECT_EQ(d.template_id, e.template_id);
    EXPECT_EQ(e.template_text, "connection from <*> (<*>) at noon");
    EXPECT_THAT(e.params, ElementsAre("1.2.3.5", "my.host"));
}

TEST(TemplateMinerTest, ConfiguredMasksAndTheirErrors) {
    auto m = make();
    MinerOptions o;
    o.masks = {R"(blk_-?\d+)", "@ipv4_port"};
    ASSERT_TRUE(m->add_format("hdfs", o));
    auto r = m->parse("hdfs", "Served block blk_-4615 to /10.0.0.1:50010");
    EXPECT_EQ(r.template_text, "Served block <*> to <*>");
    EXPECT_THAT(r.params, ElementsAre("blk_-4615", "/10.0.0.1:50010"));

    MinerOptions bad;
    bad.masks = {"(unclosed"};
    auto e = m->add_format("bad", bad);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, core::Errc::InvalidArgument);
    bad.masks = {"@nosuchmask"};
    EXPECT_FALSE(m->add_format("bad", bad));
    bad.masks = {};
    bad.similarity = 0;
    EXPECT_FALSE(m->add_format("bad", bad));
    EXPECT_FALSE(TemplateMiner::create(bad));
}

TEST(TemplateMinerTest, BuiltinIpv4MasksMaskWhatTheirRegularExpressionsMatch) {
    // @ipv4 and @ipv4_port are matched by hand, not by Hyperscan: the same masks written
    // out as regular expressions (which Hyperscan matches) must give the same templates and
    // parameters, alone and beside a mask that overlaps them.
    const std::string ipv4 = R"((?:\d{1,3}\.){3}\d{1,3})";
    const std::string ipv4_port = R"(/?(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?)";
    const std::string overlapping = R"(\d+\.\d+:?)";
    const std::string cut = R"(x\d)";  // ends inside a number: "x11.2.3.4" leaves "1.2.3.4"
    const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases{
        {{"@ipv4"}, {ipv4}},
        {{"@ipv4_port"}, {ipv4_port}},
        {{"@ipv4_port", overlapping}, {ipv4_port, overlapping}},
        {{overlapping, "@ipv4", "@ipv4_port"}, {overlapping, ipv4, ipv4_port}},
        {{cut, "@ipv4"}, {cut, ipv4}},
        {{cut, "@ipv4_port"}, {cut, ipv4_port}},
    };
    std::vector<std::string> lines{
        "from 10.0.0.1 now", "to /10.250.19.102:54106 x", "1234.5.6.7", "1.2.3.4.5.6.7.8", "//1.2.3.4:123456",
        "1.2.3.4:", "a1.2.3.45678 /1.2.3.4/5.6.7.8:9", "999.999.999.9999:99999", "1.2.3.4 :80 /./1.1.1.1", "x11.2.3.4",
        "x/1.2.3.4"};
    const auto random = random_lines(7, "0123456789..../:: ax", 3000, [](std::mt19937&, std::string&) {});
    lines.insert(lines.end(), random.begin(), random.end());
    for (const auto& [builtin, regex] : cases) {
        expect_same_masking(builtin, regex, lines);
    }
}

TEST(TemplateMinerTest, HandMatchedMasksMaskWhatTheirRegularExpressionsMatch) {
    // Masks of a few common shapes are matched by hand, not by Hyperscan; the same masks
    // in a group (which no hand scan recognises, so Hyperscan matches them) must give the
    // same templates and parameters on random lines, alone, together and beside masks that
    // overlap them or cut them short.
    const std::vector<std::string> hand{
        R"((\d+\.){3}\d+)",          R"(/?(?:\d+\.){3}\d+)",        R"(([\w-]+\.)+[\w-]+(:\d+)?)",
        R"(([\w-]+\.){2,}[\w-]+)",   R"((?:[\w-]+\.)+[\w-]+)",      R"(([\w-]+\.){2,}[\w-]+(:\d+)?)",
        R"(blk_-?\d+)",              R"(id\d+)"};
    const std::vector<std::string> others{R"(\d+\.\d+:?)", R"(x\d)", R"(k\.b)", R"(\d{2}:\d{2})"};
    auto wrapped = [](const std::vector<std::string>& masks) {
        std::vector<std::string> out;
        for (const auto& m : masks) out.push_back("(?:" + m + ")");
        return out;
    };
    std::vector<std::vector<std::string>> cases;
    for (const auto& m : hand) {
        cases.push_back({m});
        for (const auto& o : others) cases.push_back({o, m});
    }
    cases.push_back(hand);
    std::vector<std::string> lines{"blk_-42 blk_7 blk_- blk_blk_9 xblk_1",
                                   "10.0.0.1:80 /1.2.3.4.5.6/7.8.9.0:1",
                                   "proxy.cse.cuhk.edu.hk:5070 a.b:80.c",
                                   "..a.b- -x.y.z. _.1.2.3:x",
                                   "id12 idx id-3",
                                   "x11.2.3.4.5 x1.22.3.4.5.6 12:34.5.6.7.8"};
    const auto random =
        random_lines(11, "0123456789....//::__--  axkbZ\x80", 3000, [](std::mt19937& rng, std::string& line) {
            if (rng() % 4 == 0) line.insert(rng() % line.size(), rng() % 2 ? "blk_" : "id");
        });
    lines.insert(lines.end(), random.begin(), random.end());
    for (const auto& masks : cases) {
        expect_same_masking(masks, wrapped(masks), lines);
    }
}

TEST(TemplateMinerTest, SnapshotRestoreRoundTrip) {
    auto m = make();
    const auto a = m->parse("ssh", "Failed password for root from 10.0.0.1 port 22 ssh2", 1000);
    m->parse("ssh", "Failed password for admin from 10.0.0.2 port 23 ssh2", 2000);
    const auto b = m->parse("ssh", "Connection closed by 10.0.0.3", 3000);
    const auto snap = m->snapshot();
    ASSERT_EQ(snap.size(), 2u);

    auto fresh = make();
    ASSERT_EQ(fresh->restore(snap).value(), 2u);
    EXPECT_EQ(fresh->snapshot().size(), 2u);
    const auto again = fresh->parse("ssh", "Failed password for guest from 10.0.0.9 port 24 ssh2", 4000);
    EXPECT_EQ(again.template_id, a.template_id);
    EXPECT_FALSE(again.is_new);
    const auto rec = fresh->find(a.template_id).value();
    EXPECT_EQ(rec.count, 3u);
    EXPECT_EQ(rec.first_seen_ms, 1000);
    EXPECT_EQ(rec.last_seen_ms, 4000);
    EXPECT_EQ(rec.format, "ssh");
    EXPECT_EQ(fresh->parse("ssh", "Connection closed by 10.9.9.9").template_id, b.template_id);

    auto bad = fresh->restore({TemplateRecord{"", "ssh", "x", 1, 0, 0}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, core::Errc::InvalidArgument);
    EXPECT_EQ(fresh->find("nope").error().code, core::Errc::NotFound);
}

TEST(TemplateMinerTest, ARestoredIdOfAnotherShapeIsSkippedNotMisplaced) {
    MinerLimits limits;
    limits.shards = 1;  // every token count in one shard, where the id is found
    auto m = make({}, limits);
    const auto a = m->parse("ssh", "Connection closed by 10.0.0.3", 1000);
    // The same id, stored with two more tokens (a corrupted or hand-edited store).
    auto r = m->restore({TemplateRecord{a.template_id, "ssh", "Connection closed by <*> port <*>", 5, 0, 0}});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, core::Errc::InvalidArgument);
    EXPECT_EQ(m->find(a.template_id).value().template_text, "Connection closed by <*>");
    const auto b = m->parse("ssh", "Connection closed by 10.0.0.4", 2000);
    EXPECT_EQ(b.template_id, a.template_id);
    EXPECT_EQ(b.template_text, "Connection closed by <*>");
}

TEST(TemplateMinerTest, CapsEvictLeastRecentlyUsedAndCount) {
    MinerLimits limits;
    limits.max_templates = 8;
    limits.shards = 1;
    auto m = make({}, limits);
    std::string keep_id;
    for (int i = 0; i < 100; ++i) {
        // Distinct lengths: every line is its own template.
        std::string line = "word";
        for (int k = 0; k < i; ++k) line += " w";
        keep_id = m->parse("t", line).template_id;
    }
    const auto s = m->stats();
    EXPECT_LE(s.templates, 8u);
    EXPECT_EQ(s.evictions, 100u - s.templates);
    EXPECT_TRUE(m->find(keep_id)) << "the most recent template survives";
}

TEST(TemplateMinerTest, TreeWidthIsCappedByMaxChildren) {
    MinerOptions o;
    o.max_children = 4;
    o.settled_after = 0;
    auto m = make(o);
    std::set<std::string> ids;
    for (int i = 0; i < 50; ++i) {
        // First tokens all differ and carry no digits: past 4 children they share the <*> branch.
        std::string w(1, static_cast<char>('a' + i % 26));
        w += static_cast<char>('a' + i / 26);
        ids.insert(m->parse("t", w + " happened here").template_id);
    }
    EXPECT_LE(m->stats().templates, 4u + 4u);
}

TEST(TemplateMinerTest, BadInputIsHandled) {
    MinerLimits limits;
    limits.max_templates = 1000;
    auto m = make({}, limits);
    EXPECT_EQ(m->parse("t", "").template_text, "");
    EXPECT_EQ(m->parse("t", "   \t ").template_id, m->parse("t", "").template_id);
    const std::string huge(1 << 20, 'x');
    auto h = m->parse("t", huge);
    EXPECT_LE(h.template_text.size(), limits.max_content_bytes);
    std::string spaced;
    for (int i = 0; i < 100'000; ++i) spaced += "ab ";
    auto s = m->parse("t", spaced);
    EXPECT_LE(std::count(s.template_text.begin(), s.template_text.end(), ' '), 255);
    static constexpr char kBinary[] = "\x00\xff\xfe garbage \x80\x81 \x00";
    const std::string binary(kBinary, sizeof kBinary - 1);
    auto b = m->parse("t", binary);
    EXPECT_FALSE(b.template_id.empty());
    EXPECT_EQ(m->parse("t", binary).template_id, b.template_id);

    // Template explosion: never-repeating lines stay within the cap.
    std::mt19937 rng(7);
    for (int i = 0; i < 100'000; ++i) {
        std::string line;
        const int words = 1 + static_cast<int>(rng() % 12);
        for (int w = 0; w < words; ++w) {
            for (int c = 0; c < 5; ++c) line += static_cast<char>('a' + rng() % 26);
            line += ' ';
        }
        m->parse("t", line);
    }
    EXPECT_LE(m->stats().templates, 1000u);
    EXPECT_GT(m->stats().evictions, 0u);
}

TEST(TemplateMinerTest, ConcurrentWorkersAgreeOnIds) {
    auto m = make();
    const std::vector<std::string> lines = {
        "Accepted password for alice from 10.0.0.1 port 22 ssh2", "Connection closed by 10.0.0.1",
        "Accepted password for bob from 10.0.0.2 port 22 ssh2", "Received disconnect from 10.0.0.3: 11: bye",
        "Invalid user test from 10.0.0.4"};
    std::vector<std::vector<std::string>> seen(4);
    std::vector<std::thread> workers;
    for (int t = 0; t < 4; ++t) {
        workers.emplace_back([&, t] {
            for (int r = 0; r < 2000; ++r) {
                for (const auto& l : lines) {
                    seen[static_cast<std::size_t>(t)].push_back(m->parse("ssh", l).template_id);
                }
            }
        });
    }
    for (auto& w : workers) w.join();
    EXPECT_EQ(m->stats().messages, 4u * 2000u * lines.size());
    EXPECT_EQ(m->stats().templates, 4u);  // the two "Accepted" lines share one
    const auto& last = seen[0];
    for (const auto& s : seen) {
        // The last round of every worker maps each line to the same id.
        EXPECT_TRUE(std::equal(s.end() - 5, s.end(), last.end() - 5));
    }
}

TEST(TemplateMinerTest, MinersInOneThreadKeepTheirOwnFormatOptions) {
    // Each thread caches the format it parsed last; a second miner whose format has the same
    // id must not be parsed with the first one's options.
    MinerOptions masked;
    masked.masks = {"@ipv4"};
    MinerOptions plain;
    plain.generic_masking = false;
    auto a = TemplateMiner::create(masked).value();
    auto b = TemplateMiner::create(plain).value();
    const auto fa = a->format_id("f");
    const auto fb = b->format_id("f");
    ASSERT_EQ(fa, fb);
    TemplateMatch ma;
    TemplateMatch mb;
    for (int i = 0; i < 3; ++i) {
        a->parse(fa, "from 10.0.0.1 now", 0, ma);
        b->parse(fb, "from 10.0.0.1 now", 0, mb);
    }
    EXPECT_EQ(ma.template_text, "from <*> now");
    EXPECT_EQ(mb.template_text, "from 10.0.0.1 now");
}

TEST(TemplateMinerTest, FormatsAddedWhileWorkersParse) {
    auto m = make();
    const auto id = m->format_id("ssh");
    std::vector<std::thread> workers;
    std::vector<std::string> ids(2);
    for (int t = 0; t < 2; ++t) {
        workers.emplace_back([&, t] {
            TemplateMatch out;
            for (int r = 0; r < 3000; ++r) {
                m->parse(id, "Accepted password for alice from 10.0.0.1 port 22 ssh2", 0, out);
            }
            ids[static_cast<std::size_t>(t)] = out.template_id;
        });
    }
    for (int f = 0; f < 200; ++f) {
        MinerOptions o;
        o.masks = {"@ipv4"};
        ASSERT_TRUE(m->add_format("other" + std::to_string(f), o));
    }
    ASSERT_TRUE(m->add_format("ssh", MinerOptions{}));  // replaced options, same templates
    for (auto& w : workers) w.join();
    EXPECT_EQ(ids[0], ids[1]);
    EXPECT_EQ(m->stats().messages, 6000u);
    EXPECT_EQ(m->format_id("ssh"), id);
}

TEST(TemplateMinerTest, RecentlyUsedTemplateSurvivesEviction) {
    // Lines that a template takes without the shard lock do not reorder the LRU list; they
    // must still keep the template from being evicted as the least recently used.
    MinerLimits limits;
    limits.max_templates = 8;
    limits.shards = 1;
    auto m = make({}, limits);
    const auto kept = m->parse("t", "kept template here").template_id;
    for (int i = 0; i < 100; ++i) {
        std::string line = "word";
        for (int k = 0; k < i; ++k) line += " w";
        m->parse("t", line);
        ASSERT_EQ(m->parse("t", "kept template here").template_id, kept) << i;
    }
    EXPECT_EQ(m->find(kept).value().count, 101u);
    EXPECT_EQ(m->stats().evictions, 101u - m->stats().templates);
}

TEST(TemplateMinerTest, ALineSeesChangesMadeByLinesOfOtherRoutes) {
    // A thread remembers the leaf of each line's first tokens; a change made to that leaf by
    // a line with other first tokens, or an eviction, must not leave it matching the old one.
    MinerOptions o;
    o.max_children = 2;
    o.settled_after = 0;
    auto m = make(o);
    m->parse("t", "alpha a b c d e");
    m->parse("t", "beta a b c d e");
    // Past two children both go to the <*> branch, where "delta" generalises "gamma"'s template.
    const auto gamma = m->parse("t", "gamma a b c d e");
    const auto delta = m->parse("t", "delta a b c d e");
    ASSERT_EQ(delta.template_id, gamma.template_id);
    EXPECT_EQ(delta.template_text, "<*> a b c d e");
    EXPECT_EQ(m->parse("t", "gamma a b c d e").template_text, "<*> a b c d e");

    MinerLimits limits;
    limits.max_templates = 2;
    limits.shards = 1;
    auto small = make({}, limits);
    EXPECT_TRUE(small->parse("t", "evicted soon").is_new);
    small->parse("t", "one");
    small->parse("t", "one two three");
    EXPECT_TRUE(small->parse("t", "evicted soon").is_new);
}

/// Lines of a few sshd messages with users, addresses and ports drawn at random; which lines
/// share a template does not depend on their order.
/// Runs body(0) ... body(threads - 1) on as many threads, released together so they race.
void run_at_once(int threads, const std::function<void(std::size_t)>& body) {
    std::atomic<int> ready{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < threads) {
            }
            body(static_cast<std::size_t>(t));
        });
    }
    for (auto& w : workers) w.join();
}

std::vector<std::string> sshd_lines(int count) {
    static const char* users[] = {"root", "admin", "alice", "bob", "oracle", "test", "git", "ubuntu"};
    std::mt19937 rng(11);
    std::vector<std::string> lines;
    for (int i = 0; i < count; ++i) {
        const std::string user = users[rng() % 8];
        const std::string ip = "10.0." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256);
        const std::string port = std::to_string(1024 + rng() % 60000);
        switch (rng() % 5) {
            case 0: lines.push_back("Accepted password for " + user + " from " + ip + " port " + port); break;
            case 1: lines.push_back("Connection closed by " + ip + " port " + port); break;
            case 2: lines.push_back("session opened for user " + user + " by (uid=" + port + ")"); break;
            case 3: lines.push_back("Invalid user " + user + " from " + ip); break;
            default: lines.push_back("Disconnected from user " + user + " " + ip + " port " + port); break;
        }
    }
    return lines;
}

TEST(TemplateMinerTest, ThreadsSharingAMinerGroupAndCountAsOneThread) {
    const auto lines = sshd_lines(5000);
    auto alone = make();
    std::vector<std::string> alone_ids;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        alone_ids.push_back(alone->parse("ssh", lines[i], static_cast<std::int64_t>(i)).template_id);
    }

    // Each thread parses every line, starting at its own place, all at once.
    constexpr int kThreads = 4;
    auto shared = make();
    const auto format = shared->format_id("ssh");
    std::vector<std::vector<std::string>> ids(kThreads, std::vector<std::string>(lines.size()));
    std::vector<int> created(kThreads, 0);
    run_at_once(kThreads, [&](std::size_t t) {
        TemplateMatch out;
        for (std::size_t k = 0; k < lines.size(); ++k) {
            const std::size_t i = (k + t * 1237) % lines.size();
            shared->parse(format, lines[i], static_cast<std::int64_t>(i), out);
            ids[t][i] = out.template_id;
            created[t] += out.is_new ? 1 : 0;
        }
    });

    // The same grouping as one thread's: a template of the shared miner is one of the lone
    // miner's, line for line (ids may differ: a template's id comes from its first line).
    std::map<std::string, std::string> to_alone;
    std::map<std::string, std::uint64_t> alone_counts;
    for (int t = 0; t < kThreads; ++t) {
        for (std::size_t i = 0; i < lines.size(); ++i) {
            const auto [it, inserted] = to_alone.emplace(ids[static_cast<std::size_t>(t)][i], alone_ids[i]);
            ASSERT_EQ(it->second, alone_ids[i]) << lines[i];
        }
    }
    for (const auto& id : alone_ids) ++alone_counts[id];
    const auto snap = shared->snapshot();
    ASSERT_EQ(snap.size(), alone->snapshot().size());
    ASSERT_EQ(to_alone.size(), snap.size());
    std::uint64_t total = 0;
    for (const auto& r : snap) {
        EXPECT_EQ(r.count, kThreads * alone_counts[to_alone[r.id]]) << r.template_text;
        EXPECT_EQ(r.last_seen_ms, alone->find(to_alone[r.id]).value().last_seen_ms) << r.template_text;
        total += r.count;
    }
    EXPECT_EQ(total, kThreads * lines.size());
    EXPECT_EQ(shared->stats().messages, kThreads * lines.size());
    EXPECT_EQ(created[0] + created[1] + created[2] + created[3], static_cast<int>(snap.size()));
}

TEST(TemplateMinerTest, ExactlyOneOfRacingThreadsSeesATemplateNew) {
    // Threads parse the same new lines in the same order at the same time, so they race to
    // create each template.
    constexpr int kThreads = 4;
    constexpr int kTemplates = 200;
    auto m = make();
    std::vector<std::vector<std::string>> new_ids(kThreads);
    run_at_once(kThreads, [&](std::size_t t) {
        for (int i = 0; i < kTemplates; ++i) {
            std::string line = "word";  // distinct lengths: every line is its own template
            for (int k = 0; k < i; ++k) line += " w";
            const auto r = m->parse("t", line);
            if (r.is_new) new_ids[t].push_back(r.template_id);
        }
    });
    std::set<std::string> seen;
    for (const auto& ids : new_ids) {
        for (const auto& id : ids) EXPECT_TRUE(seen.insert(id).second) << id << " new twice";
    }
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kTemplates));
    EXPECT_EQ(m->stats().templates, static_cast<std::size_t>(kTemplates));
    for (const auto& r : m->snapshot()) EXPECT_EQ(r.count, static_cast<std::uint64_t>(kThreads));
}

}  // namespace
}  // namespace sai::parser
