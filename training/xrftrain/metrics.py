"""Scoring definitions, identical to `xrfedge eval` (docs: ../shared/reference/spectra-jsonl.md, "Metrics").

What is scored is what `xrfedge eval` reports, i.e. the C# Decoder's rules (docs/inference.md, "Decoder"): a line
is reported when p >= its threshold and it is excitable (edge < tube kV, when the kV is known); an element is
reported when its head passes its threshold AND at least one of its lines is reported. Scoring the bare element
head instead overstated benchtop element F1 by 0.0015 against `eval` (64 head-only detections in 5000 spectra).

All metrics are micro-averaged over (spectrum, symbol) pairs. The universe is the catalogue minus the
spectrum's `ignore_elements` (for lines: minus every line of an ignored element).
- detectable protocol: truth = y_elements / y_lines (what the spectrum can show).
- paper protocol (Table 1 of the paper): truth = y_lines_paper (every catalogue line of every element in the
  sample); only ignored elements that are NOT in the sample (tube anode, Ar from air) are left out, so
  in-sample-but-undetectable elements count as misses exactly as in the paper.
- pearson: correlation between predicted probability and 0/1 truth over the same pairs.
- top1: over spectra with at least one truly present (detectable) element, the share whose most probable
  non-ignored element is truly present.
- not assessed: as the Decoder, `reported` never reports an element of `not_assessed` nor its lines (Ar always, the
  tube anode when the spectrum names it; `not_assessed_mask`). Before 2026-11-24 they were reported here and never by
  the Decoder, so an Ar or anode that is scored (the paper protocol scores an in-sample anode) counted as a hit here and
  a miss in `eval`.
- a ratio with a zero denominator is NaN, accuracy over no pairs included (it was 0.0 before 2026-11-24; `eval`
  writes null).
- element_recall_any_line: share of (spectrum, present element) pairs with at least one of the element's
  lines at or above its line threshold (our first reading of the paper's undefined "guess ratio").
"""

from __future__ import annotations

import numpy as np


