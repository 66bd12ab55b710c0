#!/usr/bin/env bash
# Service benchmarks (docs/PERFORMANCE.md, section "Service"). Prints the numbers; nothing is asserted.
#   1. cold start to READY=1 (sd_notify), 5 runs, replay source, broker offline
#   2. RSS with the model loaded: VmRSS after 30 measurements, and at steady state after N_LATENCY + 30 (the GC heap
#      grows until its gen0 budget is reached: about 150 measurements of 0.1 s)
#   3. end of acquisition → detection at a subscriber (just after the broker's PUBACK), p50/p99 over N measurements
#   4. scan mode: spectra/s through the whole service (replay unpaced → analysis in batches → outbox), 100,000 points,
#      (a) one instrument: 20 spectra recorded from the simulated SPI MCA with firmware-config/jetson-spi.json (one
#          calibration, 1024 channels, as every MCA source delivers); (b) the 20 synthetic handheld-SDD spectra of
#          steps 1–3 (20 calibrations, 2048/4096 channels: a worst case no scanner produces). CPU seconds of the
#          whole process (start-up included, from /proc/PID/stat) are printed next to each: robust to contention.
# Uses models/xrf-line-encoder.int8.onnx, or the infer test encoder (same graph shape, so the same cost) when absent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
./xrfedge --help >/dev/null
dll="$root/.build/xrfedge/xrfedge.dll"
work="$(mktemp -d /tmp/xrfedge-svcbench-XXXXXX)"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT
model="$root/models/xrf-line-encoder.int8.onnx"
[ -f "$model" ] || model="$root/tests/XrfEdge.Inference.Tests/Models/test-encoder.int8.onnx"
echo "model: $model"
# The runtime environment of systemd/xrfedge.service (DOTNET_* lines: GC settings the runtime only reads from the
# environment), so the numbers are those of the installed service.
eval "$(sed -n 's/^Environment=\(DOTNET_[A-Za-z0-9_]*=[^ ]*\)$/export \1/p' systemd/xrfedge.service)"
env | grep '^DOTNET_' | sort | tr '\n' ' '; echo
n_latency="${N_LATENCY:-200}"

# A replay file of 20 synthetic handheld spectra (2048 channels).
./xrfedge synth --profile handheld-sdd --count 20 --seed 5 --format jsonl --out "$work/replay.jsonl" >/dev/null
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
profile() { # mode preset paced points
  cat > "$work/profile.json" <<JSON
{ "Acquisition": { "Source": "Replay", "ReplayPath": "$work/replay.jsonl", "Mode": "$1", "AutoStart": true, "PresetSeconds": $2, "ReplayPaced": $3, "ScanPoints": $4 },
  "Model": { "Path": "$model", "MaxBatchSize": 256 },
  "Mqtt": { "Port": $port, "Fleet": "bench", "DeviceId": "XRF-BENCH" },
  "Outbox": { "Path": "$work/outbox.db" },
  "Health": { "IntervalSeconds": 60 },
  "Logging": { "LogLevel": { "Default": "Warning", "XrfEdge.Service.Pipeline.PublishingWorker": "Information" } } }
JSON
}

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== 1. cold start to READY (broker offline, replay source)"
profile Triggered 1 true 1
for i in 1 2 3 4 5; do
  sock="xrfedge-bench-$$-$i"
  socat -u "ABSTRACT-RECVFROM:$sock" - > "$work/notify-$i" 2>/dev/null & spid=$!
  sleep 0.2
  t0=$(date +%s%N)
  NOTIFY_SOCKET="@$sock" dotnet "$dll" run --config "$work/profile.json" > "$work/run-$i.log" 2>&1 & svc=$!
  while ! grep -q "READY=1" "$work/notify-$i" 2>/dev/null; do sleep 0.01; done
  t1=$(date +%s%N)
  echo "run $i: $(( (t1 - t0) / 1000000 )) ms"
  kill -TERM $svc; wait $svc || true; kill $spid 2>/dev/null || true
  rm -f "$work/outbox.db"*
done

