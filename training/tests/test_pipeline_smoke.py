"""The pipeline end to end on toy arrays (make model-smoke runs the same on tiny `xrfedge synth` data)."""

import json

import numpy as np
import pytest

from xrftrain.card import CARD_FILE, FP32_FILE, INT8_FILE, count_range, sha256_file, validate_card
from xrftrain.data import load_dataset
from xrftrain.pipeline import config_from_json, run
from xrftrain.quantize import QuantConfig


def test_pipeline_random_data_writes_valid_card_and_models(random_sets, tmp_path):
    cfg = config_from_json({
        "shipped": {"model": {"hidden": [64]}, "epochs": 1, "batch_size": 256},
        "ablations": [{"name": "paper-mlp", "train_limit": 500,
                       "config": {"model": {"transform": "norm", "hidden": [32], "element_head": False},
                                  "loss": "kl", "augment": None, "epochs": 1}}],
        "calibration_spectra": 200,
    })
    card = run(cfg, random_sets, tmp_path, log=False)
    validate_card(card)
    on_disk = json.loads((tmp_path / CARD_FILE).read_text())
    assert on_disk["files"]["int8"]["sha256"] == sha256_file(tmp_path / INT8_FILE)
    assert on_disk["files"]["fp32"]["sha256"] == sha256_file(tmp_path / FP32_FILE)
    assert on_disk["outputs"] == {"lines": "line_probabilities", "elements": "element_probabilities"}
    assert "paper-mlp" in on_disk["metrics"]["ablations_validation"]
    # train_profile defaults to randomized: the card states its MCA full scales (docs/inference.md, "Energy coverage").
    assert (on_disk["trained_full_scale_kev"]["min"], on_disk["trained_full_scale_kev"]["max"]) == (20.0, 60.0)
    # ... and its detectors' discriminators, against which the instrument checks a spectrum's start.
    assert (on_disk["trained_lower_threshold_kev"]["min"], on_disk["trained_lower_threshold_kev"]["max"]) == (0.2, 1.2)
    assert on_disk["metrics"]["test-randomized"]["int8"]["summary"]["element_f1"] is not None

    # The trained count range comes from the training spectra themselves, not from a constant.
    totals = np.asarray(load_dataset(random_sets / "train").x, np.float64).sum(axis=1)
    assert on_disk["count_range"]["low_total"] == max(1.0, round(float(np.percentile(totals, 0.1))))
    assert on_disk["count_range"]["high_total"] == round(float(np.percentile(totals, 99.9)))


def test_count_range_takes_the_central_99_8_percent_of_totals():
    x = np.zeros((10_000, 300), np.float32)
    x[:, 0] = np.arange(1, 10_001)  # totals 1 … 10,000
    cr = count_range(x, chunk=3_000)
    assert (cr["low_total"], cr["high_total"]) == (11.0, 9990.0)
    assert "10000 training spectra" in cr["definition"]


def test_count_range_refuses_sets_without_a_spread():
    with pytest.raises(ValueError, match="no range"):
        count_range(np.full((50, 300), 2.0, np.float32))


def test_the_thresholds_block_sets_the_threshold_set_size_and_precision_target():
    # make_model.sh reads both through config_from_json to decide whether to generate a larger threshold set.
    plain = config_from_json({"shipped": {"epochs": 1}})
    assert plain.threshold_spectra == 0 and plain.line_precision_target is None
    cfg = config_from_json({"shipped": {"epochs": 1},
                            "thresholds": {"validation_spectra": 100000, "line_precision_target": 0.955}})
    assert cfg.threshold_spectra == 100000 and cfg.line_precision_target == 0.955


def test_train_profile_defaults_to_randomized_and_names_a_bad_value():
    # make_model.sh generates the training and validation sets with it (runs AF/AG: a profile .json path).
    assert config_from_json({"shipped": {"epochs": 1}}).train_profile == "randomized"
    path = "training/profiles/randomized-foreign-p10.json"
    assert config_from_json({"shipped": {"epochs": 1}, "train_profile": path}).train_profile == path
    for bad in ("", "two words", 3):
        with pytest.raises(ValueError, match="train_profile"):
            config_from_json({"shipped": {"epochs": 1}, "train_profile": bad})


