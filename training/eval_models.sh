#!/usr/bin/env bash
# Scores the shipped models through the instrument's own code path: `xrfedge eval` (C#: .jsonl reader →
# calibration → Rebinner → ONNX Runtime → Decoder) on the same test spectra as the npy sets (same profile,
# count and seed ⇒ the same spectra), and `xrfedge identify` on the real spectra: the NIST files in ../shared and
# every set in validation/spectra/ (scored against its expected.json; docs/real-spectra.md).
# Writes models/eval/*.json; `python3 -m xrftrain report` folds them into models/EVALUATION.md.
# Every test set is generated with `--independent-of` the seeds of the sets the model was trained, validated and
# thresholded on, read from its card (docs/synthesis.md, "Known weakness of the seeding"); a card that does not record
# them is refused unless EVAL_INDEPENDENT_OF names the seeds to check against ("none": no check, with a warning).
# EVAL_INDEPENDENT_OF only adds to the seeds a card records, never replaces them.
#   training/eval_models.sh [MODELS_DIR]
#   EVAL_INDEPENDENT_OF="1001 2002" training/eval_models.sh DIR     # a model whose card records no training seeds
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
models="$(cd "${1:-$root/models}" && pwd)"   # absolute: the real-spectra scorer is given paths under it
data="${EVAL_DATA:-$root/.build/eval-data}"
out="$models/eval"
mkdir -p "$data" "$out"
n_test=${N_TEST:-20000}; n_profile=${N_PROFILE:-5000}
# Seeds of the figures of record. 3003/4004–4007, the sets of every model-history figure until 2026-11, informed
# development choices (docs/training.md, "Model history"), so the figures of record moved to sets no choice has seen.
seed_test=${SEED_TEST:-7007}; seed_profile=${SEED_PROFILE:-8008}
label_sys=${LABEL_SYSTEMATIC:-0.02}   # must match the labels the model was trained and thresholded on (make_model.sh)

# The seeds of the model's training, validation and threshold sets (the card's training.generator, .validation_set and
# .threshold_set, as xrftrain writes them, and any EVAL_INDEPENDENT_OF names): no test spectrum may share a random
# stream with them (training/seed_guard.sh). make_model.sh checks its own test sets so since 2026-11-24; until then
# this script, which scores any model folder, checked none.
. training/seed_guard.sh
trained="$(trained_seeds "$models/xrf-line-encoder.card.json" EVAL_INDEPENDENT_OF eval)" || exit 2

jsonl() {  # profile count seed file [seed …: the sets it must share no random stream with]
  local rc=0
  guarded_jsonl "$1" "$2" "$3" "$label_sys" "$4" "${@:5}" || rc=$?
  if [ $rc -ne 0 ]; then
    echo "eval: $(basename "$4" .jsonl) (seed $3) not generated: synth exit $rc (above). Where it names --independent-of, the set shares random streams with the set of one of the seeds ${*:5} (those the model in $models was trained, validated or thresholded on; for a per-profile set also the randomized test seed): pick another SEED_TEST / SEED_PROFILE" >&2
    exit "$rc"
  fi
}
sets=("randomized $n_test $seed_test test-randomized")
i=0
for p in handheld-sdd handheld-pin benchtop macro-xrf; do sets+=("$p $n_profile $((seed_profile + i)) test-$p"); i=$((i + 1)); done
# The same randomized test spectra with 1–3 elements outside the catalogue in 30 % of the samples (unlabelled lines):
# how often a model reads a foreign line as a catalogue element (report.py's robustness rows; docs/training.md, run AF).
sets+=("training/profiles/randomized-foreign.json $n_test $seed_test test-randomized-foreign")
# The same randomized test spectra with issue 3's Poisson-only Currie labels (ε = 0), for comparison.
sets+=("randomized $n_test $seed_test test-randomized-currie 0")
sets_json="{"
for s in "${sets[@]}"; do
  read -r profile count seed name eps <<<"$s"
  label_sys_set=${eps:-$label_sys}
  # As make_model.sh: the per-profile sets also share no stream with the randomized test set.
  read -r -a independent <<<"$trained"
  [[ "$name" == test-randomized* ]] || independent+=("$seed_test")
  independent_json="[$(IFS=,; echo "${independent[*]}" | sed 's/,/, /g')]"
  sets_json+="\"$name\": {\"profile\": \"$profile\", \"count\": $count, \"seed\": $seed, \"label_systematic\": $label_sys_set, \"independent_of\": $independent_json}, "
  label_sys="$label_sys_set" jsonl "$profile" "$count" "$seed" "$data/$name.jsonl" "${independent[@]}"
done
# Scored once every set is there and checked: a set refused above leaves the earlier figures as they were.
for s in "${sets[@]}"; do
  read -r _ _ _ name _ <<<"$s"
  for kind in int8 fp32; do
    echo "eval: $name ($kind)" >&2
    ./xrfedge eval --input "$data/$name.jsonl" --model "$models/xrf-line-encoder.$kind.onnx" --json > "$out/$name.$kind.json"
  done
done
echo "${sets_json%, }}" > "$out/eval-sets.json"   # which spectra each figure is on: EVALUATION.md reads it
real="$root/../shared/spectra/nist-rh50kv-vacuum"
if [ -d "$real" ]; then
  # identify exits non-zero when some files cannot be read (the NIST files hold negative channels that the
  # .msa reader refuses); the per-file errors are kept in the output, so that is recorded, not fatal.
  # Rh tube (../shared/spectra/README.md): the anode is not assessed, as on an instrument that knows its tube.
  ./xrfedge identify --input "$real"/*.msa --anode Rh --model "$models/xrf-line-encoder.int8.onnx" --json > "$out/nist-real.int8.jsonl" \
    || echo "eval: identify could not read every NIST file (see $out/nist-real.int8.jsonl)" >&2
fi
for set in "$root"/validation/spectra/*/; do
  [ -f "$set/expected.json" ] || continue
  name=$(basename "$set")
  anode=$(/usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("anode", ""))' "$set/expected.json")
  ./xrfedge identify --input "$set"*.msa ${anode:+--anode "$anode"} --model "$models/xrf-line-encoder.int8.onnx" --json > "$out/$name.int8.jsonl" \
    || echo "eval: identify could not read every file of $name (see $out/$name.int8.jsonl)" >&2
  /usr/bin/python3 scripts/validation/score_real_spectra.py "$set" "$out/$name.int8.jsonl" > "$out/$name.int8.md"
  echo "eval: $name: $(tail -1 "$out/$name.int8.md")" >&2
done
./xrfedge model inspect --model "$models/xrf-line-encoder.int8.onnx" > "$out/model-inspect.int8.txt" 2>&1 || true
echo "eval: results in $out" >&2
