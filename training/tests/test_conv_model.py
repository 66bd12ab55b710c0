"""The optional small 1-D CNN front end (issue #5 ablation "MLP or small CNN") and the focal-loss ablation."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from xrftrain import export
from xrftrain.catalog import ELEMENT_COUNT, LINE_COUNT
from xrftrain.data import BINS, random_dataset
from xrftrain.model import LineEncoder, ModelConfig, feature_count
from xrftrain.pipeline import config_from_json
from xrftrain.train import TrainConfig, train

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "shipped.json"


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("transform", ["log1p-norm+sig+total", "log1p-norm+total", "norm"])
def test_conv_model_forward_gives_line_and_element_logits(transform, rng):
    model = LineEncoder(ModelConfig(transform=transform, conv=[4, 3], conv_kernel=5, conv_pool=2, hidden=[16]))
    x = torch.from_numpy(rng.poisson(40.0, (5, BINS)).astype(np.float32))
    lo, eo = model(x)
    assert lo.shape == (5, LINE_COUNT) and eo.shape == (5, ELEMENT_COUNT)
    assert torch.isfinite(lo).all() and torch.isfinite(eo).all()
    # Input rows = 2 with "+sig" (shape + significance), else 1; "+total" bypasses the convolutions.
    rows = 2 if "+sig" in transform else 1
    assert model.front.convs[0].in_channels == rows
    assert model.linear_layers()[0].in_features == 3 * (BINS // 2) + (1 if transform.endswith("+total") else 0)


def test_conv_model_sees_bins_as_a_sequence_not_a_flat_vector():
    """Shifting a lone peak by one bin moves the first conv layer's response by one bin (translation
    equivariance), which is what distinguishes the CNN from the MLP front end."""
    torch.manual_seed(0)
    model = LineEncoder(ModelConfig(transform="log1p-norm", conv=[2], conv_kernel=3, conv_pool=1, hidden=[8])).eval()
    x = torch.zeros(2, BINS)
    x[0, 100] = 1000.0
    x[1, 101] = 1000.0
    with torch.no_grad():
        f = model.transform(x)
        h = model.front.convs[:2](f.reshape(2, 1, BINS))
    torch.testing.assert_close(h[0, :, 90:110], h[1, :, 91:111])


def test_mlp_config_without_conv_keeps_parameter_count_and_card_entry():
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[768, 768], element_head=True))
    f = feature_count("log1p-norm+sig+total")  # 2 × 300 bins + 1 total = 601
    expected = (f * 768 + 768) + (768 * 768 + 768) + (768 * LINE_COUNT + LINE_COUNT) + (768 * ELEMENT_COUNT + ELEMENT_COUNT)
    assert _params(model) == expected
    assert model.front is None
    assert not any(isinstance(m, torch.nn.Conv1d) for m in model.modules())
    assert set(ModelConfig().to_dict()) == {"transform", "hidden", "element_head", "dropout"}
    assert ModelConfig(conv=[16]).to_dict()["conv"] == [16]


def test_conv_16x16_mlp_512_parameter_count():
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", conv=[16, 16], conv_kernel=7, conv_pool=2,
                                    hidden=[512], element_head=True))
    conv = (2 * 16 * 7 + 16) + (16 * 16 * 7 + 16)
    width = 16 * (BINS // 2) + 1  # 16 channels × 150 pooled bins + total = 2401
    expected = conv + (width * 512 + 512) + (512 * LINE_COUNT + LINE_COUNT) + (512 * ELEMENT_COUNT + ELEMENT_COUNT)
    assert _params(model) == expected


def test_export_refuses_conv_model():
    model = LineEncoder(ModelConfig(conv=[4], hidden=[8]))
    with pytest.raises(ValueError, match="conv"):
        export.build_fp32(model)


@pytest.mark.parametrize("bad", [{"conv": [0]}, {"conv": [4], "conv_kernel": 4}, {"conv": [4], "conv_pool": 7}])
def test_bad_conv_config_is_refused(bad):
    with pytest.raises(ValueError, match="model.conv"):
        ModelConfig(**bad)


@pytest.mark.parametrize("loss", ["bce", "focal"])
def test_conv_model_trains_one_epoch_on_tiny_set(catalog, loss):
    tr = random_dataset(96, 21, catalog.line_element)
    va = random_dataset(32, 22, catalog.line_element)
    cfg = TrainConfig(model=ModelConfig(transform="log1p-norm+sig+total", conv=[4, 4], hidden=[32]),
                      loss=loss, epochs=1, batch_size=32, threads=1)
    torch.manual_seed(cfg.seed)  # train() seeds the same way before building its model
    before = LineEncoder(cfg.model)
    r = train(cfg, tr, va, catalog.line_element, log=False)
    assert len(r.history) == 1 and np.isfinite(r.history[0]["train_loss"])
    assert 0.0 <= r.history[0]["val_line_f1@0.5"] <= 1.0
    # Same seed → same initial weights; training must have moved the first convolution.
    assert not torch.equal(before.front.convs[0].weight, r.model.front.convs[0].weight)


def test_shipped_config_has_focal_and_cnn_ablations_like_the_sig_ablation():
    cfg = config_from_json(json.loads(SHIPPED.read_text()))
    by_name = {a.name: a for a in cfg.ablations}
    base = by_name["mlp-768x2-bce-log1p-sig-elements-aug"]
    focal = by_name["mlp-768x2-focal-log1p-sig-elements-aug"]
    cnn = by_name["cnn-16x16-mlp-512-bce-log1p-sig-elements-aug"]
    assert focal.config.loss == "focal" and focal.config.model == base.config.model
    assert cnn.config.model.conv == [16, 16] and cnn.config.model.hidden == [512] and cnn.config.loss == "bce"
    for ab in (focal, cnn):
        assert ab.train_limit == base.train_limit == 40000
        assert ab.config.epochs == base.config.epochs and ab.config.augment == base.config.augment
        assert ab.config.model.transform == "log1p-norm+sig+total"
    assert cfg.shipped.model.conv == []  # the shipped model stays the exportable MLP
