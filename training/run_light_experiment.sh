#!/usr/bin/env bash
# The light-element data experiment of 2026-11-24 (training/configs/experiment-light-*.json, docs/training.md
# "Open: light elements"): two small trainings that differ only in the training profile, then the measures their
# rule names. Not part of `make model`. Output under .build/exp-light/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py=/usr/bin/python3
out=.build/exp-light
n_train=${N_TRAIN:-400000}; n_val=${N_VAL:-20000}
mkdir -p "$out"
synth() {  # profile count seed dir [args]
  [ -f "$4/meta.json" ] || ./xrfedge synth --profile "$1" --count "$2" --seed "$3" --label-systematic 0.02 --format npy --out "$4" "${@:5}"
}
[ -f "$out/sel.jsonl" ] || ./xrfedge synth --profile randomized --count 20000 --seed 6006 --label-systematic 0.02 --format jsonl --out "$out/sel.jsonl" --independent-of 1001 2002
arms=${ARMS:-control arm}   # rock, narrow: the later runs (experiment-light-rock.json, -narrow.json), on their own: ARMS=rock
for arm in $arms; do
  case $arm in
    control) profile=randomized ;;
    arm) profile=training/profiles/randomized-light.json ;;
    rock) profile=training/profiles/randomized-carbonate-rock.json ;;   # made with the matrix of 7b0bdbf
    narrow) profile=training/profiles/carbonate-rock-air.json ;;   # a diagnosis: N_TRAIN=100000 N_VAL=10000 (matrix of 7b0bdbf)
    narrow2) profile=training/profiles/carbonate-rock-air.json ;;  # the same, compounds present with probability 0.5
    rock3) profile=training/profiles/randomized-carbonate-rock3.json ;;
    rock4) profile=training/profiles/randomized-carbonate-rock4.json ;;   # rock3 with igneous-sparse
    rock5) profile=training/profiles/randomized-carbonate-rock5.json ;;   # rock4, granite 0.5 + igneous-sparse 1.0
    rock6) profile=training/profiles/randomized-carbonate-rock6.json ;;   # rock5 without the granite
    rock5x2) profile=training/profiles/randomized-carbonate-rock5.json ;; # rock5 at N_TRAIN=800000
    rock5x4) profile=training/profiles/randomized-carbonate-rock5.json ;; # rock5 at N_TRAIN=1600000
    *) echo "run_light_experiment: unknown arm '$arm' (control, arm, rock, narrow, narrow2, rock3, rock4, rock5, rock6, rock5x2, rock5x4)" >&2; exit 2 ;;
  esac
  synth "$profile" "$n_train" 1001 "$out/data-$arm/train"
  synth "$profile" "$n_val" 2002 "$out/data-$arm/val" --independent-of 1001
  [ -f "$out/model-$arm/xrf-line-encoder.card.json" ] || \
    (cd training && "$py" -m xrftrain model --config "configs/experiment-light-$arm.json" --data "../$out/data-$arm" \
       --out "../$out/model-$arm" --no-ablations)
done
for arm in $arms; do
  echo "== $arm: analogue recall (seed 11, 60 per case)"
  PYTHONPATH=training "$py" scripts/validation/analogue_recall.py --seed 11 --count 60 --false-reports --models "$out/model-$arm"
  echo "== $arm: xrfedge eval int8 on $out/sel.jsonl"
  ./xrfedge eval --input "$out/sel.jsonl" --model "$out/model-$arm/xrf-line-encoder.int8.onnx" --json > "$out/eval-$arm.json"
  "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: {m: d[k][m] for m in ('sensitivity', 'precision', 'f1')} for k in ('element', 'line')})" "$out/eval-$arm.json"
done
