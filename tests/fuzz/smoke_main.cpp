// A driver for builds without libFuzzer (g++): runs a fuzz target over its seed
// corpus and over deterministic random mutations of it, so every `make test`
// exercises the targets briefly ("fuzz-smoke"). The real fuzzing is
// tests/fuzz/run.sh (clang, libFuzzer, sanitizers).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: " << argv[0] << " CORPUS_DIR [ITERATIONS]\n";
        return 2;
    }
    const long iterations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 20000;
    std::vector<std::string> seeds;
    for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
        std::ifstream in(entry.path(), std::ios::binary);
        seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (seeds.empty()) {
        std::cerr << "no seeds in " << argv[1] << "\n";
        return 2;
    }
    for (const auto& s : seeds) {
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    }
    std::mt19937_64 rng(12345);
    for (long i = 0; i < iterations; ++i) {
        std::string input = seeds[rng() % seeds.size()];
        const int mutations = 1 + static_cast<int>(rng() % 8);
        for (int m = 0; m < mutations; ++m) {
            const std::size_t pos = input.empty() ? 0 : rng() % input.size();
            switch (rng() % 5) {
            case 0: if (!input.empty()) input[pos] = static_cast<char>(rng()); break;
            case 1: input.insert(pos, 1, static_cast<char>(rng())); break;
            case 2: if (!input.empty()) input.erase(pos, 1 + rng() % 8); break;
            case 3: input.insert(pos, input.substr(0, rng() % (input.size() + 1))); break;
            case 4: input = input.substr(0, pos); break;
            }
            if (input.size() > 1 << 16) input.resize(1 << 16);
        }
        LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
    }
    std::cout << argv[0] << ": " << seeds.size() << " seeds, " << iterations << " mutated inputs, no crash\n";
    return 0;
}
