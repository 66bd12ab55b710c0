#!/usr/bin/env bash
# Fetches the native ONNX Runtime (libonnxruntime.so.1, linux-x64 and linux-arm64) from the pinned npm package
# onnxruntime-node, checks the tarball against the registry's published sha512 integrity, and caches the two
# libraries under .cache/onnxruntime/<version>/<rid>/. Runs once; later calls only check the cache.
#
# Why npm: the Microsoft.ML.OnnxRuntime NuGet package is not obtainable here, while npm serves the same
# official native build (see ../shared/reference/onnxruntime-c-api.md §1).
#
# Usage: scripts/fetch-onnxruntime.sh [CACHE_DIR]     (default: <repo>/.cache/onnxruntime)
# Prints the cache folder of this version on stdout. Called by the XrfEdge.Inference build (MSBuild target
# FetchOnnxRuntime) and by `make ort`.
set -euo pipefail

version="1.30.0"
# `npm view onnxruntime-node@1.30.0 dist.integrity` (recorded 2026-11-21). A different tarball is refused.
integrity="sha512-twhs1C2C/BFkz1yc5OY0KIU2GUq6DURO7hD4bx5Q2Qy3nAMJwRXW8xU3NVczE29VA9lolLOYepoD8fjTGOfIqw=="

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${1:-$root/.cache/onnxruntime}"
dest="$cache/$version"
x64="$dest/linux-x64/libonnxruntime.so.1"
arm64="$dest/linux-arm64/libonnxruntime.so.1"

if [ -s "$x64" ] && [ -s "$arm64" ] && [ -f "$dest/.verified" ]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache"
# Several builds may start at once (parallel project builds, CI): one fetch, the others wait for it.
exec 9>"$cache/.lock"
flock 9
if [ -s "$x64" ] && [ -s "$arm64" ] && [ -f "$dest/.verified" ]; then
  echo "$dest"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-onnxruntime: npm is not installed; it is needed once to fetch onnxruntime-node@$version" \
       "(run scripts/install-deps.sh, or set XRFEDGE_ONNXRUNTIME_PATH to an existing libonnxruntime.so.1" \
       "and build with -p:OnnxRuntimeFetch=false)." >&2
  exit 1
fi

work="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "fetch-onnxruntime: fetching onnxruntime-node@$version from the npm registry (~110 MB, once) …" >&2
if ! (cd "$work" && npm pack "onnxruntime-node@$version" --silent >/dev/null 2>"$work/npm.err"); then
  echo "fetch-onnxruntime: 'npm pack onnxruntime-node@$version' failed (no network or no registry access?):" >&2
  sed 's/^/  npm: /' "$work/npm.err" >&2
  exit 1
fi
tarball="$work/onnxruntime-node-$version.tgz"
if [ ! -f "$tarball" ]; then
  echo "fetch-onnxruntime: npm pack produced no $tarball" >&2
  exit 1
fi

# npm's integrity string is "sha512-" + base64 of the SHA-512 digest of the tarball. coreutils only (sha512sum's hex
# digest turned back into bytes by printf): openssl is not in a minimal image, and this runs on the first `dotnet build`
# of a fresh clone, before scripts/install-deps.sh (until 2026-11-24: "openssl: command not found" after the download).
# From stdin: sha512sum escapes a file name with a backslash or newline and then starts its line with '\'.
digest="$(sha512sum < "$tarball" | cut -c1-128)"
actual="sha512-$(printf '%b' "$(printf '%s' "$digest" | sed 's/../\\x&/g')" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "fetch-onnxruntime: integrity mismatch for onnxruntime-node-$version.tgz" >&2
  echo "  expected $integrity" >&2
  echo "  actual   $actual" >&2
  exit 1
fi

tar -xzf "$tarball" -C "$work" \
  package/bin/napi-v6/linux/x64/libonnxruntime.so.1 \
  package/bin/napi-v6/linux/arm64/libonnxruntime.so.1
mkdir -p "$dest/linux-x64" "$dest/linux-arm64"
install -m 0644 "$work/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$x64"
install -m 0644 "$work/package/bin/napi-v6/linux/arm64/libonnxruntime.so.1" "$arm64"
echo "$integrity" >"$dest/.verified"
echo "fetch-onnxruntime: cached libonnxruntime.so.1 (linux-x64, linux-arm64) in $dest" >&2
echo "$dest"
