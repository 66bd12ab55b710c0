"""training/ship_check.sh generates its selection sets (seed 6006) independent of the sets the candidate and the shipped
model were trained, validated and thresholded on (since 2026-11-24), with eval_models.sh's guard (training/seed_guard.sh):
a model trained on 6006 would be judged on its own training spectra, and the ship decision would favour it.

As tests/test_eval_models.py: a copy of the files the script reads and the stand-in `xrfedge` that records its arguments
and refuses a seed given to --independent-of. The run goes no further than the stand-in allows (no xrftrain in the
copy: the verdict step fails); what is tested is the synth calls and that nothing is measured when a set is refused."""

import json
import os
import shutil
import subprocess
from pathlib import Path

from xrftrain.catalog import repo_root

ROOT = repo_root()
FAKE_XRFEDGE = (Path(__file__).parent / "fixtures" / "fake_xrfedge.sh").read_text()

# 1.6.0's card (models/xrf-line-encoder.card.json): trained on seed 1001, validated and thresholded on 2002.
SHIPPED = {"generator": {"profile": "randomized", "seed": 1001}, "validation_set": {"profile": "randomized", "seed": 2002},
           "threshold_set": {"profile": "randomized", "seed": 2002}}
SELECTION_SEED = "6006"   # ship_check.sh's fixed selection seed (docs/training.md, "Re-running the ship decision")


def _checkout(tmp_path: Path, candidate: dict | None) -> Path:
    root = tmp_path / "checkout"
    (root / "training" / "profiles").mkdir(parents=True)
    for name in ("ship_check.sh", "profile_key.sh", "seed_guard.sh"):
        shutil.copy2(ROOT / "training" / name, root / "training" / name)
    shutil.copy2(ROOT / "training" / "profiles" / "randomized-foreign.json", root / "training" / "profiles")
    (root / "xrfedge").write_text(FAKE_XRFEDGE)
    (root / "xrfedge").chmod(0o755)
    for role, training in (("shipped", SHIPPED), ("candidate", candidate)):
        (root / role).mkdir()
        (root / role / "xrf-line-encoder.int8.onnx").write_bytes(b"stand-in")
        card = {"schema": "xrfedge-model-card/1", "name": "xrf-line-encoder"}
        if training is not None:
            card["training"] = training
        (root / role / "xrf-line-encoder.card.json").write_text(json.dumps(card))
    return root


def _run(root: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "SHIP_CHECK_INDEPENDENT_OF"}
    environment.update({"SHIP_CHECK_SETS": str(root / "sets"), **env})
    return subprocess.run(["bash", str(root / "training" / "ship_check.sh"), "--candidate", "candidate", "--shipped", "shipped",
                           "--out", "out", "--count", "4", "--foreign-count", "3"],
                          capture_output=True, text=True, env=environment, timeout=300, cwd=root)


def _calls(root: Path) -> list[list[str]]:
    log = root / "calls.log"
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def _independent_of(args: list[str]) -> set[str]:
    if "--independent-of" not in args:
        return set()
    rest = args[args.index("--independent-of") + 1:]
    return set(rest[:next((i for i, a in enumerate(rest) if a.startswith("--")), len(rest))])


def _selection_synths(root: Path) -> list[list[str]]:
    return [a for a in _calls(root) if a[0] == "synth" and a[a.index("--seed") + 1] == SELECTION_SEED]


def test_the_selection_sets_are_generated_independent_of_both_models_training_sets(tmp_path):
    root = _checkout(tmp_path, {**SHIPPED, "generator": {"profile": "randomized", "seed": 1101},
                                "threshold_set": {"profile": "randomized", "seed": 2202}})

    _run(root)

    jsonl = [a for a in _selection_synths(root) if "jsonl" in a]
    assert len(jsonl) == 2, _calls(root)   # the randomized and the foreign selection set
    for args in jsonl:
        assert _independent_of(args) == {"1001", "1101", "2002", "2202"}, args
    recorded = json.loads((root / "out" / "sets.json").read_text())
    assert recorded["selection"]["independent_of"] == recorded["foreign"]["independent_of"] == [1001, 1101, 2002, 2202]


def test_a_candidate_trained_on_the_selection_seed_is_refused_before_anything_is_measured(tmp_path):
    # Its selection figures would be training figures, and rules (a) and (c) compare exactly those.
    root = _checkout(tmp_path, {**SHIPPED, "generator": {"profile": "randomized", "seed": 6006}})

    r = _run(root)

    assert r.returncode == 2, r.stderr[-3000:]
    assert "not independent" in r.stderr
    assert "6006" in r.stderr
    assert not [a for a in _calls(root) if a[0] in ("eval", "identify", "bench")]
    assert not (root / "out" / "ship-check.json").exists()


def test_a_candidate_card_without_seeds_is_refused_unless_told_which(tmp_path):
    root = _checkout(tmp_path, {"generator": {"profile": "randomized"}})

    refused = _run(root)
    assert refused.returncode == 2, refused.stderr[-3000:]
    assert "SHIP_CHECK_INDEPENDENT_OF" in refused.stderr
    assert not _calls(root)

    _run(root, SHIP_CHECK_INDEPENDENT_OF="1301 2302")
    jsonl = [a for a in _selection_synths(root) if "jsonl" in a]
    assert len(jsonl) == 2, _calls(root)
    for args in jsonl:
        assert _independent_of(args) == {"1001", "2002", "1301", "2302"}, args
