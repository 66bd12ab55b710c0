# XrfEdge — the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build run test install bench bench-mqtt bench-service catalog physics-tables synth-validate \
        ort test-model mca-sim model model-smoke check-arm64 ship-check

help:
	@echo "make run      — install what is missing, build, run the service end to end (simulated MCA, local broker)"
	@echo "make test     — install what is missing and run every test"
	@echo "make install  — deploy to /opt/xrfedge as a systemd service (sudo; see docs/deploy.md)"
	@echo "make model    — reproduce models/ from a clean checkout (~115 min on 2 Zen 4 cores with bfloat16; training/README.md)"
	@echo "make ship-check CANDIDATE=DIR — judge a candidate model folder against models/ by the ship rules (~10 min, +2 the first time; training/README.md)"
	@echo "make bench    — BenchmarkDotNet benchmarks (numbers recorded in docs/PERFORMANCE.md)"

deps:
	@scripts/install-deps.sh

build: deps
	dotnet build XrfEdge.sln -c Release --nologo -v quiet -clp:ErrorsOnly

# Broker + simulated DP5 + the service + a subscriber, until Ctrl-C (scripts/run-demo.sh).
run: deps
	@scripts/run-demo.sh

test: deps
	@scripts/run-tests.sh

install:
	@scripts/install.sh

bench: deps
	cd bench/XrfEdge.Bench && dotnet run -c Release -- --filter '*'

# MQTT and outbox benchmarks (needs mosquitto; docs/PERFORMANCE.md, "MQTT and outbox").
bench-mqtt: deps
	cd bench/XrfEdge.Bench && dotnet run -c Release -- --filter '*OutboxBenchmarks*' '*MqttPublishBenchmarks*'

# Cold start, RSS, acquisition → subscriber latency and scan throughput of the whole service (docs/PERFORMANCE.md, "Service").
bench-service: deps
	scripts/bench-service.sh

# Emission-line catalogue and physics tables from xraylib (Debian python3-xraylib); provenance in src/XrfEdge.Spectra/Data/README.md.
catalog:
	/usr/bin/python3 scripts/physics/generate_catalog.py

physics-tables:
	/usr/bin/python3 scripts/physics/generate_physics_tables.py

# Sets the generator against the real NIST spectra (docs/img, tables on stdout).
synth-validate:
	/usr/bin/python3 scripts/validation/synthesis_vs_nist.py

# Native ONNX Runtime (pinned onnxruntime-node tarball, sha512-checked, cached in .cache/). Every build runs this
# already (MSBuild target FetchOnnxRuntime in XrfEdge.Inference), so build/test/run and ./xrfedge need no extra step.
ort:
	scripts/fetch-onnxruntime.sh >/dev/null

# The shipped model on ONNX Runtime's linux-arm64 library under qemu (Cortex-A72, A76) against linux-x64: same decisions,
# batch-invariant (scripts/arm64/check_arm64.py; docs/inference.md, "On arm64"). `make test` runs a smaller version.
check-arm64: deps
	/usr/bin/python3 scripts/arm64/check_arm64.py --per-profile 4000

# Regenerates the fixed-seed test encoder of tests/XrfEdge.Inference.Tests/Models (Debian python3 + torch + onnx).
test-model:
	/usr/bin/python3 scripts/models/make_test_model.py

# Simulated Amptek DP5 on /tmp/xrfedge-ttyDP5 (what firmware-config/simulator.json points at); Ctrl-C stops it.
mca-sim:
	./xrfedge mca-sim --link /tmp/xrfedge-ttyDP5

# Training (issue 5): `make model` reproduces models/ (data → train → ONNX → int8 → card); see training/README.md.
model:
	training/make_model.sh

model-smoke:
	training/make_model.sh --smoke

# The ship decision, re-run: a candidate folder (int8 ONNX + card) against the shipped models/ on the selection sets
# (seed 6006), the real files, the ONNX Runtime checks, latency and the card's epochs (training/ship_check.sh;
# docs/training.md, "Re-running the ship decision"). Exit status 0 only when every rule is met.
CANDIDATE ?= models
ship-check:
	training/ship_check.sh --candidate "$(CANDIDATE)" $(SHIP_CHECK_ARGS)
