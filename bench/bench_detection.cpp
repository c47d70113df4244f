// Detection engine throughput: events/s on one core with 100, 1,000 and all SigmaHQ
// rules (../shared/data/sigma, or SAI_SIGMA_DIR), on a mix of the regression cases'
// Windows events (through the real ingest mapping), Linux auth and network events;
// and the compiled set's memory. Skips when the Sigma data is absent.
// Run: build/bench/bench_detection
// Profile one part of the mix (0 Windows, 1 sshd, 2 network flows) with all rules:
//   build/bench/bench_detection --profile-part=0 [--timed=40]
// evaluates the part once untraced, then once between callgrind's start and stop of
// instrumentation (run under `valgrind --tool=callgrind --instr-atstart=no`), or with
// --timed=N prints the thread CPU time of N evaluations (least and median).

#include "detection/engine.hpp"
#include "model/event.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace {

using namespace sai;
namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'795'000'000'000;

fs::path sigma_dir() {
    if (const char* d = std::getenv("SAI_SIGMA_DIR")) return d;
    return fs::path(SAI_SOURCE_DIR) / ".." / "shared" / "data" / "sigma";
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<detection::RuleSource> all_sources() {
    std::vector<fs::path> files;
    for (const char* sub : {"rules", "rules-emerging-threats", "rules-threat-hunting"}) {
        const auto dir = sigma_dir() / sub;
        if (!fs::is_directory(dir)) continue;
        for (const auto& e : fs::recursive_directory_iterator(dir)) {
            if (e.path().extension() == ".yml") files.push_back(e.path());
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<detection::RuleSource> out;
    for (const auto& f : files) out.push_back({f.string(), read(f)});
    return out;
}

/// Rule sets by size, compiled once: evenly spread over the whole collection.
std::shared_ptr<const detection::CompiledRuleSet> rules(std::size_t n) {
    static const auto sources = all_sources();
    static std::map<std::size_t, std::shared_ptr<const detection::CompiledRuleSet>> cache;
    if (auto it = cache.find(n); it != cache.end()) return it->second;
    std::vector<detection::RuleSource> picked;
    if (n == 0 || n >= sources.size()) {
        picked = sources;
    } else {
        for (std::size_t i = 0; i < n; ++i) picked.push_back(sources[i * sources.size() / n]);
    }
    detection::LoadReport report;
    return cache[n] = detection::compile_rules(picked, report);
}

/// Half Windows events of the regression cases, a quarter sshd auth, a quarter network flows.
std::vector<model::Event> event_mix() {
    std::vector<model::Event> windows;
    const auto reg = sigma_dir() / "regression";
    if (fs::is_directory(reg)) {
        for (const auto& e : fs::recursive_directory_iterator(reg)) {
            if (e.path().extension() != ".json") continue;
            const std::string text = read(e.path());
            boost::json::stream_parser p;
            std::size_t off = 0;
            while (off < text.size()) {
                while (off < text.size() && std::isspace(static_cast<unsigned char>(text[off]))) ++off;
                if (off == text.size()) break;
                boost::system::error_code ec;
                off += p.write_some(text.data() + off, text.size() - off, ec);
                if (ec) break;
                if (!p.done()) continue;
                auto v = p.release();
                p.reset();
                if (v.is_object()) {
                    if (auto ev = model::event_from_json(v.get_object(), kNow)) windows.push_back(std::move(*ev));
                }
            }
        }
    }
    std::vector<model::Event> mix;
    static const char* users[] = {"root", "admin", "alice", "bob", "deploy"};
    for (int i = 0; i < 4000; ++i) {
        if (i % 2 == 0 && !windows.empty()) {
            mix.push_back(windows[(i / 2) % windows.size()]);
            continue;
        }
        boost::json::object o;
        const std::string ip = "10." + std::to_string(i % 200) + ".3." + std::to_string(i % 250 + 1);
        if (i % 4 == 1) {
            const bool ok = i % 20 == 1;
            o = {{"message", std::string(ok ? "Accepted" : "Failed") + " password for " + users[i % 5] + " from " + ip +
                                 " port " + std::to_string(40000 + i) + " ssh2"},
                 {"process.name", "sshd"}, {"host.name", "web-" + std::to_string(i % 7)}, {"user.name", users[i % 5]},
                 {"source.ip", ip}, {"event.category", "authentication"}, {"event.outcome", ok ? "success" : "failure"}};
        } else {
            o = {{"source.ip", ip}, {"destination.ip", "192.168.1." + std::to_string(i % 50 + 1)},
                 {"destination.port", i % 3 == 0 ? 443 : 22 + i % 1000}, {"network.transport", "tcp"},
                 {"source.bytes", 1000 + i * 13 % 50000}, {"event.category", "network"}};
        }
        if (auto ev = model::event_from_json(o, kNow)) mix.push_back(std::move(*ev));
    }
    return mix;
}

/// One part of the mix: 0 Windows, 1 sshd, 2 network flows.
std::vector<model::Event> mix_part(std::int64_t kind) {
    static const auto events = event_mix();
    std::vector<model::Event> part;
    for (std::size_t i = 0; i < events.size(); ++i) {
        if ((i % 2 == 0 ? 0 : i % 4 == 1 ? 1 : 2) == kind) part.push_back(events[i]);
    }
    return part;
}

void BM_Detect(benchmark::State& state) {
    const auto set = rules(static_cast<std::size_t>(state.range(0)));
    static const auto events = event_mix();
    if (set->size() == 0 || events.empty()) {
        state.SkipWithError("no Sigma data (../shared/data/sigma or SAI_SIGMA_DIR)");
        return;
    }
    detection::Engine engine(set);
    std::size_t detections = 0;
    for (auto _ : state) {
        for (std::size_t i = 0; i < events.size(); i += 1000) {
            const auto n = std::min<std::size_t>(1000, events.size() - i);
            detections += engine.evaluate(std::span(events.data() + i, n)).size();
        }
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
    state.counters["rules"] = static_cast<double>(set->size());
    state.counters["compiled_MB"] = static_cast<double>(set->memory_bytes()) / 1e6;
    state.counters["detections_per_event"] =
        static_cast<double>(detections) / static_cast<double>(state.iterations() * events.size());
}
BENCHMARK(BM_Detect)->Arg(100)->Arg(1000)->Arg(0)->Unit(benchmark::kMillisecond);

/// All rules, one part of the mix at a time: 0 Windows, 1 sshd, 2 network flows.
void BM_DetectPart(benchmark::State& state) {
    const auto set = rules(0);
    const auto part = mix_part(state.range(0));
    if (set->size() == 0 || part.empty()) {
        state.SkipWithError("no Sigma data (../shared/data/sigma or SAI_SIGMA_DIR)");
        return;
    }
    detection::Engine engine(set);
    for (auto _ : state) benchmark::DoNotOptimize(engine.evaluate(part));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * part.size()));
}
BENCHMARK(BM_DetectPart)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_CompileAll(benchmark::State& state) {
    static const auto sources = all_sources();
    if (sources.empty()) {
        state.SkipWithError("no Sigma data");
        return;
    }
    for (auto _ : state) {
        detection::LoadReport report;
        benchmark::DoNotOptimize(detection::compile_rules(sources, report));
    }
    state.counters["rules"] = static_cast<double>(sources.size());
}
BENCHMARK(BM_CompileAll)->Unit(benchmark::kSecond)->Iterations(1);

double thread_cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

/// --profile-part=K [--timed=N]: see the top of the file.
int profile(std::int64_t kind, int timed) {
    const auto set = rules(0);
    const auto part = mix_part(kind);
    if (set->size() == 0 || part.empty()) {
        std::fprintf(stderr, "no Sigma data (../shared/data/sigma or SAI_SIGMA_DIR)\n");
        return 1;
    }
    detection::Engine engine(set);
    const auto detections = engine.evaluate(part).size();
    std::printf("%zu rules, %zu events, %zu detections\n", set->size(), part.size(), detections);
    if (timed == 0) {
        CALLGRIND_START_INSTRUMENTATION;
        benchmark::DoNotOptimize(engine.evaluate(part));
        CALLGRIND_STOP_INSTRUMENTATION;
        return 0;
    }
    std::vector<double> ms;
    for (int i = 0; i < timed; ++i) {
        const double start = thread_cpu_ms();
        benchmark::DoNotOptimize(engine.evaluate(part));
        ms.push_back(thread_cpu_ms() - start);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("ms per evaluation of the part: least %.2f, median %.2f\n", ms.front(), ms[ms.size() / 2]);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::strncmp(argv[1], "--profile-part=", 15) == 0) {
        const int timed = argc > 2 && std::strncmp(argv[2], "--timed=", 8) == 0 ? std::atoi(argv[2] + 8) : 0;
        return profile(std::atoll(argv[1] + 15), timed);
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
