# The two commands of the README, plus a few helpers. Everything builds in ./build.
.PHONY: all deps build run test test-unit bench asan clean lint-openapi

BUILD_DIR ?= build
JOBS ?= 2
CMAKE_ARGS ?=

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_ARGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Build Release and serve on 127.0.0.1:8000 with the embedded store in ./data.
run: build
	$(BUILD_DIR)/securityai serve --data-dir ./data --host 127.0.0.1 --port 8000

# Build and run every test; prints ctest's summary, exits non-zero on any failure.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

bench: build
	./bench/http_health.sh

# Debug build with AddressSanitizer + UndefinedBehaviorSanitizer, then its tests.
asan: deps
	cmake --preset asan
	cmake --build --preset asan
	ctest --preset asan

lint-openapi: deps
	cd web && REDOCLY_TELEMETRY=off npx --no-install redocly lint ../docs/openapi.yaml

clean:
	rm -rf $(BUILD_DIR)