def binary_scores(prob: np.ndarray, truth: np.ndarray, mask: np.ndarray, threshold: np.ndarray | float,
                  pred: np.ndarray | None = None) -> dict[str, float]:
    """Confusion-derived scores over pairs where mask is true; threshold broadcasts over the last axis.
    pred (bool, prob's shape) overrides `prob >= threshold` as the decision; Pearson always uses prob."""
    m = mask.astype(bool)
    pred = prob >= threshold if pred is None else pred.astype(bool)
    t = truth.astype(bool)
    tp = int(np.count_nonzero(pred & t & m))
    fp = int(np.count_nonzero(pred & ~t & m))
    fn = int(np.count_nonzero(~pred & t & m))
    tn = int(np.count_nonzero(~pred & ~t & m))
    sens = tp / (tp + fn) if tp + fn else float("nan")
    spec = tn / (tn + fp) if tn + fp else float("nan")
    prec = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    acc = (tp + tn) / (tp + tn + fp + fn) if tp + tn + fp + fn else float("nan")
    p = prob[m].astype(np.float64)
    y = t[m].astype(np.float64)
    pearson = float(np.corrcoef(p, y)[0, 1]) if p.size > 1 and p.std() > 0 and y.std() > 0 else float("nan")
    return {"sensitivity": sens, "specificity": spec, "precision": prec, "f1": f1, "accuracy": acc,
            "pearson": pearson, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


# C# Decoder.AlwaysNotAssessed: Ar (air in the beam path) is unlabelled in every training spectrum.
ALWAYS_NOT_ASSESSED = ("Ar",)


def not_assessed_mask(catalog, n: int, anode: np.ndarray | None = None) -> np.ndarray:
    """[n, elements] bool: the elements the C# Decoder does not assess (never reports, nor their lines) in each of n
    spectra: Ar always, and anode[i] (catalogue element index; -1 = not named or not in the catalogue) in spectrum i.
    `catalog` needs `elements` and `element_index` (xrftrain.catalog.Catalog)."""
    mask = np.zeros((n, len(catalog.elements)), dtype=bool)
    for symbol in ALWAYS_NOT_ASSESSED:
        mask[:, catalog.element_index(symbol)] = True
    if anode is not None:
        a = np.asarray(anode, np.int64)
        if a.shape != (n,):
            raise ValueError(f"anode has shape {a.shape}, expected ({n},)")
        named = np.nonzero(a >= 0)[0]
        mask[named, a[named]] = True
    return mask


def reported(line_prob: np.ndarray, element_prob: np.ndarray, line_element: np.ndarray, line_thr: np.ndarray,
             element_thr: np.ndarray, line_edge_kev: np.ndarray | None = None,
             tube_kv: np.ndarray | None = None,
             not_assessed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(lines [N,556], elements [N,41]) the C# Decoder reports, as bool arrays. The excitation check needs both
    line_edge_kev and tube_kv; a spectrum whose kV is not a positive number is not checked (C#: voltage unknown).
    not_assessed ([N,41] bool, `not_assessed_mask`): elements never reported, nor their lines; None = none (the
    Decoder always has Ar there: pass the mask to replay it)."""
    lines = line_prob >= line_thr
    if line_edge_kev is not None and tube_kv is not None:
        lines = lines & excitable(line_edge_kev, tube_kv)
    if not_assessed is not None:
        lines = lines & ~not_assessed.astype(bool)[:, line_element]
    return lines, line_support(lines, line_element, element_prob.shape[1]) & (element_prob >= element_thr)


def excitable(line_edge_kev: np.ndarray, tube_kv: np.ndarray) -> np.ndarray:
    """[N, lines] bool: the Decoder's excitation rule (edge below the tube kV; kV unknown or ≤ 0 → not checked)."""
    kv = np.asarray(tube_kv, np.float64)
    known = np.isfinite(kv) & (kv > 0)
    return ~known[:, None] | (np.asarray(line_edge_kev)[None, :] < kv[:, None])


def line_support(lines: np.ndarray, line_element: np.ndarray, elements: int) -> np.ndarray:
    """[N, elements] bool: the element has at least one reported line (the Decoder's line gate)."""
    support = np.zeros((lines.shape[0], elements), dtype=bool)
    for e in range(elements):
        support[:, e] = lines[:, line_element == e].any(axis=1)
    return support


def evaluate(line_prob: np.ndarray, element_prob: np.ndarray, y_lines: np.ndarray, y_elements: np.ndarray,
             y_lines_paper: np.ndarray, in_sample: np.ndarray, ignore: np.ndarray, line_element: np.ndarray,
             line_thr: np.ndarray, element_thr: np.ndarray, line_edge_kev: np.ndarray | None = None,
             tube_kv: np.ndarray | None = None, not_assessed: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Every reported metric of one model on one labelled set (decisions: `reported`)."""
    line_pred, element_pred = reported(line_prob, element_prob, line_element, line_thr, element_thr,
                                       line_edge_kev, tube_kv, not_assessed)
    ign = ignore.astype(bool)
    line_mask = ~ign[:, line_element]
    paper_excl = ign & ~in_sample.astype(bool)
    paper_mask = ~paper_excl[:, line_element]
    out = {
        "elements": binary_scores(element_prob, y_elements, ~ign, element_thr, element_pred),
        "lines": binary_scores(line_prob, y_lines, line_mask, line_thr, line_pred),
        "paper_lines": binary_scores(line_prob, y_lines_paper, paper_mask, line_thr, line_pred),
    }
    masked = np.where(ign, -1.0, element_prob)
    top = masked.argmax(axis=1)
    has = (y_elements.astype(bool) & ~ign).any(axis=1)
    hits = y_elements[np.arange(len(top)), top].astype(bool)
    out["elements"]["top1"] = float(hits[has].mean()) if has.any() else float("nan")
    out["elements"]["top1_spectra"] = int(has.sum())
    any_line = line_support(line_pred, line_element, y_elements.shape[1])
    present = y_elements.astype(bool) & ~ign
    out["elements"]["element_recall_any_line"] = float(any_line[present].mean()) if present.any() else float("nan")
    paper_present = in_sample.astype(bool) & ~paper_excl
    out["paper_lines"]["element_recall_any_line"] = float(any_line[paper_present].mean()) if paper_present.any() else float("nan")
    return out


def per_element_table(element_prob: np.ndarray, y_elements: np.ndarray, ignore: np.ndarray,
                      element_thr: np.ndarray, symbols: tuple[str, ...],
                      element_pred: np.ndarray | None = None) -> list[dict[str, float | str]]:
    """Per-element sensitivity/precision/F1 and support (detectable protocol); element_pred: `reported`'s."""
    rows: list[dict[str, float | str]] = []
    for e, s in enumerate(symbols):
        m = ~ignore[:, e].astype(bool)
        r = binary_scores(element_prob[:, e], y_elements[:, e], m, float(element_thr[e]),
                          None if element_pred is None else element_pred[:, e])
        rows.append({"element": s, "support": int(y_elements[m, e].sum()), "sensitivity": r["sensitivity"],
                     "precision": r["precision"], "f1": r["f1"], "fp": r["fp"], "fn": r["fn"]})
    return rows
