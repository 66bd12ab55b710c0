# XrfEdge — the two commands a newcomer needs are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help deps build run test bench catalog install

help:
	@echo "make run    — install what is missing, build, run the service end to end (simulated MCA, local broker)"
	@echo "make test   — install what is missing and run every test"
	@echo "make bench  — run the benchmarks (numbers go to docs/PERFORMANCE.md by hand)"
	@echo "make install — deploy to /opt/xrfedge as a systemd service (sudo; see docs/deploy.md)"

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

install:
	@scripts/install.sh
