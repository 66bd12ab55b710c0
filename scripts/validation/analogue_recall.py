#!/usr/bin/python3
"""Does the shipped model find light elements the labels call detectable? (docs/real-spectra.md, "Synthetic analogues")

Renders N synthetic spectra of one fixed composition per case with `xrfedge synth` (a benchtop SDD set like the
NIST files' detector, `synthesis_vs_nist.profile_for`; Rh tube, the case's kV, beam path and count total), then
counts, for each light element of the case, how many spectra the generator's labels mark it detectable in (L_D with
the training labels' systematic term ε = 0.02 by default, docs/training.md; `--label-systematic 0` = Currie) and how many of those the shipped int8 model reports (the Decoder's rule, card thresholds;
spectra above the card's count range scaled to its top, as the instrument does by default). Nothing is trained or
fitted here; the cases mirror real files the model misses elements in, and their controls.

Run from the repository root:
  PYTHONPATH=training /usr/bin/python3 scripts/validation/analogue_recall.py [--count 40] [--seed 5] [--case NAME ...]
      [--false-reports]   (adds, per case, a row for each light element not in its sample: spectra reporting it)
      [--json FILE]       (the rows as JSON too: `make ship-check` reads them for its rule (f), training/xrftrain/shipcheck.py)
"""
from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts" / "validation"))

import synthesis_vs_nist as sv  # noqa: E402  (profile_for: the NIST-validated benchtop set-up)
from xrftrain.card import load_int8_with_card, scale_to_count_range  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.metrics import reported  # noqa: E402
from xrftrain.pipeline import _onnx_probs  # noqa: E402
from xrftrain.realspectra import rebin  # noqa: E402

LIGHT = ("Na", "Mg", "Al", "Si", "K")

# Live time of every case: MBH_REE_MID_22_P_01's #LIVETIME (the count total, not the time, sets the statistics here).
LIVE_TIME_S = 60.0

# MBH REE-MID-22-P (validation/spectra/xgt7200-rh50kv-geo-crms/README.md): certified Ca, Ba, Mg, Si, S, Sr; C from
# the carbonate; O the balance. REEs (outside the catalogue) left out.
CARBONATE = {"Ca": .344, "Ba": .017, "Mg": .017, "Si": .012, "S": .0051, "Sr": .0038, "C": .11}
# A soil like NIST SRM 2586 (same README): Si, Al, Fe, Ca, Mg majors, with K and Na.
SOIL = {"Si": .28, "Al": .08, "Fe": .05, "Ca": .03, "Mg": .017, "K": .02, "Na": .015}
# USGS BIR-1G, the low-K basalt glass (validation/spectra/pixl-bb-rh28kv-glasses/README.md).
BIR1G = {"Si": .2243, "Al": .0820, "Ca": .0950, "Mg": .0585, "Fe": .0803, "Na": .0135, "Ti": .0058, "K": .0003}


@dataclass(frozen=True)
class Case:
    name: str
    composition: dict[str, float]
    medium: str                  # vacuum, air or helium
    path_mm: tuple[float, float]  # ignored for vacuum
    kv: float = 50.0
    total_counts: float = 1.72e6  # MBH_REE_MID_22_P_01's (Python rebin, 0-30 keV)
    mirrors: str = ""


CASES = [
    Case("carbonate-air", CARBONATE, "air", (6, 15), mirrors="MBH_REE_MID_22_P_01 (XGT-7200, 50 kV)"),
    Case("carbonate-air-short", CARBONATE, "air", (1, 3)),
    Case("carbonate-vacuum", CARBONATE, "vacuum", (0, 0)),
    Case("carbonate-air-with-K", {**CARBONATE, "K": .02}, "air", (6, 15)),
    # The carbonate without its Mg and Si: a model that reports them here reads a prior, not their peaks.
    Case("calcite-air", {k: v for k, v in CARBONATE.items() if k not in ("Mg", "Si")}, "air", (6, 15)),
    Case("soil-air", SOIL, "air", (6, 15), mirrors="NIST SRM 2586/2587 (XGT-7200)"),
    Case("soil-air-without-K", {k: v for k, v in SOIL.items() if k != "K"}, "air", (6, 15)),
    # The controls of the two coupling rows: a model that reports Mg here, or Na in the glass without it, reads a
    # prior of the rock, not the peak (added after the rock4 run, docs/training.md "Open: light elements").
    Case("soil-air-without-K-Mg", {k: v for k, v in SOIL.items() if k not in ("K", "Mg")}, "air", (6, 15)),
    Case("bir1g-helium", BIR1G, "helium", (10, 10), kv=28, total_counts=1.2e8,
         mirrors="BIR-1G (PIXL breadboard, 28 kV, He)"),
    Case("bir1g-helium-with-K", {**BIR1G, "K": .02}, "helium", (10, 10), kv=28, total_counts=1.2e8),
    Case("bir1g-helium-without-Na", {k: v for k, v in BIR1G.items() if k != "Na"}, "helium", (10, 10), kv=28,
         total_counts=1.2e8),
]


