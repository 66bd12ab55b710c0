"""`make model-smoke`: the real pipeline on tiny `xrfedge synth --format npy` data (counted in `make test`)."""

import json
import os
import subprocess

import pytest

from xrftrain.catalog import repo_root

ROOT = repo_root()


@pytest.mark.skipif(os.environ.get("XRFEDGE_SKIP_MODEL_SMOKE") == "1", reason="XRFEDGE_SKIP_MODEL_SMOKE=1")
def test_make_model_smoke_synth_data_produces_card_and_leaves_models_alone(tmp_path):
    models = ROOT / "models"
    before = {p.name: p.stat().st_mtime_ns for p in models.glob("*")} if models.exists() else {}
    env = dict(os.environ, TMPDIR=str(tmp_path), KEEP_SMOKE="1")
    r = subprocess.run([str(ROOT / "training" / "make_model.sh"), "--smoke"], capture_output=True, text=True,
                       env=env, timeout=900, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    (work,) = list(tmp_path.glob("xrfedge-model-smoke.*"))
    card = json.loads((work / "models" / "xrf-line-encoder.card.json").read_text())
    assert card["schema"] == "xrfedge-model-card/1" and len(card["thresholds"]["lines"]) == 556
    assert card["training"]["generator"]["profile"] == "randomized"
    # smoke.json asks for thresholds on 400 validation spectra of another profile (thresholds.profile, since
    # 2026-11-25: run AI-r): trained and calibrated on the 200 of the training profile, re-chosen on 400 of benchtop
    # (same seed), so make_model.sh's threshold branch hands that profile to xrfedge synth.
    assert card["training"]["validation_set"]["count"] == 200
    assert card["training"]["threshold_set"] == {**card["training"]["validation_set"], "count": 400, "profile": "benchtop"}
    assert "rethresholded_from_version" in card["training"]
    after = {p.name: p.stat().st_mtime_ns for p in models.glob("*")} if models.exists() else {}
    assert after == before  # the smoke never overwrites the shipped model


def test_profile_key_changes_with_the_profile_content_not_only_its_name(tmp_path):
    # make_model.sh and eval_models.sh reuse cached sets only under the same key; run N's edited profile weights once
    # left test spectra that a later model was scored on (docs/training.md, the evaluation-cache bug).
    key = lambda *args: subprocess.run([str(ROOT / "training" / "profile_key.sh"), *args], capture_output=True,  # noqa: E731
                                         text=True, timeout=300, cwd=ROOT, check=True).stdout.strip()
    shipped = key("randomized")
    assert shipped.startswith("xrfedge-synth/") and "profile-sha256:" in shipped
    assert key("randomized") == shipped
    profile = json.loads((ROOT / "src" / "XrfEdge.Synthesis" / "Profiles" / "randomized.json").read_text())
    same = tmp_path / "randomized.json"
    same.write_text(json.dumps(profile, indent=4))  # other formatting, same content
    assert key(str(same)) == shipped
    profile["samples"]["matrices"][1]["weight"] = 0.5  # the silicate weight, as run N changed it
    edited = tmp_path / "edited" / "randomized.json"
    edited.parent.mkdir()
    edited.write_text(json.dumps(profile))
    assert key(str(edited)) != shipped
    # An existing set's key, read from its meta.json, is the key of the profile it was generated with.
    subprocess.run([str(ROOT / "xrfedge"), "synth", "--profile", str(edited), "--count", "1", "--format", "npy",
                    "--out", str(tmp_path / "set")], capture_output=True, timeout=300, cwd=ROOT, check=True)
    assert key("--meta", str(tmp_path / "set" / "meta.json")) == key(str(edited))