def test_threshold_profile_defaults_to_the_training_profile_and_names_a_bad_value():
    # thresholds.profile (since 2026-11-25, run AI-r): None means the training profile, as every run before it.
    assert config_from_json({"shipped": {"epochs": 1}}).threshold_profile is None
    cfg = config_from_json({"shipped": {"epochs": 1}, "train_profile": "training/profiles/randomized-carbonate-rock5.json",
                            "thresholds": {"profile": "randomized", "validation_spectra": 100000}})
    assert cfg.threshold_profile == "randomized" and cfg.threshold_spectra == 100000
    for bad in ("", "two words", 3):
        with pytest.raises(ValueError, match="thresholds.profile"):
            config_from_json({"shipped": {"epochs": 1}, "thresholds": {"profile": bad}})


def test_validate_card_refuses_an_inverted_count_range(random_sets, tmp_path):
    cfg = config_from_json({"shipped": {"model": {"hidden": [16]}, "epochs": 1}, "calibration_spectra": 100})
    card = run(cfg, random_sets, tmp_path, log=False)
    card["count_range"] = {"low_total": 5e6, "high_total": 1e3}
    with pytest.raises(ValueError, match="count_range"):
        validate_card(card)


def test_report_renders_every_test_set_and_target(random_sets, tmp_path):
    from xrftrain.report import render

    cfg = config_from_json({"shipped": {"model": {"hidden": [32]}, "epochs": 1}, "calibration_spectra": 100})
    run(cfg, random_sets, tmp_path, log=False)
    text = render(tmp_path)
    assert "### test-randomized" in text and "element_f1" in text and "(target ≤ 0.01: " in text
    assert "| Pb | As |" in text  # the As-K / Pb-L overlap row


def test_requantize_rewrites_int8_and_card_keeping_thresholds(random_sets, tmp_path):
    from xrftrain.pipeline import requantize

    cfg = config_from_json({"shipped": {"model": {"hidden": [32]}, "epochs": 1}, "calibration_spectra": 100})
    before = run(cfg, random_sets, tmp_path, log=False)
    after = requantize(tmp_path, random_sets, 100, log=False)
    validate_card(after)
    assert after["thresholds"] == before["thresholds"]
    assert after["files"]["int8"]["sha256"] == sha256_file(tmp_path / INT8_FILE)
    assert after["training"]["quantization"]["clip_to_consumer"] is True
    assert after["training"]["quantization"]["bias_correction"] is False
    assert after["metrics"]["test-randomized"]["int8"]["summary"]["element_f1"] is not None
    corrected = requantize(tmp_path, random_sets, 100, log=False, bias_correction=True)
    validate_card(corrected)
    assert corrected["training"]["quantization"]["bias_correction"] is True
    assert corrected["files"]["int8"]["sha256"] == sha256_file(tmp_path / INT8_FILE) != after["files"]["int8"]["sha256"]
    # Without settings, requantize follows the card: the same bias-corrected file again, not a plain one.
    again = requantize(tmp_path, random_sets, 100, log=False)
    assert again["training"]["quantization"]["bias_correction"] is True
    assert again["files"]["int8"]["sha256"] == corrected["files"]["int8"]["sha256"]
    # Re-chosen thresholds for the new int8 outputs: the report says how the files came to be and how to redo it.
    from xrftrain.pipeline import rethreshold
    from xrftrain.report import render

    rethreshold(tmp_path, random_sets, None, "9.9.10", log=False)
    text = render(tmp_path)
    assert "requantize --models ../models --data ../.build/train-data)  # int8 again" in text
    assert "bias correction on" in text and f"`xrftrain rethreshold` (from version {before['version']};" in text


def test_the_configs_quantization_block_reaches_the_quantiser_and_the_card(random_sets, tmp_path):
    cfg = config_from_json({"shipped": {"model": {"hidden": [32]}, "epochs": 1}, "calibration_spectra": 100,
                            "quantization": {"bias_correction": True}})
    assert cfg.quantization == QuantConfig(bias_correction=True)
    card = run(cfg, random_sets, tmp_path, log=False)
    assert card["training"]["quantization"]["bias_correction"] is True
    with pytest.raises(ValueError, match="'quantization': unknown setting.*bias_corection"):
        config_from_json({"shipped": {"epochs": 1}, "quantization": {"bias_corection": True}})  # a typo is refused


