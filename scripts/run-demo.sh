#!/usr/bin/env bash
# `make run`: the whole instrument on this machine. Installs what is missing, builds, then starts
#   1. mosquitto on 127.0.0.1 (a free port),
#   2. the simulated DP5 MCA on a pty (`xrfedge mca-sim`, synthetic spectra),
#   3. `xrfedge run --config firmware-config/simulator.json` (continuous 2 s measurements → detections → MQTT),
#   4. a subscriber printing what is published under xrf/v1/demo/#,
# until Ctrl-C, which stops everything (the service gets SIGTERM and shuts down gracefully).
# Model: models/xrf-line-encoder.int8.onnx. If it is not there yet (`make model` trains it), the demo runs on the
# infer branch's fixed-seed TEST encoder, with a loud warning: its detections are plumbing, not chemistry.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh

run="$root/.build/run"
mkdir -p "$run"
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo >&2
  echo "run-demo: stopping …" >&2
  # The service first (SIGTERM: X-ray off, result completed/aborted, outbox flushed), then the rest.
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; wait "${pids[$i]}" 2>/dev/null || true; done
}
trap cleanup INT TERM EXIT

./xrfedge --help >/dev/null   # builds (Release) when sources changed

model="$root/models/xrf-line-encoder.int8.onnx"
sets=()
if [ ! -f "$model" ]; then
  test_model="$root/tests/XrfEdge.Inference.Tests/Models/test-encoder.int8.onnx"
  cat >&2 <<'WARN'

  ######################################################################################
  #  WARNING: models/xrf-line-encoder.int8.onnx is missing (training/README.md makes it).#
  #  Running on the TEST encoder (random fixed-seed weights): the pipeline, MQTT and     #
  #  outbox are real, but the detected elements are NOT meaningful.                      #
  ######################################################################################

WARN
  sets+=(--set "Model:Path=$test_model")
fi

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat > "$run/mosquitto.conf" <<CONF
# 'user' keeps mosquitto as the invoking user (as root it would switch to 'mosquitto' and lose access to $run).
user $(id -un)
listener $port 127.0.0.1
allow_anonymous true
persistence true
persistence_location $run/
autosave_interval 1
log_dest file $run/mosquitto.log
CONF
# Children run in their own sessions (setsid) so that Ctrl-C reaches only this script, which then stops them in
# order: the service first, so that its last results and its offline availability still reach the broker.
setsid mosquitto -c "$run/mosquitto.conf" &
pids+=($!)
for _ in $(seq 50); do mosquitto_sub -h 127.0.0.1 -p "$port" -t '$SYS/broker/uptime' -C 1 -W 1 >/dev/null 2>&1 && break; sleep 0.2; done
echo "run-demo: mosquitto on 127.0.0.1:$port (log $run/mosquitto.log)" >&2

link="$run/mca-sim.tty"
setsid ./xrfedge mca-sim --link "$link" --seed 7 > "$run/mca-sim.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -e "$link" ] && break; sleep 0.1; done
[ -e "$link" ] || { echo "run-demo: the simulated MCA did not come up; see $run/mca-sim.log" >&2; exit 1; }
echo "run-demo: simulated DP5 on $link" >&2

# Everything the instrument publishes, except the retained copy of the latest detection (docs/mqtt.md "Latest
# detection"): it repeats each detection, which read as a duplicate here.
setsid mosquitto_sub -h 127.0.0.1 -p "$port" -V 5 -t 'xrf/v1/demo/#' -T 'xrf/v1/demo/XRF-SIM-0001/detections/latest' -v -F '[mqtt] %t %p' &
pids+=($!)

echo "run-demo: starting the service; Ctrl-C stops everything" >&2
setsid ./xrfedge run --config firmware-config/simulator.json \
  --set "Acquisition:Device=$link" --set "Mqtt:Port=$port" --set "Outbox:Path=$run/outbox.db" "${sets[@]}" &
pids+=($!)
wait "${pids[-1]}"
