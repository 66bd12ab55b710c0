# Sourced (not run) by eval_models.sh and ship_check.sh, from the repository root: the guard that make_model.sh gives its
# own test sets, for the scripts that generate sets to score a model made by an earlier run or elsewhere. A set that
# shares random streams with the set a model was trained, validated or thresholded on scores the model on its own
# training spectra (docs/synthesis.md, "Known weakness of the seeding"); `xrfedge synth --independent-of` refuses it,
# exit 2, before anything is written.

# trained_seeds CARD VAR WHO: prints, blank-separated and sorted, the seeds the model card CARD records for the sets
# its model was trained, validated and thresholded on (training.generator.seed, training.validation_set.seed, and
# training.threshold_set.seed after a rethreshold), together with the seeds the environment variable named VAR gives.
# VAR only adds: a card's own seeds are always kept (until 2026-11-24 eval_models.sh's EVAL_INDEPENDENT_OF replaced
# them, so that one left exported, or "none", let a model be scored on the sets it was trained on). A card without a
# training or validation seed (a model made elsewhere) is refused, exit 2, unless VAR names the seeds ("S1 S2 …") or
# is "none" (then only what the card has is checked, with a warning). WHO prefixes the messages.
trained_seeds() {
  local card="$1" var="$2" who="$3" told="${!2:-}" line found problem
  if [ -n "$told" ] && [ "$told" != none ] && ! [[ "$told" =~ ^[[:space:]]*[0-9]+([[:space:]]+[0-9]+)*[[:space:]]*$ ]]; then
    echo "$who: $var='$told': give seeds separated by blanks, or none" >&2
    return 2
  fi
  # One line: the seeds the card records, a tab, and what it lacks (nothing when it has the training and validation seeds).
  line="$(/usr/bin/python3 - "$card" <<'PY'
import json, sys
seeds, missing = set(), []
try:
    card = json.load(open(sys.argv[1], encoding="utf-8"))
except (OSError, ValueError) as e:
    print(f"\t{sys.argv[1]}: {e}")   # refused below like a card without seeds, unless VAR says which
    sys.exit(0)
training = card.get("training") if isinstance(card, dict) else None
training = training if isinstance(training, dict) else {}
for key in ("generator", "validation_set", "threshold_set"):   # threshold_set: only after a rethreshold
    record = training.get(key)
    seed = record.get("seed") if isinstance(record, dict) else None
    if isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0:
        seeds.add(seed)
    elif key != "threshold_set":
        missing.append(f"training.{key}.seed")
print(" ".join(str(s) for s in sorted(seeds)) + "\t" + (f"{sys.argv[1]} records no " + " or ".join(missing) if missing else ""))
PY
  )" || { echo "$who: $card: its seeds could not be read (above)" >&2; return 2; }
  found="${line%%$'\t'*}"
  problem="${line#*$'\t'}"
  if [ -n "$problem" ]; then
    if [ -z "$told" ]; then
      echo "$who: $problem: the sets cannot be checked against the sets the model was trained and thresholded on: set $var='SEED …' to their seeds (training, validation, threshold set), or $var=none to go on without that check" >&2
      return 2
    fi
    [ "$told" = none ] && echo "$who: WARNING: $problem and $var=none: the sets are not checked against the sets the model was trained and thresholded on; a shared seed would make its figures training figures" >&2
  fi
  [ "$told" = none ] && told=""
  # shellcheck disable=SC2086 # word splitting of the two seed lists is the point
  printf '%s\n' $found $told | sort -nu | paste -sd' ' -
}

# guarded_jsonl PROFILE COUNT SEED LABEL_SYS FILE [SEED…]: makes FILE hold COUNT spectra of PROFILE from SEED with label
# systematic LABEL_SYS (jsonl), generated with --independent-of the SEEDs that follow FILE. A FILE already there is
# reused when FILE.seed holds the same key: profile, count, seed, ε, the profile's content hash (training/profile_key.sh:
# a profile edited under the same name once left its sets here) and the seeds it was checked against (synth checks
# when it generates, so a set cached for another model is generated, and checked, again). Sets guarded_jsonl_reused;
# returns synth's exit status when synth fails (2 when a SEED shares streams with SEED: synth's message says which).
guarded_jsonl() {
  local key guard=()
  key="$1 $2 $3 $4 $(training/profile_key.sh "$1") independent-of:${*:6}"
  if [ -s "$5" ] && [ -f "$5.seed" ] && [ "$(cat "$5.seed")" = "$key" ] && [ "$(wc -l < "$5")" -eq "$2" ]; then
    guarded_jsonl_reused=true
    return 0
  fi
  guarded_jsonl_reused=false
  rm -f "$5.seed"   # a set cut off or refused half-way is never taken for the one its old key names
  if [ $# -gt 5 ]; then guard=(--independent-of "${@:6}"); fi
  ./xrfedge synth --profile "$1" --count "$2" --seed "$3" --label-systematic "$4" --format jsonl --out "$5" "${guard[@]}" || return $?
  echo "$key" > "$5.seed"
}
