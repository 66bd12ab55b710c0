"""Per-line and per-element decision thresholds chosen on VALIDATION data (never on the test set).

For each output the threshold maximises F1 over that output's (spectrum, symbol) pairs; outputs with fewer
than `min_positives` validation positives take the threshold that maximises pooled F1 over all outputs
(a per-output choice from a handful of positives would be noise).
"""

from __future__ import annotations

import numpy as np

CANDIDATES = np.round(np.concatenate([np.linspace(0.02, 0.1, 5), np.linspace(0.12, 0.9, 40), [0.93, 0.95, 0.97]]), 4)


def _f1_curve(prob: np.ndarray, truth: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F1 and TP+FN for every candidate threshold, per column: arrays [len(CANDIDATES), C]."""
    t = truth.astype(bool) & mask
    f = ~truth.astype(bool) & mask
    f1 = np.zeros((len(CANDIDATES), prob.shape[1]))
    for k, c in enumerate(CANDIDATES):
        pred = prob >= c
        tp = (pred & t).sum(axis=0)
        fp = (pred & f).sum(axis=0)
        fn = (~pred & t).sum(axis=0)
        denom = 2 * tp + fp + fn
        f1[k] = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return f1, t.sum(axis=0)


def choose(prob: np.ndarray, truth: np.ndarray, mask: np.ndarray, min_positives: int = 20) -> np.ndarray:
    f1, positives = _f1_curve(prob, truth, mask)
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
    ign = ignore.astype(bool)
    return (choose(line_prob, y_lines, ~ign[:, line_element]), choose(element_prob, y_elements, ~ign))
