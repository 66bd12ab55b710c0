"""The EVALUATION.md robustness rows for elements outside the catalogue (report._foreign_rows)."""

from xrftrain.report import _foreign_rows


def _eval(f1: float, precision: float, fp: int) -> dict:
    return {"element": {"f1": f1, "precision": precision, "fp": fp}}


def test_foreign_rows_show_both_sets_side_by_side():
    rows = _foreign_rows(_eval(0.970907, 0.985098, 731), _eval(0.95049, 0.950338, 2496))
    text = "\n".join(rows)
    assert "| test-randomized | 0.9709 | 0.9851 | 731 |" in text
    assert "| test-randomized-foreign | 0.9505 | 0.9503 | 2496 |" in text
    assert "randomized-foreign.json" in text


def test_foreign_rows_absent_when_the_set_was_not_scored():
    # Models scored before the set existed (their eval folder has no test-randomized-foreign) render as before.
    assert _foreign_rows(_eval(0.97, 0.98, 700), None) == []
