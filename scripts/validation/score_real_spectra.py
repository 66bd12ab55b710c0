#!/usr/bin/python3
"""Score `xrfedge identify --json` output on a real-spectra set against the set's expected.json (validation only).

Run from the repository root (training/eval_models.sh does this for every set, into models/eval/):
    ./xrfedge identify --input validation/spectra/pixl-bb-rh28kv-glasses/*.msa \
        --model models/xrf-line-encoder.int8.onnx --json > /tmp/pixl.int8.jsonl
    /usr/bin/python3 scripts/validation/score_real_spectra.py validation/spectra/pixl-bb-rh28kv-glasses /tmp/pixl.int8.jsonl
JSONL defaults to identify.int8.jsonl inside FOLDER (how thin_real_spectra.py's folders are scored).

It prints the markdown table that docs/real-spectra.md quotes and exits 0 (a failing spectrum is a result, not an
error). The rule is expected.json's own: every `expected` element reported, and nothing reported outside
`expected | allowed | not_scored` once the `ignored` elements (tube anode, Ar) are removed. Nothing here is tuned:
the thresholds are the model card's, applied by `xrfedge identify`.
"""
from __future__ import annotations

import json
import pathlib
import sys


def main(folder: pathlib.Path, jsonl_name: str = "identify.int8.jsonl") -> int:
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (folder / jsonl_name).read_text(encoding="utf-8").splitlines() if line.strip()]
    ignored = set(expected["ignored"])
    passed = 0
    spurious_total = 0
    missed_total = 0
    print("| file | expected (≥ 1 wt %) | reported (probability) | missed | outside the documented composition | pass |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        spec = expected["spectra"].get(row["id"])
        if spec is None:
            print(f"| `{row['id']}` | (not in expected.json) | | | | — |")
            continue
        if "error" in row:
            print(f"| `{row['id']}` | {', '.join(spec['expected'])} | read error: {row['error']} | | | fail |")
            continue
        reported = [(e["symbol"], e["probability"]) for e in row["elements"]]
        got = {s for s, _ in reported} - ignored
        want = set(spec["expected"])
        known = want | set(spec["allowed"]) | set(spec.get("not_scored", []))
        missed = sorted(want - got)
        spurious = sorted(got - known)
        ok = not missed and not spurious
        passed += ok
        spurious_total += len(spurious)
        missed_total += len(missed)
        shown = ", ".join(f"{s} {p:.3f}" + (" (ignored)" if s in ignored else "") for s, p in reported)
        print(f"| `{row['id']}` | {', '.join(spec['expected'])} | {shown} | {', '.join(missed) or '—'} | "
              f"{', '.join(spurious) or '—'} | {'pass' if ok else 'FAIL'} |")
    scored = sum(1 for r in rows if r["id"] in expected["spectra"])
    print()
    print(f"passed {passed} of {scored}; missed expected elements: {missed_total}; "
          f"reported elements outside the documented composition: {spurious_total}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: score_real_spectra.py FOLDER [JSONL_NAME]")
    sys.exit(main(pathlib.Path(sys.argv[1]), *sys.argv[2:]))
