#!/usr/bin/env bash
# Installs what SecurityAI needs to build, test and run on Debian 12 (bookworm).
# Idempotent: only missing packages are installed, `apt-get update` runs at most once,
# and the web assets (Swagger UI, ReDoc, the OpenAPI linter) are installed from the
# npm registry only when web/node_modules is missing or older than the lock file.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# What building the server needs (`--build-only`: the Docker image's build stage).
build_packages=(
    # toolchain
    build-essential cmake ninja-build ccache mold pkg-config git curl ca-certificates
    # libraries (mimalloc: the allocator every executable links, see cmake/sai.cmake)
    libmimalloc-dev libboost1.81-all-dev libboost-json1.81-dev libboost-url1.81-dev
    libsqlite3-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
    libssl-dev libsodium-dev libjwt-dev libcrypt-dev openssl libcurl4-openssl-dev
    # log parsing and detection: multi-pattern matching, Sigma YAML
    libhyperscan-dev libyaml-cpp-dev
    # ML: gzip CSV input and model-file checksums
    zlib1g-dev
    # reports: PDF rendering
    libcairo2-dev
    # graph: GeoIP country lookups (libGeoIP) and the country database (no download at run time)
    libgeoip-dev geoip-database
    # scale-out clients: PostgreSQL (libpq), Redis (hiredis), Kafka (librdkafka)
    libpq-dev libhiredis-dev librdkafka-dev
    # web assets (Swagger UI, ReDoc) come from npm at build time
    nodejs npm
)
# What the tests and benchmarks need on top.
test_packages=(
    googletest libgtest-dev libgmock-dev libbenchmark-dev python3 python3-yaml wrk
    # promtool (tests check /metrics with `promtool check metrics`); influxd for the
    # InfluxDB integration test (started by the test on 127.0.0.1, never as a service)
    prometheus influxdb
    # scale-out integration tests start these servers on 127.0.0.1 (never as services);
    # kcat is an outside Kafka client; docker-compose and systemd-analyze check deploy/
    postgresql redis-server kcat nginx docker-compose systemd
    # report tests render PDFs to images (pdftoppm)
    poppler-utils
    # fuzzing (tests/fuzz/run.sh): clang with libFuzzer
    clang libclang-rt-14-dev
)

packages=("${build_packages[@]}")
if [ "${1:-}" != "--build-only" ]; then
    packages+=("${test_packages[@]}")
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    sudo_cmd=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
    # Node.js and npm may come from outside Debian (for example a preinstalled
    # Node 20); any working `node` and `npm` on PATH will do.
    if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
    if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo_cmd[@]}" apt-get update -q
    "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "install-deps: all Debian packages present"
fi

# Web assets, pinned by web/package-lock.json.
web="$here/web"
stamp="$web/node_modules/.installed-stamp"
if [ ! -f "$stamp" ] || [ "$web/package-lock.json" -nt "$stamp" ]; then
    echo "install-deps: installing web assets (npm ci)"
    if ! (cd "$web" && REDOCLY_TELEMETRY=off npm ci --no-audit --no-fund --loglevel=error 2> "$web/.npm-ci.log"); then
        cat "$web/.npm-ci.log" >&2
        if grep -q -E 'SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT|CERT_' "$web/.npm-ci.log"; then
            # A TLS-intercepting proxy whose CA this machine does not trust. Every
            # package is still checked against the sha512 integrity recorded in
            # web/package-lock.json, so the content cannot be substituted.
            echo "install-deps: npm registry certificate not trusted; retrying with integrity checks only" >&2
            (cd "$web" && REDOCLY_TELEMETRY=off npm ci --no-audit --no-fund --loglevel=error --strict-ssl=false)
        else
            exit 1
        fi
    fi
    rm -f "$web/.npm-ci.log"
    touch "$stamp"
else
    echo "install-deps: web assets present"
fi
