// Costs of the log parser per line: header match, template mining (masking + Drain),
// entity extraction, and the whole LogParser, single-threaded and with two workers
// sharing one parser (scaling). Input: generated auth.log lines (sshd, sudo, cron,
// kernel), so the benchmark needs no external data; bench/loghub.sh measures the
// Loghub datasets through the CLI.
// Run: build/bench/bench_parser

#include "parser/log_parser.hpp"

#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

namespace {

using namespace sai;

const std::vector<std::string>& lines() {
    static const std::vector<std::string> out = [] {
        static const char* users[] = {"root", "admin", "alice", "bob", "oracle", "test", "git", "ubuntu"};
        std::mt19937 rng(42);
        std::vector<std::string> v;
        for (int i = 0; i < 20'000; ++i) {
            const auto ip = "10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
                            std::to_string(rng() % 256);
            const auto pid = std::to_string(1000 + rng() % 30000);
            const auto port = std::to_string(1024 + rng() % 60000);
            const std::string user = users[rng() % 8];
            const std::string head = "Mar  3 10:" + std::to_string(10 + rng() % 50) + ":0" + std::to_string(rng() % 10) +
                                     " gateway ";
            switch (rng() % 6) {
                case 0: v.push_back(head + "sshd[" + pid + "]: Failed password for " + user + " from " + ip +
                                    " port " + port + " ssh2"); break;
                case 1: v.push_back(head + "sshd[" + pid + "]: Accepted publickey for " + user + " from " + ip +
                                    " port " + port + " ssh2: RSA SHA256:3f4a9c0b1d2e"); break;
                case 2: v.push_back(head + "sshd[" + pid + "]: Invalid user " + user + " from " + ip); break;
                case 3: v.push_back(head + "sudo:    " + user + " : TTY=pts/" + std::to_string(rng() % 9) +
                                    " ; PWD=/home/" + user + " ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"); break;
                case 4: v.push_back(head + "CRON[" + pid + "]: pam_unix(cron:session): session opened for user " +
                                    user + " by (uid=0)"); break;
                default: v.push_back(head + "kernel: [" + std::to_string(rng() % 100000) + ".123456] IN=eth0 OUT= SRC=" +
                                     ip + " DST=10.0.0.1 PROTO=TCP DPT=" + port); break;
            }
        }
        return v;
    }();
    return out;
}

void BM_HeaderMatch(benchmark::State& state) {
    auto format = parser::LogFormat::compile(parser::find_builtin_format("auth")->spec).value();
    parser::HeaderMatch m;
    std::size_t i = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(format.match(lines()[i++ % lines().size()], m));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeaderMatch);

void BM_TemplateMiner(benchmark::State& state) {
    auto miner = parser::TemplateMiner::create().value();
    const auto id = miner->format_id("auth");
    parser::TemplateMatch out;
    std::size_t i = 0;
    for (auto _ : state) {
        miner->parse(id, lines()[i++ % lines().size()], 0, out);
        benchmark::DoNotOptimize(out.template_id.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TemplateMiner);

void BM_Entities(benchmark::State& state) {
    auto extractor = parser::EntityExtractor::create().value();
    parser::Entities out;
    std::size_t i = 0;
    for (auto _ : state) {
        extractor->extract(lines()[i++ % lines().size()], out);
        benchmark::DoNotOptimize(out.items.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Entities);

// Workers parsing one stream: with one LogParser shared by all benchmark threads, as
// pipeline workers share it (shared:1), and each with a parser of its own (shared:0, the
// scaling that contention on the shared miner's shards takes away).
void BM_LogParser(benchmark::State& state) {
    static std::shared_ptr<parser::LogParser> shared;
    static parser::LogParser::Format shared_format;
    parser::ParserConfig config;
    config.entities = state.range(0) != 0;
    const bool share = state.range(1) != 0;
    std::shared_ptr<parser::LogParser> own;
    parser::LogParser::Format own_format;
    if (!share) {
        own = parser::LogParser::create(config).value();
        own_format = own->resolve("auth").value();
    } else if (state.thread_index() == 0) {  // the other threads wait at the loop's start
        shared = parser::LogParser::create(config).value();
        shared_format = shared->resolve("auth").value();
    }
    const auto& log_parser = share ? shared : own;
    const auto& format = share ? shared_format : own_format;
    parser::ParsedLine out;
    std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
    for (auto _ : state) {
        log_parser->parse(format, lines()[i++ % lines().size()], 0, out);
        benchmark::DoNotOptimize(out.tmpl.template_id.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogParser)
    ->ArgNames({"entities", "shared"})
    ->ArgsProduct({{0, 1}, {1, 0}})
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
