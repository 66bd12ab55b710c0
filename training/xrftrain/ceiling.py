"""A background-oracle reference for the element-level targets: how well could a detector do that knew, for every
catalogue line, the exact expected background under it?

The labels are the Currie rule on expected (noise-free) counts: a line is detectable when its net counts in a window
of ±1.2 FWHM reach L_D = 2.71 + 4.65·√(B + (ε·B)²). A measured spectrum is one Poisson draw, so near L_D no detector
can tell a detectable line from a missing one for sure. This module measures that floor with an oracle detector:

- window counts N ~ Poisson(net + B) for every line (line_net.npy, line_background.npy: the generator's own window
  counts; a fresh draw, statistically the same as the spectrum's);
- line score z = (N − B) / √(B + (ε·B)²), with B exactly known — no real detector knows it (it must estimate the
  continuum, the tails and the other elements' peaks under the window from the spectrum);
- element score = the highest z among its lines that the tube can excite (the Decoder's excitation rule);
- element thresholds chosen per element for maximum F1 on the validation set, then applied to the test set, exactly
  as the model's are (the pooled validation choice for elements with < 20 validation positives).

It is a reference, not a proven upper bound: the oracle sums a window where a matched filter would weight the peak
shape, and it ignores each element's relative line intensities. But it is given what no model has (the background),
so a model that falls well short of it has room to learn, and a target above it asks more of the data than Poisson
statistics allow at the labels' definition.
"""

from __future__ import annotations

import numpy as np

from .data import Dataset
from .metrics import binary_scores, excitable
from .thresholds import MIN_POSITIVES


def oracle_element_scores(ds: Dataset, line_element: np.ndarray, line_edge_kev: np.ndarray, elements: int,
                          seed: int) -> np.ndarray:
    """[N, elements] float: the oracle's element score (module docstring); −inf where no line has a window."""
    if not ds.has_line_counts:
        raise ValueError(f"{ds.path}: the oracle needs line_net.npy and line_background.npy (regenerate the set)")
    rng = np.random.default_rng(seed)
    eps = ds.label_systematic_fraction
    out = np.full((len(ds), elements), -np.inf, np.float64)
    chunk = 4096
    for i in range(0, len(ds), chunk):
        net = np.asarray(ds.line_net[i:i + chunk], np.float64)
        bkg = np.asarray(ds.line_background[i:i + chunk], np.float64)
        n = rng.poisson(net + bkg)
        z = (n - bkg) / np.sqrt(np.maximum(bkg + (eps * bkg) ** 2, 1.0))
        has_window = (net > 0) | (bkg > 0)
        z = np.where(has_window & excitable(line_edge_kev, ds.tube_kv[i:i + chunk]), z, -np.inf)
        for e in range(elements):
            cols = line_element == e
            if cols.any():
                out[i:i + chunk, e] = z[:, cols].max(axis=1)
    return out


def _best_threshold(score: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(threshold, F1) maximising F1 of score ≥ threshold over masked pairs (all distinct cut points). Not
    thresholds.choose: that searches a fixed grid of probabilities, and the oracle's score is an unbounded z."""
    s = score[mask]
    t = truth[mask].astype(bool)
    if t.sum() == 0:
        return float("inf"), float("nan")
    order = np.argsort(-s, kind="stable")
    s, t = s[order], t[order]
    tp = np.cumsum(t)
    fp = np.cumsum(~t)
    fn = t.sum() - tp
    f1 = 2 * tp / (2 * tp + fp + fn)
    last = np.r_[s[1:] != s[:-1], True]  # only cut between distinct scores
    f1 = np.where(last, f1, -1.0)
    k = int(np.argmax(f1))
    return float(s[k]), float(f1[k])


def choose_thresholds(score: np.ndarray, y_elements: np.ndarray, ignore: np.ndarray) -> np.ndarray:
    """Per-element max-F1 thresholds on the oracle score; pooled threshold for elements with few positives."""
    mask = ~ignore.astype(bool)
    pooled, _ = _best_threshold(score.ravel(), y_elements.ravel(), mask.ravel())
    thr = np.full(score.shape[1], pooled)
    for e in range(score.shape[1]):
        if int((y_elements[:, e].astype(bool) & mask[:, e]).sum()) >= MIN_POSITIVES:
            thr[e], _ = _best_threshold(score[:, e], y_elements[:, e], mask[:, e])
    return thr


def oracle_scores(val: Dataset, tests: dict[str, Dataset], line_element: np.ndarray, line_edge_kev: np.ndarray,
                  element_names: tuple[str, ...], seed: int = 7) -> dict[str, dict]:
    """Element sensitivity/precision/F1 of the oracle on each test set, thresholds chosen on `val`, and per element
    (keyed by symbol) F1, support, FP and FN."""
    elements = len(element_names)
    thr = choose_thresholds(oracle_element_scores(val, line_element, line_edge_kev, elements, seed),
                            val.y_elements, val.y_elements_ignore)
    out = {}
    for k, (name, ds) in enumerate(tests.items()):
        score = oracle_element_scores(ds, line_element, line_edge_kev, elements, seed + 1 + k)
        s = binary_scores(np.maximum(score, -1e3), ds.y_elements, ~ds.y_elements_ignore.astype(bool), thr[None, :],
                          pred=score >= thr[None, :])
        mask = ~ds.y_elements_ignore.astype(bool)
        per = {}
        for e in range(elements):
            pe = binary_scores(np.maximum(score[:, e], -1e3), ds.y_elements[:, e], mask[:, e], thr[e],
                               pred=score[:, e] >= thr[e])
            per[element_names[e]] = {"f1": pe["f1"], "support": pe["tp"] + pe["fn"], "fp": pe["fp"], "fn": pe["fn"]}
        out[name] = {"element_sensitivity": s["sensitivity"], "element_precision": s["precision"],
                     "element_f1": s["f1"], "spectra": len(ds), "per_element": per}
    return out