def test_rethreshold_rewrites_thresholds_and_version_keeping_the_onnx_files(random_sets, tmp_path):
    from xrftrain.pipeline import rethreshold

    cfg = config_from_json({"shipped": {"model": {"hidden": [32]}, "epochs": 1}, "calibration_spectra": 100})
    before = run(cfg, random_sets, tmp_path, log=False)
    assert before["training"]["threshold_choice"]["line_precision_target"] is None
    after = rethreshold(tmp_path, random_sets, 0.99, "9.9.9", log=False)
    validate_card(after)
    assert after["version"] == "9.9.9" and after["training"]["rethresholded_from_version"] == before["version"]
    assert after["files"] == before["files"]
    # The card names the set the thresholds came from, and the report says that set, not the training run's.
    val_meta = json.loads((random_sets / "val" / "meta.json").read_text())
    assert after["training"]["threshold_set"] == {k: val_meta.get(k) for k in ("generator_version", "profile", "seed", "count")}
    from xrftrain.report import render
    after["training"]["threshold_set"]["count"] = 12345   # as if chosen on a larger set than validation_set
    (tmp_path / CARD_FILE).write_text(json.dumps(after), encoding="utf-8")
    assert "thresholds chosen on 12345 validation spectra" in render(tmp_path)
    choice = after["training"]["threshold_choice"]
    assert choice["line_precision_target"] == 0.99
    # Toy data cannot reach 0.99, so the highest floor is taken and the thresholds can only have gone up.
    assert choice["line_precision_floor"] == 0.98
    assert all(a >= b for a, b in zip(after["thresholds"]["lines"], before["thresholds"]["lines"]))


def test_regraft_rewrites_version_and_hashes_and_refuses_a_transform_that_changes_outputs(random_sets, tmp_path,
                                                                                           monkeypatch):
    from xrftrain import export
    from xrftrain.pipeline import regraft

    cfg = config_from_json({"shipped": {"model": {"hidden": [32], "transform": "log1p-norm+sig+total"}, "epochs": 1},
                            "calibration_spectra": 100})
    before = run(cfg, random_sets, tmp_path, log=False)
    after = regraft(tmp_path, random_sets, "9.9.9", check_spectra=200)
    validate_card(after)
    assert after["version"] == "9.9.9" and after["training"]["regrafted"]["from_version"] == before["version"]
    assert after["files"]["int8"]["sha256"] == sha256_file(tmp_path / INT8_FILE)
    assert after["thresholds"] == before["thresholds"] and after["metrics"] == before["metrics"]
    n_before, n_after = after["training"]["regrafted"]["nodes"][INT8_FILE]
    assert n_before == n_after  # this export is already lean: nothing to remove, outputs identical
    # A transform whose outputs differ (another significance divisor) is refused, and no file is touched.
    files = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    monkeypatch.setattr(export, "SIG_DIVISOR", 3.0)
    with pytest.raises(ValueError, match="changes after regrafting"):
        regraft(tmp_path, random_sets, "9.9.10", check_spectra=200)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == files


def test_config_reads_the_line_precision_target():
    cfg = config_from_json({"shipped": {"epochs": 1}, "thresholds": {"line_precision_target": 0.955}})
    assert cfg.line_precision_target == 0.955
    assert config_from_json({"shipped": {"epochs": 1}}).line_precision_target is None


def test_config_names_the_card_version_and_smoke_runs_say_they_are_not_shipped():
    assert config_from_json({"shipped": {"epochs": 1}, "version": "7.1.0"}).version == "7.1.0"
    assert config_from_json({"shipped": {"epochs": 1}}).version == "0.0.0-dev"


def test_report_includes_each_scored_real_spectra_set(tmp_path):
    from xrftrain.report import _validation_sets_section

    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "glass-set.int8.md").write_text("| file | pass |\n|---|---|\n| a | FAIL |\n\npassed 0 of 1\n")
    text = "\n".join(_validation_sets_section(tmp_path))
    assert "validation/spectra/glass-set/" in text and "| a | FAIL |" in text and "passed 0 of 1" in text
    assert _validation_sets_section(tmp_path / "missing") == []


