"""The classic overlap cases of automatic XRF identification (Newbury 2005; issue 5):
As-K vs Pb-L, S-K vs Pb-M vs Mo-L, Ti-K vs Ba-L, Mn-Kβ vs Fe-Kα.

For an ordered pair (present, confused): `false_rate` = share of spectra where `present` is detectable,
`confused` is neither detectable nor ignored, and `confused` is still reported; `recall_with` = recall of
`confused` over spectra where both are detectable (does the overlap hide it?).
"""

from __future__ import annotations

import numpy as np

PAIRS: tuple[tuple[str, str], ...] = (
    ("Pb", "As"), ("As", "Pb"), ("Pb", "S"), ("S", "Pb"), ("Mo", "S"), ("S", "Mo"), ("Pb", "Mo"), ("Mo", "Pb"),
    ("Ba", "Ti"), ("Ti", "Ba"), ("Fe", "Mn"), ("Mn", "Fe"),
)


def confusion_table(element_prob: np.ndarray, y_elements: np.ndarray, ignore: np.ndarray, element_thr: np.ndarray,
                    elements: tuple[str, ...], element_pred: np.ndarray | None = None
                    ) -> list[dict[str, float | str | int]]:
    """element_pred (bool [N, elements]): the decision scored, e.g. `metrics.reported`'s (the Decoder's, with its
    line gate); without it the bare head `element_prob >= element_thr` is scored."""
    pred = element_prob >= element_thr if element_pred is None else element_pred.astype(bool)
    present = y_elements.astype(bool)
    ign = ignore.astype(bool)
    rows: list[dict[str, float | str | int]] = []
    for a, b in PAIRS:
        ia, ib = elements.index(a), elements.index(b)
        only_a = present[:, ia] & ~present[:, ib] & ~ign[:, ib]
        both = present[:, ia] & present[:, ib]
        rows.append({"present": a, "confused": b, "spectra_only_present": int(only_a.sum()),
                     "false_rate": float(pred[only_a, ib].mean()) if only_a.any() else float("nan"),
                     "spectra_both": int(both.sum()),
                     "recall_with": float(pred[both, ib].mean()) if both.any() else float("nan")})
    return rows
