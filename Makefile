# XrfEdge — the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build run test bench catalog ort test-model
.PHONY: help deps build run test bench catalog physics-tables synth-validate
.PHONY: help deps build run test bench catalog bench-mqtt

help:
	@echo "make run    — install what is missing, build, run the service end to end (simulated MCA, local broker)"
	@echo "make test   — install what is missing and run every test"
	@echo "make bench  — run the benchmarks (numbers go to docs/PERFORMANCE.md by hand)"

deps:
	@scripts/install-deps.sh

build: deps
	dotnet build XrfEdge.sln -c Release --nologo -v quiet -clp:ErrorsOnly

# Until the service exists end to end, `make run` runs the most complete path there is.
run: deps
	@scripts/run-demo.sh

test: deps
	@scripts/run-tests.sh

catalog:
	/usr/bin/python3 scripts/physics/generate_catalog.py

# Native ONNX Runtime (pinned onnxruntime-node tarball, sha512-checked, cached in .cache/). Every build runs this
# already (MSBuild target FetchOnnxRuntime in XrfEdge.Inference), so build/test/run and ./xrfedge need no extra step.
ort:
	scripts/fetch-onnxruntime.sh >/dev/null

# Regenerates the fixed-seed test encoder of tests/XrfEdge.Inference.Tests/Models (Debian python3 + torch + onnx).
test-model:
	/usr/bin/python3 scripts/models/make_test_model.py
# Simulated Amptek DP5 on /tmp/xrfedge-ttyDP5 (what firmware-config/simulator.json points at); Ctrl-C stops it.
.PHONY: mca-sim
mca-sim:
	./xrfedge mca-sim --link /tmp/xrfedge-ttyDP5

# Synthesis: regenerate the xraylib physics tables; set the generator against the real NIST spectra (docs/img, tables on stdout).
physics-tables:
	/usr/bin/python3 scripts/physics/generate_physics_tables.py

synth-validate:
	/usr/bin/python3 scripts/validation/synthesis_vs_nist.py
# Training (issue 5): `make model` reproduces models/ (data → train → ONNX → int8 → card); see training/README.md.
.PHONY: model model-smoke
model:
	training/make_model.sh

model-smoke:
	training/make_model.sh --smoke
# MQTT and outbox benchmarks (needs mosquitto; numbers go to docs/PERFORMANCE.md, "MQTT and outbox").
bench-mqtt: deps
	cd bench/XrfEdge.Bench && dotnet run -c Release -- --filter '*OutboxBenchmarks*' '*MqttPublishBenchmarks*'
