"""training/eval_models.sh guards its test sets as make_model.sh does (since 2026-11-24): every `xrfedge synth` it runs
gets `--independent-of` the seeds of the sets the scored model was trained, validated and thresholded on, read from
the model's card, and it refuses a card that does not record them unless told which seeds (or none) to check.

The script runs in a copy of the files it reads with a stand-in `xrfedge` that records its arguments and refuses, as
the real one does (SeedCheckTests), a set whose seed is among those given to --independent-of (the same seed twice is
the same spectra). No .NET build, no spectra: the arguments are what is tested."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from xrftrain.catalog import repo_root

ROOT = repo_root()

# 1.6.0's card (models/xrf-line-encoder.card.json): trained on seed 1001, validated on 2002, thresholds re-chosen on
# 100,000 spectra of seed 2002. The test seeds are eval_models.sh's defaults, 7007 and 8008-8011 (make_model.sh).
TRAINING = {"generator": {"profile": "randomized", "seed": 1001, "count": 3200000},
            "validation_set": {"profile": "randomized", "seed": 2002, "count": 20000},
            "threshold_set": {"profile": "randomized", "seed": 2002, "count": 100000}}
PROFILE_SETS = ("test-handheld-sdd", "test-handheld-pin", "test-benchtop", "test-macro-xrf")

# Records each call; writes what eval_models.sh and profile_key.sh read; refuses a seed named in --independent-of.
FAKE_XRFEDGE = (Path(__file__).parent / "fixtures" / "fake_xrfedge.sh").read_text()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of what eval_models.sh reads, with the stand-in xrfedge and a models folder holding only a card."""
    root = tmp_path / "checkout"
    (root / "training" / "profiles").mkdir(parents=True)
    for name in ("eval_models.sh", "profile_key.sh", "seed_guard.sh"):
        shutil.copy2(ROOT / "training" / name, root / "training" / name)
    shutil.copy2(ROOT / "training" / "profiles" / "randomized-foreign.json", root / "training" / "profiles")
    (root / "xrfedge").write_text(FAKE_XRFEDGE)
    (root / "xrfedge").chmod(0o755)
    (root / "models").mkdir()
    return root


def _write_card(root: Path, training: dict | None) -> None:
    card = {"schema": "xrfedge-model-card/1", "name": "xrf-line-encoder", "version": "1.6.0"}
    if training is not None:
        card["training"] = training
    (root / "models" / "xrf-line-encoder.card.json").write_text(json.dumps(card))


def _run(root: Path, **env: str) -> subprocess.CompletedProcess:
    (root / "calls.log").unlink(missing_ok=True)
    environment = {k: v for k, v in os.environ.items() if k not in ("EVAL_INDEPENDENT_OF", "SEED_TEST", "SEED_PROFILE")}
    environment.update({"EVAL_DATA": str(root / "eval-data"), "N_TEST": "4", "N_PROFILE": "3", **env})
    return subprocess.run(["bash", str(root / "training" / "eval_models.sh"), str(root / "models")], capture_output=True,
                          text=True, env=environment, timeout=300, cwd=root)


def _synth_calls(root: Path) -> dict[str, list[str]]:
    """The jsonl synth calls by set name (the file name of --out), each as its argument list."""
    calls = {}
    for line in (root / "calls.log").read_text().splitlines():
        args = line.split()
        if args[0] == "synth" and "jsonl" in args:
            calls[Path(args[args.index("--out") + 1]).stem] = args
    return calls


def _independent_of(args: list[str]) -> set[str]:
    if "--independent-of" not in args:
        return set()
    rest = args[args.index("--independent-of") + 1:]
    return set(rest[:next((i for i, a in enumerate(rest) if a.startswith("--")), len(rest))])


