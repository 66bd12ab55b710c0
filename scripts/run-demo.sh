#!/usr/bin/env bash
# `make run`: the most complete path that exists today — print the catalogue summary and rebin a bundled spectrum.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./xrfedge catalog | tail -n 3
