#!/usr/bin/env python3
"""Which part of a real spectrum makes the model miss an element? (docs/real-spectra.md, "Why BIR-1G loses Mg")

Rebins TARGET and DONOR (.msa, Python rebin), scales DONOR to TARGET's counts in one reference bin, then replaces
one energy region of TARGET at a time with DONOR's and prints the element probabilities of the shipped int8 model
(an asterisk: reported by the Decoder's rule). Inputs above the card's count range are scaled to its top, as the
instrument does by default.

Without DONOR (knock-out, since 2026-11-25): each region of TARGET is replaced by the straight line between the bins
on either side of it, which removes any peak there; the question is then which part of a real spectrum makes the
model *report* an element (docs/training.md, "Run AI": what run AI reads in the NIST metals). `--sweep W,S` probes
windows W keV wide every S keV over 0.5-30 keV instead of `--regions`. `--models` probes another model folder.

  PYTHONPATH=training /usr/bin/python3 scripts/validation/swap_regions.py TARGET.msa [DONOR.msa] \
      [--elements Mg,Na] [--reference-kev 1.7] [--regions 0-1.4,3.0-3.5,... | --sweep 1,0.5] [--models DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from xrftrain.card import load_int8_with_card, scale_to_count_range
from xrftrain.catalog import load_catalog, repo_root
from xrftrain.metrics import reported
from xrftrain.pipeline import _onnx_probs
from xrftrain.realspectra import read_msa, rebin

DEFAULT_REGIONS = "0-1.4,1.4-2,2-3,3-4.5,4.5-6,6-8,8-15,15-30,3-3.3,3.3-3.5,3.5-4.5"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("target", type=Path)
    ap.add_argument("donor", type=Path, nargs="?", help="omitted: knock each region out instead (straight line)")
    ap.add_argument("--elements", default="Mg,Na")
    ap.add_argument("--reference-kev", type=float, default=1.7, help="bin whose counts the donor is scaled to match")
    ap.add_argument("--regions", default=DEFAULT_REGIONS, help="comma-separated LO-HI keV ranges")
    ap.add_argument("--sweep", help="W,S: windows W keV wide every S keV from 0.5 keV, instead of --regions")
    ap.add_argument("--models", type=Path, default=repo_root() / "models")
    a = ap.parse_args()
    if a.sweep:
        width, step = (float(v) for v in a.sweep.split(","))
        starts = np.arange(0.5, 30.0 - width + 1e-9, step)
        a.regions = ",".join(f"{lo:g}-{lo + width:g}" for lo in starts)

    cat = load_catalog()
    model, _, lt, et, top = load_int8_with_card(a.models)
    elements = [(s, cat.element_index(s)) for s in a.elements.split(",")]

    def probe(label: str, x: np.ndarray) -> None:
        x = scale_to_count_range(x, top)
        lp, ep = _onnx_probs(model, x[None].astype(np.float32), cat)
        _, pred = reported(lp, ep, cat.line_element, lt, et)
        cells = "  ".join(f"{s} {ep[0, e]:.3f}{'*' if pred[0, e] else ' '}" for s, e in elements)
        print(f"{label:40s} {cells}")

    target = rebin(*read_msa(a.target))
    probe("target as measured", target)
    if a.donor is not None:
        donor = rebin(*read_msa(a.donor))
        ref = int(a.reference_kev * 10)
        donor = donor * (target[ref] / donor[ref])
        probe("donor, scaled at the reference bin", donor)
    for r in a.regions.split(","):
        lo, hi = (float(v) for v in r.split("-"))
        i, j = int(round(lo * 10)), int(round(hi * 10))
        x = target.copy()
        if a.donor is not None:
            x[i:j] = donor[i:j]
            probe(f"target with donor's {lo:g}-{hi:g} keV", x)
        else:
            x[i:j] = knock_out(target, i, j)
            probe(f"target without {lo:g}-{hi:g} keV", x)


def knock_out(x: np.ndarray, i: int, j: int) -> np.ndarray:
    """Bins i..j-1 of x as the straight line from bin i-1 to bin j (the nearest bin inside x at either edge)."""
    left, right = max(i - 1, 0), min(j, len(x) - 1)
    return np.interp(np.arange(i, j), [left, right], [x[left], x[right]])


if __name__ == "__main__":
    main()
