"""Per-line and per-element decision thresholds chosen on VALIDATION data (never on the test set).

For each output the threshold maximises F1 over that output's (spectrum, symbol) pairs; outputs with fewer
than `min_positives` validation positives take the threshold that maximises pooled F1 over all outputs
(a per-output choice from a handful of positives would be noise).

`choose_for_decoder` chooses them for the decision the C# Decoder actually makes (docs/training.md, "Thresholds"):
a line counts only when the tube voltage can excite it, an element only when one of its lines is reported, and
the line thresholds may be raised to an operating point (a pooled line-precision target) instead of max-F1.
"""

from __future__ import annotations

import numpy as np

from .metrics import excitable, line_support

# Outputs with fewer validation positives than this take the pooled threshold (shared with ceiling.py).
MIN_POSITIVES = 20
CANDIDATES = np.round(np.concatenate([np.linspace(0.02, 0.1, 5), np.linspace(0.12, 0.9, 40), [0.93, 0.95, 0.97]]), 4)


def _f1_curve(prob: np.ndarray, truth: np.ndarray, mask: np.ndarray,
              precision_floor: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """F1 and TP+FN for every candidate threshold, per column: arrays [len(CANDIDATES), C]. Candidates below
    precision_floor score F1 − 2 in columns where some candidate reports a true positive at or above the floor
    (so argmax takes the best of those; a column where none does keeps its plain F1 curve)."""
    t = truth.astype(bool) & mask
    f = ~truth.astype(bool) & mask
    f1 = np.zeros((len(CANDIDATES), prob.shape[1]))
    ok = np.zeros((len(CANDIDATES), prob.shape[1]), dtype=bool)
    for k, c in enumerate(CANDIDATES):
        pred = prob >= c
        tp = (pred & t).sum(axis=0)
        fp = (pred & f).sum(axis=0)
        fn = (~pred & t).sum(axis=0)
        denom = 2 * tp + fp + fn
        f1[k] = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
        if precision_floor > 0:
            ok[k] = (tp > 0) & (tp >= precision_floor * (tp + fp))
    if precision_floor > 0:
        f1 = np.where(~ok & ok.any(axis=0)[None, :], f1 - 2.0, f1)
    return f1, t.sum(axis=0)


def choose(prob: np.ndarray, truth: np.ndarray, mask: np.ndarray, min_positives: int = MIN_POSITIVES,
           precision_floor: float = 0.0) -> np.ndarray:
    """Max-F1 threshold per column. With precision_floor > 0 a column takes its max-F1 threshold among the
    candidates whose validation precision reaches the floor (its plain max-F1 threshold when none does)."""
    f1, positives = _f1_curve(prob, truth, mask, precision_floor)
    t = truth.astype(bool) & mask
    f = ~truth.astype(bool) & mask
    pooled = []
    for c in CANDIDATES:
        pred = prob >= c
        tp = np.count_nonzero(pred & t)
        fp = np.count_nonzero(pred & f)
        fn = np.count_nonzero(~pred & t)
        pooled.append(2 * tp / max(2 * tp + fp + fn, 1))
    fallback = float(CANDIDATES[int(np.argmax(pooled))])
    thr = CANDIDATES[np.argmax(f1, axis=0)].astype(np.float64)
    thr[positives < min_positives] = fallback
    return thr.astype(np.float32)


def choose_all(line_prob: np.ndarray, element_prob: np.ndarray, y_lines: np.ndarray, y_elements: np.ndarray,
               ignore: np.ndarray, line_element: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain per-output max-F1 on the training framework's outputs: what the ablations are compared with (cheap,
    and the same for every variant); the shipped model's thresholds come from choose_for_decoder."""
    ign = ignore.astype(bool)
    return (choose(line_prob, y_lines, ~ign[:, line_element]), choose(element_prob, y_elements, ~ign))


# Per-line precision floors tried, lowest first, when a pooled line-precision target is set (0 = plain max-F1).
PRECISION_FLOORS = (0.0, 0.85, 0.88, 0.9, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98)


def choose_for_decoder(line_prob: np.ndarray, element_prob: np.ndarray, y_lines: np.ndarray, y_elements: np.ndarray,
                       ignore: np.ndarray, line_element: np.ndarray, line_edge_kev: np.ndarray, tube_kv: np.ndarray,
                       line_precision_target: float | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """(line thresholds, element thresholds, how they were chosen) for the Decoder's decision on validation data.

    1. Lines the tube cannot excite are never reported, so they take no part in the choice.
    2. Line thresholds: per-line max-F1; with line_precision_target, the lowest per-line precision floor of
       PRECISION_FLOORS whose pooled validation line precision reaches the target (the highest floor if none does).
    3. Element thresholds: max-F1 of the reported decision, i.e. of the element probability where one of the
       element's lines is reported and 0 where none is (the Decoder needs both).
    """
    ign = ignore.astype(bool)
    line_mask = ~ign[:, line_element]
    lp = np.where(excitable(line_edge_kev, tube_kv), line_prob, 0.0)
    truth = y_lines.astype(bool) & line_mask
    false = ~y_lines.astype(bool) & line_mask
    floors = PRECISION_FLOORS if line_precision_target is not None else (0.0,)
    for floor in floors:
        line_thr = choose(lp, y_lines, line_mask, precision_floor=floor)
        pred = lp >= line_thr
        tp = int(np.count_nonzero(pred & truth))
        fp = int(np.count_nonzero(pred & false))
        precision = tp / max(tp + fp, 1)
        if line_precision_target is None or precision >= line_precision_target:
            break
    support = line_support(pred, line_element, element_prob.shape[1])
    elem_thr = choose(np.where(support, element_prob, 0.0), y_elements, ~ign)
    info = {"line_precision_target": line_precision_target, "line_precision_floor": floor,
            "validation_line_precision": precision,
            "validation_line_sensitivity": tp / max(int(np.count_nonzero(truth)), 1)}
    return line_thr, elem_thr, info
