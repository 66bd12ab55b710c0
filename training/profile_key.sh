#!/usr/bin/env bash
# Prints a key for what `xrfedge synth --profile PROFILE` generates with this build: the generator version and a hash
# of the profile as the generator reads it (every default filled in, as the npy meta.json's profile_definition).
# make_model.sh and eval_models.sh reuse a cached set only when its key matches, so editing a profile's content
# (e.g. matrix weights) regenerates the sets even though the profile's name, count and seed are unchanged.
#   training/profile_key.sh PROFILE           the key this build would write (run from the repository root)
#   training/profile_key.sh --meta META.json  the key of an existing npy set
set -euo pipefail
key_of_meta() {
  /usr/bin/python3 - "$1" <<'PY'
import hashlib, json, sys
m = json.load(open(sys.argv[1]))
canonical = json.dumps(m.get("profile_definition"), sort_keys=True, separators=(",", ":"))
print(f'{m.get("generator_version")} profile-sha256:{hashlib.sha256(canonical.encode()).hexdigest()[:16]}')
PY
}
if [ $# -eq 2 ] && [ "$1" = "--meta" ]; then key_of_meta "$2"; exit 0; fi
[ $# -eq 1 ] || { echo "usage: training/profile_key.sh PROFILE | --meta META.json" >&2; exit 2; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/xrfedge-profile-key.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
./xrfedge synth --profile "$1" --count 1 --seed 1 --format npy --out "$tmp/p" > /dev/null 2>&1
key_of_meta "$tmp/p/meta.json"
