"""The EVALUATION.md robustness rows for elements outside the catalogue (report._foreign_rows) and the real-file
totals a ship rule counts (report.real_totals)."""

import json
import subprocess
import sys

import pytest

from xrftrain.catalog import repo_root
from xrftrain.report import _foreign_rows, real_totals


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


def _identify_line(name: str, symbols: list[str]) -> str:
    return json.dumps({"id": f"{name}_50kv_50_ma_Rh_vac_D1",
                       "elements": [{"symbol": s, "probability": 0.9} for s in symbols], "lines": []})


def test_real_totals_counts_passes_and_false_elements_over_every_set(tmp_path):
    ev = tmp_path / "eval"
    ev.mkdir()
    (ev / "nist-real.int8.jsonl").write_text("\n".join([
        _identify_line("Fe", ["Fe", "Rh"]),                  # pass: Rh, the anode, is not scored
        _identify_line("Ni", ["Ni", "Ar"]),                  # fail: the set is measured in vacuum, so Ar is false
        _identify_line("Acrylic", ["O"]),                    # fail: the blank must report nothing (O was allowed until 2026-11)
        _identify_line("Zr", ["Zr", "Fe", "As", "Ca"]),      # fail: Fe is a documented trace, As and Ca are false
        _identify_line("Steel", ["Fe", "Cr", "Ni"]),         # fail: Mo missing, nothing false
        '{"id":"Cu_50kv_50_ma_Rh_vac_D1","error":"negative channel 12"}',  # unreadable: a fail
        _identify_line("Unknown", ["Pb"]),                   # not a scored file
    ]) + "\n")
    (ev / "glasses.int8.md").write_text("| table |\n\npassed 2 of 3; missed expected elements: 2; "
                                        "reported elements outside the documented composition: 1\n")
    t = real_totals(tmp_path)
    assert t["sets"]["nist"] == {"passed": 1, "of": 6, "false": 4}
    assert t["sets"]["glasses"] == {"passed": 2, "of": 3, "false": 1}
    assert (t["passed"], t["of"], t["false"], t["missing"]) == (3, 9, 5, [])


def test_real_totals_names_a_missing_nist_output_and_a_malformed_table(tmp_path):
    with pytest.raises(ValueError, match="eval_models.sh"):
        real_totals(tmp_path)
    (tmp_path / "eval").mkdir()
    assert real_totals(tmp_path)["missing"] == [str(tmp_path / "eval" / "nist-real.int8.jsonl")]
    (tmp_path / "eval" / "broken.int8.md").write_text("no summary here\n")
    with pytest.raises(ValueError, match="broken.int8.md"):
        real_totals(tmp_path)


def test_real_totals_reads_the_summary_score_real_spectra_writes(tmp_path):
    # The writer and the parser agree: score the PIXL set's committed identify output with the real script, as
    # eval_models.sh does, and read it back. A change to the script's summary line fails here, not in a ship decision.
    root = repo_root()
    folder = root / "validation" / "spectra" / "pixl-bb-rh28kv-glasses"
    identify = root / "models" / "eval" / "pixl-bb-rh28kv-glasses.int8.jsonl"
    table = subprocess.run([sys.executable, str(root / "scripts" / "validation" / "score_real_spectra.py"), str(folder),
                            str(identify)], capture_output=True, text=True, check=True).stdout
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "pixl.int8.md").write_text(table)
    got = real_totals(tmp_path)["sets"]["pixl"]
    rows = [r for r in table.splitlines() if r.startswith("| `")]  # one per scored file
    assert got["of"] == len(json.loads((folder / "expected.json").read_text())["spectra"]) == len(rows)
    assert got["passed"] == sum(r.endswith("| pass |") for r in rows)


def test_a_nan_or_missing_figure_is_never_a_pass():
    # An audit found Python's max() could skip a NaN and let the int8-vs-fp32 check pass on it.
    from xrftrain.report import _met, _worst_difference

    assert _met(float("nan"), 0.97).startswith("**missed**")
    assert _met(None, 0.97).startswith("**missed**")
    assert _met(0.9705, 0.97) == "met"
    assert _worst_difference({"a": 0.5, "b": float("nan")}, {"a": 0.5, "b": 0.5}) is None
    assert _worst_difference({"a": float("nan"), "b": 0.5}, {"a": 0.5, "b": 0.5}) is None
    assert _worst_difference({"a": 0.5, "b": 0.6}, {"a": 0.49, "b": 0.6}) == pytest.approx(0.01)


def test_figures_of_record_name_their_seed_and_take_per_element_rows_from_eval(tmp_path):
    from xrftrain.report import _per_element_of_record, _set_seed

    ev = tmp_path / "eval"
    ev.mkdir()
    assert _set_seed(tmp_path, "test-randomized") == "seed not recorded"
    (ev / "eval-sets.json").write_text('{"test-randomized": {"profile": "randomized", "count": 20000, "seed": 7007}}')
    assert _set_seed(tmp_path, "test-randomized") == "seed 7007"
    (ev / "test-randomized.int8.json").write_text(json.dumps({"per_element": [
        {"symbol": "Fe", "support": 10, "tp": 8, "fp": 2, "fn": 2},
        {"symbol": "O", "support": 0, "tp": 0, "fp": 0, "fn": 0}]}))
    rows = _per_element_of_record(tmp_path)["test-randomized"]
    assert rows[0] == {"element": "Fe", "support": 10, "sensitivity": 0.8, "precision": 0.8, "f1": 0.8, "fp": 2, "fn": 2}
    assert all(v != v for v in (rows[1]["sensitivity"], rows[1]["precision"], rows[1]["f1"]))  # NaN, never 1
