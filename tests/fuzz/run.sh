#!/usr/bin/env bash
# Real fuzzing: builds the fuzz targets with clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer (in build-fuzz/), then runs each for SECONDS (default
# 60) on a copy of its seed corpus. Crashes are written to build-fuzz/crashes/.
# Usage: tests/fuzz/run.sh [SECONDS] [TARGET...]   (targets: syslog event_json http_input logparse model_load sigma)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(syslog event_json http_input logparse model_load sigma)
"$root/scripts/install-deps.sh" >/dev/null
cmake -S "$root" -B "$root/build-fuzz" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSAI_FUZZ=ON -DSAI_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$root/build-fuzz" -j2 --target $(printf 'fuzz_%s ' "${targets[@]}")
mkdir -p "$root/build-fuzz/crashes"
for t in "${targets[@]}"; do
    work="$root/build-fuzz/corpus-$t"
    mkdir -p "$work"
    cp -n "$root/tests/fuzz/corpus/$t/"* "$work/" 2>/dev/null || true
    echo "== fuzz_$t for ${seconds}s"
    "$root/build-fuzz/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=65536 \
        -artifact_prefix="$root/build-fuzz/crashes/$t-" "$work" 2>&1 | tail -3
done
