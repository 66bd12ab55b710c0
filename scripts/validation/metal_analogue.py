#!/usr/bin/python3
"""Which elements does a model report on synthetic analogues of the NIST metal files? (docs/training.md, "Run AI")

Run AI reported Mo in the real Cu file, Fe in the Ni file and Au and As in the steel, which 1.6.0 does not. This renders
analogues of those three samples as analogue_recall.py renders its cases (the NIST-validated benchtop set-up, Rh tube,
50 kV, vacuum, 1.72e6 counts) and prints, per model, how many spectra report each element (the Decoder's rule with the
card's thresholds; Ar and the Rh anode are left out, as `identify --anode Rh` leaves them out). A report that the
analogue reproduces is the model's; one it does not is a difference between the real file and the generator's spectra.

Run from the repository root:
  PYTHONPATH=training /usr/bin/python3 scripts/validation/metal_analogue.py [--models DIR ...] [--count 40] [--seed 11]
"""
from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "validation"))

import analogue_recall as ar  # noqa: E402  (render and identify: the cases' benchtop set-up, the instrument's reading)
from xrftrain.card import load_int8_with_card  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402

NOT_ASSESSED = ("Ar", "Rh")  # always (Ar) and the tube anode (docs/inference.md §4)

CASES = [
    ar.Case("Cu", {"Cu": 1.0}, "vacuum", (0, 0), mirrors="Cu_50kv_50_ma_Rh_vac_D1"),
    ar.Case("Ni", {"Ni": 1.0}, "vacuum", (0, 0), mirrors="Ni_50kv_50_ma_Rh_vac_D1"),
    # A 316-type stainless steel like the NIST file's (Fe, Cr, Ni, Mo; the README gives no full composition).
    ar.Case("steel", {"Fe": .70, "Cr": .18, "Ni": .09, "Mo": .025, "Mn": .005}, "vacuum", (0, 0),
            mirrors="Steel_50kv_50_ma_Rh_vac_D1"),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=pathlib.Path, action="append", help="model folders (default: models/)")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--xrfedge", type=pathlib.Path, default=ROOT / "xrfedge")
    a = ap.parse_args()
    cat = load_catalog()
    print(f"{a.count} spectra per case, seed {a.seed}; spectra reporting each element (Ar and Rh not assessed)")
    print("| model | case | mirrors | reported |")
    print("|---|---|---|---|")
    for models in a.models or [ROOT / "models"]:
        model, card, lt, et, top = load_int8_with_card(models)
        for case in CASES:
            recs = ar.render(case, a.count, a.seed, a.xrfedge, 0.02)
            _, pred = ar.identify(model, (lt, et, top), cat, recs)
            n = {el: int(pred[:, cat.element_index(el)].sum()) for el in cat.elements if el not in NOT_ASSESSED}
            shown = ", ".join(f"{el} {k}" for el, k in sorted(n.items(), key=lambda kv: (-kv[1], kv[0])) if k)
            print(f"| {card.get('version', '?')} | {case.name} | {case.mirrors} | {shown} of {len(recs)} |")


if __name__ == "__main__":
    main()
