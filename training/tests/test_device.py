"""The training device (xrftrain/device.py): how "auto", "cpu", "cuda" and "cuda:N" resolve, the errors for a bad value
and for CUDA without a GPU, the command line's --device over the config's, and the card's training.device. CPU only:
CUDA's presence is faked by patching torch.cuda's queries, and no CUDA kernel runs here."""

import json
import re

import pytest
import torch

from xrftrain import __main__ as cli
from xrftrain.card import CARD_FILE
from xrftrain.device import describe_device, resolve_device
from xrftrain.pipeline import config_from_json, run
from xrftrain.train import TrainConfig


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch.cuda says one GPU is there (a single-GPU machine, the usual case)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)


def test_resolve_device_auto_without_cuda_is_the_cpu(no_cuda):
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")


def test_resolve_device_auto_with_cuda_is_cuda(fake_cuda):
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda", 0)
    assert resolve_device("cpu") == torch.device("cpu")  # an explicit cpu stays the CPU with a GPU present


def test_resolve_device_cuda_without_cuda_is_an_error_naming_the_cpu_only_build(no_cuda, monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", None)
    for spec in ("cuda", "cuda:0"):
        with pytest.raises(ValueError, match=r"CUDA is not available.*CPU-only build \(torch\.version\.cuda is None\)"):
            resolve_device(spec)


def test_resolve_device_cuda_build_without_a_gpu_is_an_error_saying_so(no_cuda, monkeypatch):
    monkeypatch.setattr(torch.version, "cuda", "12.1")  # any CUDA build's version string
    with pytest.raises(ValueError, match=r"built for CUDA 12\.1, but torch\.cuda\.is_available\(\) is False"):
        resolve_device("cuda")


def test_resolve_device_index_beyond_the_gpus_is_an_error(fake_cuda):
    with pytest.raises(ValueError, match=r"device 'cuda:1': torch sees 1 CUDA device"):
        resolve_device("cuda:1")


def test_describe_device_names_the_cpu_and_the_gpu(monkeypatch):
    assert describe_device(torch.device("cpu")) == "cpu"
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index: f"Fake GPU {index}")
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert describe_device(torch.device("cuda")) == "cuda:0 (Fake GPU 0)"
    assert describe_device(torch.device("cuda", 2)) == "cuda:2 (Fake GPU 2)"


@pytest.mark.parametrize("good", ["auto", "cpu", "cuda", "cuda:0", "cuda:12"])
def test_config_accepts_every_device_spec(good):
    assert config_from_json({"shipped": {"device": good}}).shipped.device == good


def test_config_without_device_asks_for_auto():
    cfg = config_from_json({"shipped": {}, "ablations": [{"name": "a", "config": {}}]})
    assert cfg.shipped.device == "auto" and cfg.ablations[0].config.device == "auto"


@pytest.mark.parametrize("bad", ["gpu", "CUDA", "cuda:", "cuda:01", "cuda:-1", "cuda:0.5", "mps", "", 0, None])
def test_config_refuses_a_bad_device_naming_the_key_and_the_value(bad):
    with pytest.raises(ValueError, match=rf"^shipped\.device: {re.escape(repr(bad))} is not a device \(use auto, cpu, cuda"):
        config_from_json({"shipped": {"device": bad}})
    with pytest.raises(ValueError, match=r"^ablations\[1\]\.config\.device: "):
        config_from_json({"shipped": {}, "ablations": [{"name": "a", "config": {}},
                                                       {"name": "b", "config": {"device": bad}}]})
    with pytest.raises(ValueError, match=r"^device: "):
        TrainConfig(device=bad)


def test_device_is_left_out_of_the_recorded_hyper_parameters():
    # The 1.6.0 card's hyper_parameters have no device; `xrftrain ablations` compares them with the config's.
    assert TrainConfig(device="cuda").to_dict() == TrainConfig(device="cpu").to_dict() == TrainConfig().to_dict()
    assert "device" not in TrainConfig().to_dict()


def _write_config(tmp_path, device):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({
        "shipped": {"model": {"hidden": [16]}, "epochs": 1, "batch_size": 256, "device": device},
        "ablations": [{"name": "tiny", "train_limit": 300,
                       "config": {"model": {"hidden": [8]}, "augment": None, "epochs": 1, "device": device}}],
        "calibration_spectra": 100}))
    return config


def test_cli_device_wins_over_the_config_for_the_shipped_model_and_every_ablation(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(cli, "run", lambda cfg, data, out: seen.append(cfg))
    args = ["model", "--config", str(_write_config(tmp_path, "cuda:3")), "--data", str(tmp_path),
            "--out", str(tmp_path / "out")]
    assert cli.main(args) == 0
    assert cli.main(args + ["--device", "cpu"]) == 0
    as_configured, overridden = seen
    assert as_configured.shipped.device == "cuda:3" and as_configured.ablations[0].config.device == "cuda:3"
    assert overridden.shipped.device == "cpu" and overridden.ablations[0].config.device == "cpu"


def test_cli_refuses_a_bad_device(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["model", "--config", str(_write_config(tmp_path, "cpu")), "--data", str(tmp_path), "--out",
                  str(tmp_path / "out"), "--device", "gpu"])
    assert e.value.code == 2  # argparse's usage error
    assert "argument --device: 'gpu' is not a device" in capsys.readouterr().err


def test_run_asked_for_cuda_without_cuda_fails_before_reading_data(tmp_path, no_cuda):
    cfg = config_from_json({"shipped": {"device": "cuda"}})
    # The data folder does not exist: a DatasetError would mean the device was checked only after loading.
    with pytest.raises(ValueError, match="CUDA is not available"):
        run(cfg, tmp_path / "no-data", tmp_path / "out", log=False)


def test_cli_toy_training_records_the_cpu_in_its_card(random_sets, tmp_path, capsys, no_cuda):
    from xrftrain.pipeline import add_ablations
    from xrftrain.report import render

    # The config asks for a GPU this machine may not have; --device cpu wins, so the run trains on the CPU.
    out = tmp_path / "out"
    rc = cli.main(["model", "--config", str(_write_config(tmp_path, "cuda")), "--data", str(random_sets),
                   "--out", str(out), "--device", "cpu"])
    assert rc == 0, capsys.readouterr().err
    card = json.loads((out / CARD_FILE).read_text())
    assert card["training"]["device"] == "cpu"
    assert card["metrics"]["ablations_validation"]["tiny"]["device"] == "cpu"
    assert "device" not in card["training"]["hyper_parameters"]
    # The config's own device ("cuda") still matches the card's hyper-parameters, so `xrftrain ablations` gets as far
    # as the device check, which refuses before any set is read (the data folder does not exist).
    config = config_from_json(json.loads((tmp_path / "config.json").read_text()))
    with pytest.raises(ValueError, match="CUDA is not available"):
        add_ablations(out, tmp_path / "no-data", config, log=False)
    # EVALUATION.md names the device only when it was not the CPU (a CPU run's text is as before).
    assert "training loop on" not in render(out)
    card["training"]["device"] = "cuda:0 (Fake GPU)"
    (out / CARD_FILE).write_text(json.dumps(card))
    assert "the training loop on cuda:0 (Fake GPU) (not bit-identical to a CPU run)" in render(out)