def render(case: Case, count: int, seed: int, xrfedge: pathlib.Path, label_systematic: float) -> list[dict]:
    comp = dict(case.composition)
    comp["O"] = 1.0 - sum(comp.values())
    if comp["O"] < 0:
        raise ValueError(f"case {case.name}: mass fractions sum to more than 1")
    sv.POLYCAPILLARY = 1.0
    p = sv.profile_for(comp, case.total_counts, LIVE_TIME_S)
    p["tube_voltage_kilovolts"] = {"min": case.kv, "max": case.kv}
    lo, hi = case.path_mm
    p["paths"] = ([{"medium": "vacuum"}] if case.medium == "vacuum"
                  else [{"medium": case.medium, "length_millimetres": {"min": lo, "max": hi}}])
    with tempfile.TemporaryDirectory() as tmp:
        profile, out = pathlib.Path(tmp) / "case.json", pathlib.Path(tmp) / "case.jsonl"
        profile.write_text(json.dumps(p))
        run = subprocess.run([str(xrfedge), "synth", "--profile", str(profile), "--count", str(count), "--seed",
                              str(seed), "--label-systematic", str(label_systematic), "--format", "jsonl",
                              "--out", str(out)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"case {case.name}: xrfedge synth failed: {run.stderr.strip()[-500:]}")
        return [json.loads(line) for line in out.read_text().splitlines()]


def identify(model, thresholds, cat, recs: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Element probabilities and the Decoder's reports for rendered spectra, as the instrument reads them: rebinned to
    the model's grid, scaled down to the top of the card's count range when above it. `thresholds` = (line thresholds,
    element thresholds, count-range top) from load_int8_with_card."""
    lt, et, top = thresholds
    x = np.stack([rebin(np.asarray(r["counts"], float), r["calibration"]["offset_kev"],
                        r["calibration"]["gain_kev_per_channel"]) for r in recs])
    lp, ep = _onnx_probs(model, scale_to_count_range(x, top).astype(np.float32), cat)
    _, pred = reported(lp, ep, cat.line_element, lt, et)
    return ep, pred


def measure(models: pathlib.Path, cases: list[Case], count: int, seed: int, label_systematic: float,
            false_reports: bool, xrfedge: pathlib.Path) -> tuple[dict, list[dict]]:
    """The rows, one per (case, light element): `kind` "labelled" (in the sample: how many spectra the labels call it
    detectable in, and how many of those the model reports) or "false" (not in the sample: how many spectra report
    it). Returns (the card, the rows)."""
    cat = load_catalog()
    model, card, lt, et, top = load_int8_with_card(models)
    rows = []
    for case in cases:
        recs = render(case, count, seed, xrfedge, label_systematic)
        ep, pred = identify(model, (lt, et, top), cat, recs)
        path = "vacuum" if case.medium == "vacuum" else f"{case.medium} {case.path_mm[0]:g}–{case.path_mm[1]:g} mm"
        common = {"case": case.name, "path": path, "kv": case.kv, "of": len(recs), "mirrors": case.mirrors}
        for el in (e for e in LIGHT if e not in case.composition and false_reports):
            i = cat.element_index(el)
            rows.append({**common, "element": el, "kind": "false", "mass_fraction": 0.0, "labelled": None,
                         "reported": int(pred[:, i].sum()), "median_p": float(np.median(ep[:, i]))})
        for el in (e for e in LIGHT if e in case.composition):
            i = cat.element_index(el)
            labelled = np.array([el in r["elements"] for r in recs])
            rows.append({**common, "element": el, "kind": "labelled", "mass_fraction": case.composition[el],
                         "labelled": int(labelled.sum()), "reported": int(pred[labelled, i].sum()),
                         "median_p": float(np.median(ep[labelled, i])) if labelled.any() else None})
    return card, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=40, help="spectra per case")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--label-systematic", type=float, default=0.02,
                    help="the labels' systematic background term ε (training/make_model.sh labels with 0.02; 0 = Currie)")
    ap.add_argument("--case", action="append", choices=[c.name for c in CASES], help="only these cases")
    ap.add_argument("--false-reports", action="store_true",
                    help="also a row for each light element not in the case's sample: how many spectra report it")
    ap.add_argument("--models", type=pathlib.Path, default=ROOT / "models")
    ap.add_argument("--xrfedge", type=pathlib.Path, default=ROOT / "xrfedge")
    ap.add_argument("--json", type=pathlib.Path, help="also write the rows to this file as JSON")
    a = ap.parse_args()

    cases = [c for c in CASES if not a.case or c.name in a.case]
    card, rows = measure(a.models, cases, a.count, a.seed, a.label_systematic, a.false_reports, a.xrfedge)
    print(f"model {card.get('version', '?')} int8, card thresholds; {a.count} spectra per case, seed {a.seed}, "
          f"labels with ε = {a.label_systematic:g}")
    print("| case | path | kV | element | labelled detectable | reported of those | median p (labelled) | mirrors |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        head = f"| {r['case']} | {r['path']} | {r['kv']:g} |"
        median = "—" if r["median_p"] is None else f"{r['median_p']:.3f}"
        if r["kind"] == "false":
            print(f"{head} {r['element']} not in sample | — | {r['reported']} of {r['of']} (false) | {median} | {r['mirrors']} |")
        else:
            print(f"{head} {r['element']} {r['mass_fraction'] * 100:.2f} wt % | {r['labelled']} of {r['of']} | "
                  f"{r['reported']} | {median} | {r['mirrors']} |")
    if a.json:
        a.json.write_text(json.dumps({"model_version": card.get("version", "?"), "models": str(a.models),
                                      "count": a.count, "seed": a.seed, "label_systematic": a.label_systematic,
                                      "false_reports": a.false_reports, "cases": [c.name for c in cases],
                                      "rows": rows}, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