def test_every_test_set_is_generated_independent_of_the_sets_the_card_records(checkout):
    _write_card(checkout, TRAINING)

    r = _run(checkout)

    assert r.returncode == 0, r.stderr[-3000:]
    calls = _synth_calls(checkout)
    assert set(calls) == {"test-randomized", "test-randomized-foreign", "test-randomized-currie", *PROFILE_SETS}
    for name, args in calls.items():
        # make_model.sh: test sets against the training and validation seeds, per-profile sets also against the
        # randomized test seed.
        want = {"1001", "2002", "7007"} if name in PROFILE_SETS else {"1001", "2002"}
        assert _independent_of(args) == want, name
    recorded = json.loads((checkout / "models" / "eval" / "eval-sets.json").read_text())
    assert recorded["test-randomized"]["independent_of"] == [1001, 2002]
    assert recorded["test-benchtop"]["independent_of"] == [1001, 2002, 7007]


def test_a_test_seed_the_model_was_trained_on_stops_the_evaluation(checkout):
    # A model trained on the test seed (SEED_TRAIN=7007 by mistake): its figures on seed 7007 would be training figures.
    _write_card(checkout, {**TRAINING, "generator": {**TRAINING["generator"], "seed": 7007}})

    r = _run(checkout)

    assert r.returncode == 2, r.stderr[-3000:]
    assert "not independent" in r.stderr
    # Nothing scored: the sets are all generated and checked before the first `xrfedge eval`.
    assert not [line for line in (checkout / "calls.log").read_text().splitlines() if line.startswith("eval ")]
    assert not (checkout / "models" / "eval" / "eval-sets.json").exists()


def test_a_profile_set_sharing_the_training_seed_stops_the_evaluation_before_any_set_is_scored(checkout):
    # The per-profile sets come after the randomized ones: refusing the benchtop set (8010) must not leave the
    # randomized figures rewritten beside the old per-profile ones.
    _write_card(checkout, {**TRAINING, "generator": {**TRAINING["generator"], "seed": 8010}})

    r = _run(checkout)

    assert r.returncode == 2, r.stderr[-3000:]
    assert "test-benchtop" in r.stderr
    assert not [line for line in (checkout / "calls.log").read_text().splitlines() if line.startswith("eval ")]


def test_a_set_cached_under_other_training_seeds_is_checked_again(checkout):
    # The check runs when a set is generated; a set cached for an earlier model was never checked against this one's.
    _write_card(checkout, TRAINING)
    assert _run(checkout).returncode == 0
    _write_card(checkout, {**TRAINING, "generator": {**TRAINING["generator"], "seed": 7007}})

    r = _run(checkout)

    assert r.returncode == 2, r.stderr[-3000:]
    assert "not independent" in r.stderr


@pytest.mark.parametrize("training", [None, {"generator": {"profile": "randomized", "count": 1000}}],
                         ids=["no training record", "no seeds"])
def test_a_card_without_the_training_seeds_is_refused_unless_told_which(checkout, training):
    _write_card(checkout, training)

    refused = _run(checkout)
    assert refused.returncode == 2
    assert "EVAL_INDEPENDENT_OF" in refused.stderr
    assert not (checkout / "calls.log").exists() or not _synth_calls(checkout)

    told = _run(checkout, EVAL_INDEPENDENT_OF="1001 2002")
    assert told.returncode == 0, told.stderr[-3000:]
    assert _independent_of(_synth_calls(checkout)["test-randomized"]) == {"1001", "2002"}

    unchecked = _run(checkout, EVAL_INDEPENDENT_OF="none")
    assert unchecked.returncode == 0, unchecked.stderr[-3000:]
    assert "not checked" in unchecked.stderr
    assert _independent_of(_synth_calls(checkout)["test-randomized"]) == set()


@pytest.mark.parametrize("told", ["1001 2002", "none"])
def test_seeds_named_in_the_environment_never_replace_those_the_card_records(checkout, told):
    # EVAL_INDEPENDENT_OF is for a card without seeds; left exported from scoring one (or set to none), it replaced the
    # seeds of every later card, and a model trained on the test seed was scored on its own training spectra again.
    _write_card(checkout, {**TRAINING, "generator": {**TRAINING["generator"], "seed": 7007}})

    r = _run(checkout, EVAL_INDEPENDENT_OF=told)

    assert r.returncode == 2, r.stderr[-3000:]
    assert "not independent" in r.stderr
    assert "7007" in _independent_of(_synth_calls(checkout)["test-randomized"])
