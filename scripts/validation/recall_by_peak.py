#!/usr/bin/python3
"""Where does the shipped model lose labelled lines? Recall by peak-to-background and by significance.

Reads an npy set written by `xrfedge synth --format npy` (it carries each line's expected net counts `line_net` and
the other counts in its window `line_background`, the quantities the labels are computed from), leaves out the lines
of elements `xrfedge eval` does not score (`y_elements_ignore`: the tube anode, Ar), runs the shipped
int8 model on it (card thresholds, the Decoder's rule, spectra above the card's count range scaled to its top as the
instrument does), and tabulates the recall of the labelled lines in a grid of
  P/B = net / background        (how far the peak stands out of what lies under it), and
  z   = net / sqrt(background)  (its Poisson significance).
The labels call a line detectable from z alone at low counts and from P/B ≥ 4.65·ε (ε = 0.02: 0.093) at high counts
(L_D = 2.71 + 4.65·sqrt(B + (εB)²)). A model that weighs significance has recall rising along z at any P/B above the
labels' floor; one that needs a peak to stand out has recall set by P/B. Nothing is trained or fitted; pass a set
whose seed no choice has used (docs/training.md lists the seeds in use).

Run from the repository root:
  ./xrfedge synth --profile randomized --count 20000 --seed 9393 --format npy --out .build/diag-9393 \
      --label-systematic 0.02 --independent-of 1001 2002 3003 6006
  PYTHONPATH=training /usr/bin/python3 scripts/validation/recall_by_peak.py .build/diag-9393 [--below-kev 2.0]
"""
from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]

from xrftrain.card import load_int8_with_card  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.metrics import reported  # noqa: E402
from xrftrain.pipeline import _onnx_probs  # noqa: E402
from xrftrain.shipcheck import SELECTION_SEED, TEST_SEEDS  # noqa: E402

PB_EDGES = (0.0, 0.1, 0.3, 1.0, 3.0, 10.0, np.inf)
Z_EDGES = (0.0, 10.0, 30.0, 100.0, 300.0, np.inf)


def grid(net: np.ndarray, bg: np.ndarray, hit: np.ndarray) -> list[list[tuple[int, int]]]:
    """[P/B bin][z bin] → (labelled, reported) over the given labelled lines."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pb = np.where(bg > 0, net / bg, np.inf)
        z = np.where(bg > 0, net / np.sqrt(bg), np.inf)
    out = []
    for a, b in zip(PB_EDGES[:-1], PB_EDGES[1:]):
        row = []
        for c, d in zip(Z_EDGES[:-1], Z_EDGES[1:]):
            # The last bins are open above: a line with no background (P/B = z = ∞) belongs to them.
            m = (pb >= a) & ((pb < b) | (b == np.inf)) & (z >= c) & ((z < d) | (d == np.inf))
            row.append((int(m.sum()), int(hit[m].sum())))
        out.append(row)
    return out


def table(title: str, g: list[list[tuple[int, int]]]) -> str:
    head = "| P/B \\ z | " + " | ".join(f"{c:g}–{d:g}" for c, d in zip(Z_EDGES[:-1], Z_EDGES[1:])) + " |"
    lines = [f"**{title}** (recall, labelled lines in brackets; empty cells have fewer than 20)", "", head,
             "|---" * (len(Z_EDGES)) + "|"]
    for (a, b), row in zip(zip(PB_EDGES[:-1], PB_EDGES[1:]), g):
        cells = [f"{h / n:.3f} ({n})" if n >= 20 else "" for n, h in row]
        lines.append(f"| {a:g}–{b:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines).replace("–inf", "+")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=pathlib.Path, help="npy set folder (xrfedge synth --format npy)")
    ap.add_argument("--models", type=pathlib.Path, default=ROOT / "models")
    ap.add_argument("--below-kev", type=float, default=2.0, help="second table: lines below this energy")
    ap.add_argument("--json", type=pathlib.Path, help="also write the grids here")
    a = ap.parse_args()

    meta = json.loads((a.data / "meta.json").read_text())
    # The shipped model's training and validation seeds (its card), the selection set's and the test sets'.
    if meta["seed"] in {1001, 2002, SELECTION_SEED} | TEST_SEEDS:
        sys.exit(f"{a.data}: seed {meta['seed']} is a training, validation, selection or test seed; use a fresh one")
    cat = load_catalog()
    model, card, lt, et, top = load_int8_with_card(a.models)
    x = np.load(a.data / "x.npy").astype(np.float64)
    y = np.load(a.data / "y_lines.npy").astype(bool)
    # Scored as `xrfedge eval` scores lines: not those of elements left out (the tube anode, which the Decoder never
    # reports when it knows it; Ar; in the sample but undetectable).
    ignored = np.load(a.data / "y_elements_ignore.npy").astype(bool)[:, cat.line_element]
    y &= ~ignored
    net = np.load(a.data / "line_net.npy").astype(np.float64)
    bg = np.load(a.data / "line_background.npy").astype(np.float64)
    totals = x.sum(1, keepdims=True)
    if top:
        x = np.where(totals > top, x * (top / totals), x)
    lp, ep = _onnx_probs(model, x.astype(np.float32), cat)
    lines, _ = reported(lp, ep, cat.line_element, lt, et)
    hit = lines & y

    print(f"model {card.get('version', '?')} int8, card thresholds; set {a.data} (profile {meta['profile']}, seed "
          f"{meta['seed']}, {len(x)} spectra, ε = {meta['label_systematic_fraction']:g}); "
          f"labelled lines of scored elements {int(y.sum())}, recall {hit.sum() / y.sum():.4f}\n")
    grids = {"all": grid(net[y], bg[y], hit[y])}
    print(table("All labelled lines", grids["all"]) + "\n")
    low = (cat.line_energy_kev < a.below_kev)[None, :] & y
    grids[f"below_{a.below_kev:g}_kev"] = grid(net[low], bg[low], hit[low])
    print(table(f"Labelled lines below {a.below_kev:g} keV", grids[f"below_{a.below_kev:g}_kev"]) + "\n")
    if a.json:
        a.json.write_text(json.dumps({"set": str(a.data), "seed": meta["seed"], "pb_edges": [float(e) for e in PB_EDGES],
                                      "z_edges": [float(e) for e in Z_EDGES], "grids": grids}, indent=1))


if __name__ == "__main__":
    main()
