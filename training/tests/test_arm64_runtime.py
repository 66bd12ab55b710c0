"""The shipped model on ONNX Runtime's linux-arm64 library under qemu (scripts/arm64/check_arm64.py), counted in
`make test`: the instruments are arm64 boards, this build machine is x64."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_arm64", ROOT / "scripts/arm64/check_arm64.py")
check_arm64 = importlib.util.module_from_spec(_spec)
sys.modules["check_arm64"] = check_arm64  # its dataclass looks its module up there
_spec.loader.exec_module(check_arm64)

OUTPUTS = check_arm64.OUTPUTS


def _outputs(rng, n):
    return {"line_probabilities": rng.random((n, 556), dtype=np.float32),
            "element_probabilities": rng.random((n, 41), dtype=np.float32)}


def _report(batch_diff=0.0, flips=0, decisions=556_000, model="int8"):
    per_output = {k: {"max_abs": 0.0, "mean_abs": 0.0, "outputs_differing": flips, "decisions": decisions,
                      "decision_flips": flips, "flip_rate": flips / decisions} for k in OUTPUTS}
    cpu = {"batch_invariance_max_abs": {k: batch_diff for k in OUTPUTS},
           "vs_x64": {"all": per_output, "synthetic": per_output, "real": per_output}}
    return {"spectra": 1000, "models": {model: {"cortex-a76": cpu}}}


def test_compare_counts_decisions_that_cross_a_threshold(rng):
    thresholds = {"line_probabilities": np.full(556, 0.5, np.float32), "element_probabilities": np.full(41, 0.5, np.float32)}
    a = _outputs(rng, 20)
    b = {k: v.copy() for k, v in a.items()}
    b["line_probabilities"][3, 7] = 0.0 if a["line_probabilities"][3, 7] >= 0.5 else 0.9  # crosses: a flip
    b["line_probabilities"][4, 8] += np.float32(1e-3)  # differs; crosses only if it sat just below 0.5
    b["element_probabilities"][0, 0] = np.float32(0.5)
    a["element_probabilities"][0, 0] = np.float32(0.4999)  # just below vs exactly at: at counts as reported
    r = check_arm64.compare(a, b, thresholds)
    lines, elements = r["line_probabilities"], r["element_probabilities"]
    expected_line_flips = int(((a["line_probabilities"] >= 0.5) != (b["line_probabilities"] >= 0.5)).sum())
    assert lines["decision_flips"] == expected_line_flips >= 1
    assert lines["outputs_differing"] == 2 and lines["decisions"] == 20 * 556
    assert elements["decision_flips"] == 1 and elements["outputs_differing"] == 1
    assert elements["max_abs"] == pytest.approx(1e-4, rel=0.01)
    only_row_5 = check_arm64.compare(a, b, thresholds, slice(5, 6))
    assert only_row_5["line_probabilities"]["decision_flips"] == 0 and only_row_5["line_probabilities"]["decisions"] == 556


def test_verdicts_fail_on_batch_dependence_and_on_too_many_flips():
    assert check_arm64.verdicts(_report()) == []
    assert check_arm64.verdicts(_report(flips=556)) == []  # 1 in 1,000: the limit itself passes
    too_many = check_arm64.verdicts(_report(flips=557))
    assert len(too_many) == 2 and all("differ from x64" in f for f in too_many)
    batch = check_arm64.verdicts(_report(batch_diff=1e-7))
    assert len(batch) == 2 and all("batch 1 vs batch 1000" in f for f in batch)
    # fp32 may differ across batch sizes by float summation order (1.8e-7 on x64), not by more than 1e-5
    assert check_arm64.verdicts(_report(batch_diff=1e-7, model="fp32")) == []
    assert len(check_arm64.verdicts(_report(batch_diff=2e-5, model="fp32"))) == 2


def test_cpuinfo_is_what_onnxruntime_reads_on_a_real_board():
    text = check_arm64.CPUS["cortex-a76"].cpuinfo(cores=2)
    assert text.count("processor\t:") == 2 and "CPU part\t: 0xd0b" in text and " asimddp" in text
    assert "asimddp" not in check_arm64.CPUS["cortex-a72"].cpuinfo()  # the Pi 4's core has no dot product


def test_unknown_cpu_is_refused_with_the_known_ones(capsys):
    assert check_arm64.main(["--cpus", "cortex-a53", "--per-profile", "1"]) == 2
    err = capsys.readouterr().err
    assert "cortex-a53" in err and "cortex-a72" in err and "cortex-a76" in err


def test_a_folder_without_a_model_is_named(tmp_path, capsys):
    assert check_arm64.main(["--models", str(tmp_path), "--per-profile", "1"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "xrf-line-encoder.card.json") in err and "is missing" in err


def test_shipped_int8_model_decides_on_arm64_as_on_x64(capsys):
    """The real thing: x64 and arm64 ONNX Runtime 1.30, the shipped int8 model, 510 spectra (100 per profile and the
    10 validation spectra), Cortex-A72 and Cortex-A76 under qemu."""
    rc = check_arm64.main(["--per-profile", "100", "--no-fp32", "--json"])
    captured = capsys.readouterr()
    assert rc in (0, 1), captured.err  # 2: it could not run; the message names the missing tool or file
    report = json.loads(captured.out)
    assert report["failed"] == [] and rc == 0
    assert report["runtime"]["x64"] == report["runtime"]["arm64"] != ""  # the one pinned version, both builds
    assert report["spectra"] == 510 and report["synthetic"] == 500 and report["real"] == 10
    assert set(report["models"]) == {"int8"} and set(report["models"]["int8"]) == {"cortex-a72", "cortex-a76"}
    for cpu, r in report["models"]["int8"].items():
        assert r["batch_invariance_max_abs"] == {"line_probabilities": 0.0, "element_probabilities": 0.0}, cpu
        lines = r["vs_x64"]["all"]["line_probabilities"]
        assert lines["decisions"] == 510 * 556 and lines["flip_rate"] <= check_arm64.MAX_FLIP_RATE, cpu
        assert r["vs_x64"]["real"]["element_probabilities"]["decisions"] == 10 * 41
