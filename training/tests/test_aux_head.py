"""The training-only auxiliary head (model.aux_head, train.aux_loss_weight): its targets sit on the label's own
boundary, it is refused without its loss (and the loss without it), recipes without it train and record exactly as
before, and it never reaches the exported graph."""

import numpy as np
import pytest
import torch

from xrftrain import reference
from xrftrain.augment import AugmentConfig, currie_detectable
from xrftrain.data import load_dataset
from xrftrain.export import ELEMENTS_OUTPUT, LINES_OUTPUT, build_fp32
from xrftrain.model import ABS_LOG_DIVISOR, LineEncoder, ModelConfig
from xrftrain.train import AUX_MARGIN_MIN, AUX_MARGIN_SCALE, TrainConfig, aux_targets, predict, train


def test_margin_target_is_non_negative_exactly_where_the_label_rule_says_detectable():
    g = torch.Generator().manual_seed(5)
    background = torch.pow(10.0, torch.rand(64, 556, generator=g) * 7)
    net = torch.pow(10.0, torch.rand(64, 556, generator=g) * 8) * (torch.rand(64, 556, generator=g) < 0.8)
    t = aux_targets(net, background, 0.02)
    assert t.shape == (64, 2 * 556)
    margin, bkg = t[:, :556], t[:, 556:]
    detectable = currie_detectable(net, background, 0.02)
    # Away from float rounding at the boundary itself, margin ≥ 0 ⇔ the generator's label.
    clear = (margin.abs() > 1e-5)
    assert torch.equal((margin >= 0)[clear], detectable[clear])
    assert bool(detectable.any()) and bool((~detectable).any())
    assert torch.allclose(bkg, torch.log1p(background) / ABS_LOG_DIVISOR)


def test_lines_without_net_counts_get_the_floor_and_the_margin_is_clipped():
    background = torch.tensor([[100.0, 100.0, 100.0]])
    limit = 2.71 + 4.65 * np.sqrt(100.0 + 2.0 ** 2)
    net = torch.tensor([[0.0, float(limit), float(limit) * 1e6]])
    margin = aux_targets(net, background, 0.02)[0, :3]
    assert float(margin[0]) == pytest.approx(AUX_MARGIN_MIN / AUX_MARGIN_SCALE)
    assert float(margin[1]) == pytest.approx(0.0, abs=1e-6)
    assert float(margin[2]) == pytest.approx(5.0 / AUX_MARGIN_SCALE)


def test_head_and_loss_weight_must_go_together():
    with pytest.raises(ValueError, match="must go together"):
        TrainConfig(aux_loss_weight=0.5)
    with pytest.raises(ValueError, match="must go together"):
        TrainConfig(model=ModelConfig(aux_head=True))
    with pytest.raises(ValueError, match="≥ 0"):
        TrainConfig(model=ModelConfig(aux_head=True), aux_loss_weight=-1.0)


def test_recipes_without_the_head_record_and_build_exactly_as_before():
    cfg = TrainConfig(model=ModelConfig(hidden=[32]))
    d = cfg.to_dict()
    assert "aux_loss_weight" not in d and "aux_head" not in d["model"]
    assert "conv" in d["model"]  # the card's hyper-parameters keep their old keys
    torch.manual_seed(0)
    plain = LineEncoder(ModelConfig(hidden=[32]))
    torch.manual_seed(0)
    with_aux = LineEncoder(ModelConfig(hidden=[32], aux_head=True))
    assert not any(k.startswith("aux_head") for k in plain.state_dict())
    # The head is created last, so the shared layers start from the same weights as the recipe without it.
    for k, v in plain.state_dict().items():
        assert torch.equal(v, with_aux.state_dict()[k]), k
    d = TrainConfig(model=ModelConfig(hidden=[32], aux_head=True), aux_loss_weight=0.5).to_dict()
    assert d["aux_loss_weight"] == 0.5 and d["model"]["aux_head"] is True


def test_the_exported_graph_has_no_auxiliary_output_and_matches_the_heads(rng):
    torch.manual_seed(2)
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[48], aux_head=True)).eval()
    proto = build_fp32(model)
    assert [o.name for o in proto.graph.output] == [LINES_OUTPUT, ELEMENTS_OUTPUT]
    assert not any("aux" in i.name for i in proto.graph.initializer)
    x = rng.poisson(50.0, (4, 300)).astype(np.float32)
    got = reference.run(proto, {proto.graph.input[0].name: x})
    lp, ep = predict(model, x)
    assert got[LINES_OUTPUT].shape == (4, 556)
    np.testing.assert_allclose(got[LINES_OUTPUT], lp, atol=1e-5)
    np.testing.assert_allclose(got[ELEMENTS_OUTPUT], ep, atol=1e-5)


def test_training_with_the_head_learns_its_targets(random_sets, catalog):
    train_set = load_dataset(random_sets / "train", catalog.sha256).subset(slice(0, 1024))
    val_set = load_dataset(random_sets / "val", catalog.sha256)
    le = np.asarray(catalog.line_element, dtype=np.int64)
    cfg = TrainConfig(model=ModelConfig(transform="log1p-norm+sig+total", hidden=[64], aux_head=True, dropout=0.0),
                      augment=AugmentConfig(thin_prob=0.5, thin_decades=1.0, thin_min_total=100.0),
                      aux_loss_weight=1.0, epochs=12, batch_size=64, lr=3e-3, seed=3)
    r = train(cfg, train_set, val_set, le, log=False)
    x = torch.from_numpy(np.array(val_set.x[:256], dtype=np.float32))
    target = aux_targets(torch.from_numpy(np.array(val_set.line_net[:256])),
                         torch.from_numpy(np.array(val_set.line_background[:256])), val_set.label_systematic_fraction)
    r.model.eval()
    with torch.no_grad():
        _, _, ao = r.model.heads_aux(r.model.transform(x))
    # Better than the best spectrum-blind guess (each target's mean over the training spectra): the head reads them
    # from the spectrum.
    train_t = aux_targets(torch.from_numpy(np.array(train_set.line_net)),
                          torch.from_numpy(np.array(train_set.line_background)), train_set.label_systematic_fraction)
    blind = train_t.mean(dim=0, keepdim=True).expand_as(target)
    err, err_blind = float(torch.nn.functional.mse_loss(ao, target)), float(torch.nn.functional.mse_loss(blind, target))
    assert err < 0.7 * err_blind  # measured 0.56× when written
    # The line and element heads still learn beside it (0.35 element F1 at 0.5 on these toy spectra when written).
    assert len(r.history) == 12 and r.history[-1]["val_element_f1@0.5"] > 0.2