def test_count_range_cli_amends_a_card_only_from_its_own_training_set(random_sets, tmp_path, capsys):
    from xrftrain.__main__ import main

    cfg = config_from_json({"shipped": {"model": {"hidden": [16]}, "epochs": 1}, "calibration_spectra": 100})
    card = run(cfg, random_sets, tmp_path, log=False)
    expected = card["count_range"]
    on_disk = json.loads((tmp_path / CARD_FILE).read_text())
    del on_disk["count_range"]
    (tmp_path / CARD_FILE).write_text(json.dumps(on_disk))

    assert main(["count-range", "--models", str(tmp_path), "--data", str(random_sets)]) == 0
    amended = json.loads((tmp_path / CARD_FILE).read_text())
    assert amended["count_range"] == expected
    assert list(amended)[-4:] == ["count_range", "novelty", "training", "metrics"]
    assert "count range" in capsys.readouterr().out

    amended["training"]["generator"]["seed"] = 999
    (tmp_path / CARD_FILE).write_text(json.dumps(amended))
    assert main(["count-range", "--models", str(tmp_path), "--data", str(random_sets)]) == 2
    err = capsys.readouterr().err
    assert "but the card names" in err and "(training.generator)" in err


def test_ceiling_cli_prints_and_writes_the_oracle_scores(random_sets, tmp_path, capsys):
    from xrftrain.__main__ import main

    out = tmp_path / "ceiling.json"
    assert main(["ceiling", "--data", str(random_sets), "--tests", "test-randomized", "--json", str(out)]) == 0
    scores = json.loads(out.read_text())
    assert set(scores) == {"test-randomized"}
    assert 0.0 <= scores["test-randomized"]["element_f1"] <= 1.0
    assert scores["test-randomized"]["spectra"] == 600
    assert "test-randomized: oracle element sensitivity" in capsys.readouterr().out


def test_ceiling_cli_names_a_set_without_line_counts(random_sets, tmp_path, capsys):
    import shutil

    from xrftrain.__main__ import main

    broken = tmp_path / "data"
    shutil.copytree(random_sets, broken)
    (broken / "val" / "line_net.npy").unlink()
    assert main(["ceiling", "--data", str(broken), "--tests", "test-randomized"]) == 2
    assert "val: the oracle needs line_net.npy" in capsys.readouterr().err


def test_add_ablations_fills_a_card_trained_without_them_and_refuses_other_hyper_parameters(random_sets, tmp_path):
    from xrftrain.pipeline import add_ablations

    spec = {"shipped": {"model": {"hidden": [32]}, "epochs": 1}, "calibration_spectra": 100,
            "ablations": [{"name": "paper-mlp", "train_limit": 300,
                           "config": {"model": {"transform": "norm", "hidden": [16], "element_head": False},
                                      "loss": "kl", "augment": None, "epochs": 1}}]}
    cfg = config_from_json(spec)
    bare = config_from_json(spec | {"ablations": []})
    run(bare, random_sets, tmp_path, log=False)
    before = json.loads((tmp_path / CARD_FILE).read_text())
    assert before["metrics"]["ablations_validation"] == {}

    card = add_ablations(tmp_path, random_sets, cfg, log=False)
    ab = card["metrics"]["ablations_validation"]["paper-mlp"]
    assert ab["train_spectra"] == 300 and 0.0 <= ab["validation"]["element_f1"] <= 1.0
    on_disk = json.loads((tmp_path / CARD_FILE).read_text())
    assert on_disk["metrics"]["ablations_validation"] == json.loads(json.dumps(card["metrics"]["ablations_validation"]))
    # Rounded like every card's metrics (write_card), not written at full float precision.
    assert all(round(v, 6) == v for v in on_disk["metrics"]["ablations_validation"]["paper-mlp"]["validation"].values()
               if isinstance(v, float))
    # Everything but the ablations is kept: the model files and what the service reads from the card.
    assert {k: v for k, v in on_disk.items() if k != "metrics"} == {k: v for k, v in before.items() if k != "metrics"}
    assert on_disk["files"]["int8"]["sha256"] == sha256_file(tmp_path / INT8_FILE)

    other = config_from_json(spec | {"shipped": {"model": {"hidden": [48]}, "epochs": 1}})
    with pytest.raises(ValueError, match="hyper-parameters"):
        add_ablations(tmp_path, random_sets, other, log=False)

    import shutil

    moved = tmp_path / "other-val"
    shutil.copytree(random_sets, moved)
    meta = json.loads((moved / "val" / "meta.json").read_text())
    (moved / "val" / "meta.json").write_text(json.dumps(meta | {"seed": int(meta.get("seed", 0)) + 1}))
    with pytest.raises(ValueError, match="training.validation_set"):
        add_ablations(tmp_path, moved, cfg, log=False)