echo "== 2+3. steady state: RSS and end of acquisition → subscriber (just after PUBACK), $n_latency measurements of 0.1 s"
cat > "$work/mosquitto.conf" <<CONF
user $(id -un)
listener $port 127.0.0.1
allow_anonymous true
CONF
mosquitto -c "$work/mosquitto.conf" 2>/dev/null & pids+=($!)
sleep 0.5
profile Continuous 0.1 true 1
mosquitto_sub -h 127.0.0.1 -p "$port" -q 1 -t 'xrf/v1/bench/XRF-BENCH/detections' -F '%U %p' > "$work/latency.txt" & pids+=($!)
dotnet "$dll" run --config "$work/profile.json" > "$work/steady.log" 2>&1 & svc=$!
while [ "$(wc -l < "$work/latency.txt")" -lt 30 ]; do sleep 0.2; done
echo "RSS after 30 measurements: $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$svc/status) (VmHWM $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$svc/status); anon $(awk '/RssAnon/ {printf "%.1f", $2/1024}' /proc/$svc/status), file $(awk '/RssFile/ {printf "%.1f", $2/1024}' /proc/$svc/status), shmem $(awk '/RssShmem/ {printf "%.1f", $2/1024}' /proc/$svc/status) MB)"
while [ "$(wc -l < "$work/latency.txt")" -lt $((n_latency + 30)) ]; do sleep 0.2; done
echo "RSS after $((n_latency + 30)) measurements (steady): $(awk '/VmRSS/ {printf "%.1f MB", $2/1024}' /proc/$svc/status) (VmHWM $(awk '/VmHWM/ {printf "%.1f MB", $2/1024}' /proc/$svc/status); anon $(awk '/RssAnon/ {printf "%.1f", $2/1024}' /proc/$svc/status), file $(awk '/RssFile/ {printf "%.1f", $2/1024}' /proc/$svc/status), shmem $(awk '/RssShmem/ {printf "%.1f", $2/1024}' /proc/$svc/status) MB)"
kill -TERM $svc; wait $svc || true
/usr/bin/python3 - "$work/latency.txt" <<'PY'
import json, sys, datetime
lat = []
for line in open(sys.argv[1]).read().splitlines()[30:]:
    ts, payload = line.split(" ", 1)
    end = json.loads(payload)["acquired"]["end"]
    t_end = datetime.datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
    lat.append((float(ts) - t_end) * 1000)
lat.sort()
p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print(f"end of acquisition -> subscriber: n={len(lat)} p50={p(0.5):.1f} ms p99={p(0.99):.1f} ms max={lat[-1]:.1f} ms")
PY
rm -f "$work/outbox.db"*

./xrfedge acquire --device simulated --protocol spi --config firmware-config/jetson-spi.json --preset-s 0.05 --count 20 --out "$work/spi-scan.jsonl" >/dev/null
scan() { # label replay-file
  rm -f "$work/outbox.db"*
  profile Scan 0.01 false 100000
  sed -i "s|$work/replay.jsonl|$2|" "$work/profile.json"
  dotnet "$dll" run --config "$work/profile.json" > "$work/scan.log" 2>&1 & svc=$!
  while ! grep -aq "Scan S-.* ended" "$work/scan.log"; do
    # A service that stopped (bad profile, crash) never logs the scan's end: say so instead of waiting forever.
    kill -0 "$svc" 2>/dev/null || { echo "service exited before the scan ended:"; tail -n 5 "$work/scan.log"; exit 1; }
    sleep 0.2
  done
  cpu=$(awk '{printf "%.2f", ($14 + $15) / 100}' /proc/$svc/stat)
  echo "$1: $(grep -ao "Scan S-[0-9a-f]* ended: .*" "$work/scan.log" | head -1 | sed 's/^Scan S-[0-9a-f]* ended: //'); process CPU ${cpu} s"
  kill -TERM $svc; wait $svc || true
}
echo "== 4. scan mode through the whole service: 100000 points, replay unpaced (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
scan "4a one instrument (SPI MCA recording, 1 calibration)" "$work/spi-scan.jsonl"
scan "4b mixed replay (20 calibrations, 2048/4096 ch)" "$work/replay.jsonl"
