#!/usr/bin/env bash
# Installs the system packages XrfEdge needs on Debian / Raspberry Pi OS / Ubuntu (JetPack), only those missing.
# Called by `make run` and `make test`; safe to run again.
set -euo pipefail
packages=(
  mosquitto mosquitto-clients libmosquitto1   # MQTT broker for tests/demo, libmosquitto for the binding
  socat                                        # pty pairs for serial tests
  openssl                                      # test certificates for MQTT TLS
  python3-torch python3-onnx python3-xraylib python3-numpy python3-pytest libopenblas0  # training only
  sqlite3                                      # outbox inspection in docs and tests
  python3-jinja2                               # tests render the Home Assistant discovery templates (HomeAssistantTemplateTests)
  gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user  # the model on arm64 ONNX Runtime under qemu (scripts/arm64)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)   # fetches the pinned onnxruntime-node tarball (native ORT)
if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-deps: the .NET 10 SDK is missing; see docs/deploy.md (Microsoft's dotnet-install script or packages)." >&2
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
