"""The ship-check verdict (xrftrain/shipcheck.py): the rules' arithmetic, a missed rule's exit code, NaN and missing
figures never passing, and the test-seed refusal. No data is generated: figures are built by hand."""

import json
import math
from dataclasses import replace

import pytest

from xrftrain.__main__ import main
from xrftrain.shipcheck import (Figures, check_sets, exit_code, foreign_bar, judge, selection_bar, TEST_SEEDS)

NAN = float("nan")

# 1.6.0's figures as docs/training.md records them ("Run AD", "Run AH"): selection-set element F1 0.971118, real files
# 10 passes / 7 false of 19, 6,221 false reports on the foreign selection set, ORT checks and latency met, 12 of 12
# epochs.
SHIPPED = Figures(selection_f1=0.971118, selection_tp_fp_fn=(482635, 7093, 21615), real_passed=10, real_of=19,
                  real_false=7, foreign_false=6221, foreign_f1=0.9517, batch_invariant_max_abs=0.0,
                  unfused_weight_dequantize=0, qlinear_matmul=4, latency_p50_us=70.7, epochs_cut=False, epochs_run=12,
                  epochs_planned=12, version="1.6.0")
# Run AH as docs/training.md records it: (a) 0.970948, (b) 9 / 8, (c) 2,265, (d) 76.6 µs, (e) 12 of 12.
RUN_AH = replace(SHIPPED, selection_f1=0.970948, real_passed=9, real_false=8, foreign_false=2265, latency_p50_us=76.6,
                 version="1.7.0")


def _by_rule(c: Figures, s: Figures = SHIPPED) -> dict[str, bool]:
    return {v.rule: v.met for v in judge(c, s)}


def test_bars_are_the_documented_ones_computed_from_the_shipped_figures():
    # docs/training.md, "Run AH": (a) ≥ 0.970818 = 0.971118 − 0.0003; (c) ≤ 3,110 = half of 6,221 in whole reports.
    assert selection_bar(0.971118) == 0.970818
    assert foreign_bar(6221) == 3110
    assert foreign_bar(6220) == 3110


def test_run_ah_reproduces_its_documented_verdict():
    # docs/training.md, "Run AH": (a) met, (b) missed, (c) met, (d) met, (e) met; 1.6.0 stays.
    verdicts = judge(RUN_AH, SHIPPED)
    assert {v.rule: v.met for v in verdicts} == {"a": True, "b": False, "c": True, "d": True, "e": True}
    assert exit_code(verdicts) == 1


def test_rule_a_boundary_is_inclusive_at_six_decimals():
    assert _by_rule(replace(RUN_AH, selection_f1=0.970818))["a"]
    assert not _by_rule(replace(RUN_AH, selection_f1=0.970817))["a"]


def test_the_shipped_model_against_itself_meets_a_and_b_but_not_c():
    # A model is not half of itself: (c) asks a candidate to halve the shipped model's foreign false reports.
    assert _by_rule(SHIPPED) == {"a": True, "b": True, "c": False, "d": True, "e": True}


def test_every_rule_met_exits_zero():
    good = replace(RUN_AH, real_passed=10, real_false=7)
    verdicts = judge(good, SHIPPED)
    assert all(v.met for v in verdicts)
    assert exit_code(verdicts) == 0


@pytest.mark.parametrize("change, rule", [
    ({"selection_f1": NAN}, "a"),
    ({"real_passed": NAN}, "b"),
    ({"real_false": NAN}, "b"),
    ({"real_of": 18}, "b"),                       # not the same files as the shipped model
    ({"foreign_false": NAN}, "c"),
    ({"batch_invariant_max_abs": NAN}, "d"),
    ({"batch_invariant_max_abs": 1e-7}, "d"),
    ({"unfused_weight_dequantize": 1}, "d"),
    ({"latency_p50_us": NAN}, "d"),
    ({"latency_p50_us": 100.1}, "d"),
    ({"epochs_cut": None}, "e"),                  # a card that does not say counts as cut
    ({"epochs_cut": True}, "e"),
])
def test_a_missing_nan_or_failing_candidate_figure_misses_its_rule(change, rule):
    good = replace(RUN_AH, real_passed=10, real_false=7)
    verdicts = judge(replace(good, **change), SHIPPED)
    assert {v.rule: v.met for v in verdicts}[rule] is False
    assert exit_code(verdicts) == 1


@pytest.mark.parametrize("change, rule", [
    ({"selection_f1": NAN}, "a"),
    ({"real_passed": NAN}, "b"),
    ({"foreign_false": NAN}, "c"),
])
def test_a_nan_shipped_figure_makes_a_nan_bar_that_nothing_meets(change, rule):
    good = replace(RUN_AH, real_passed=10, real_false=7)
    assert _by_rule(good, replace(SHIPPED, **change))[rule] is False
    assert math.isnan(selection_bar(NAN)) and math.isnan(foreign_bar(NAN))


def test_no_rule_list_never_ships():
    assert exit_code([]) == 1


def _sets(selection_seed=6006, foreign_seed=6006, count=200000):
    return {"selection": {"profile": "randomized", "count": count, "seed": selection_seed, "label_systematic": 0.02},
            "foreign": {"profile": "training/profiles/randomized-foreign.json", "count": 50000, "seed": foreign_seed,
                        "label_systematic": 0.02}}


def test_the_documented_sets_have_no_departures_and_a_resized_one_does():
    assert check_sets(_sets()) == []
    assert len(check_sets(_sets(count=20000))) == 1


@pytest.mark.parametrize("seed", sorted(TEST_SEEDS))
def test_a_test_seed_is_refused(seed):
    with pytest.raises(ValueError, match="test seed"):
        check_sets(_sets(foreign_seed=seed))


def test_cli_exit_codes(tmp_path):
    # Nothing measured: every rule reads as missed and the command exits 1; a test seed in sets.json exits 2.
    for role in ("candidate", "shipped"):
        (tmp_path / role / "eval").mkdir(parents=True)
    models = tmp_path / "models"
    models.mkdir()
    (models / "xrf-line-encoder.card.json").write_text(json.dumps({"version": "0.0.0", "training": {}}))
    (tmp_path / "sets.json").write_text(json.dumps(_sets()))
    args = ["ship-check", "--candidate", str(models), "--shipped", str(models), "--out", str(tmp_path)]
    assert main(args) == 1
    record = json.loads((tmp_path / "ship-check.json").read_text())
    assert record["all_met"] is False and [r["met"] for r in record["rules"]] == [False] * 5
    (tmp_path / "sets.json").write_text(json.dumps(_sets(selection_seed=7007)))
    assert main(args) == 2
