"""Ensembles trained in one run (model.members): the members learn on their own losses, the model leaves training as
one plain MLP computing exactly the members' mean logits, and that form exports and quantises like any other."""

import numpy as np
import pytest
import torch

from xrftrain import quantize, reference
from xrftrain.data import load_dataset
from xrftrain.export import ELEMENTS_OUTPUT, LINES_OUTPUT, build_fp32
from xrftrain.model import LineEncoder, ModelConfig
from xrftrain.train import TrainConfig, batch_loss, predict, train


def test_members_must_be_positive_and_mlp_only():
    with pytest.raises(ValueError, match="members must be ≥ 1"):
        ModelConfig(members=0)
    with pytest.raises(ValueError, match="MLP line encoder only"):
        ModelConfig(members=2, aux_head=True)
    with pytest.raises(ValueError, match="MLP line encoder only"):
        ModelConfig(members=2, conv=[4])


def test_single_network_recipes_record_as_before_and_ensembles_say_so():
    assert "members" not in ModelConfig(hidden=[32]).to_dict()
    assert ModelConfig(hidden=[32], members=3).to_dict()["members"] == 3


def test_dense_form_computes_the_members_mean_logits(rng):
    torch.manual_seed(4)
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[40, 24], members=3)).eval()
    x = torch.from_numpy(rng.poisson(30.0, (6, 300)).astype(np.float32))
    f = model.transform(x)
    with torch.no_grad():
        per = model.heads_members(f)
        lo, eo = model(x)
        dense = model.dense()
        dlo, deo = dense(x)
    assert len(per) == 3
    # The members start from different weights (an ensemble, not three copies).
    assert not torch.allclose(per[0][0], per[1][0])
    torch.testing.assert_close(lo, torch.stack([p[0] for p in per]).mean(0))
    torch.testing.assert_close(eo, torch.stack([p[1] for p in per]).mean(0))
    assert dense.member_nets is None and dense.config.members == 1 and dense.config.hidden == [120, 72]
    torch.testing.assert_close(dlo, lo, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(deo, eo, atol=1e-5, rtol=1e-5)
    # Block-diagonal after the first layer: a member's hidden units read only that member's units.
    w = dense.linear_layers()[1].weight
    assert float(w[:24, 40:].abs().max()) == 0.0 and float(w[24:48, :40].abs().max()) == 0.0
    with pytest.raises(ValueError, match="dense"):
        model.linear_layers()


def test_each_member_gets_its_own_loss():
    torch.manual_seed(1)
    model = LineEncoder(ModelConfig(hidden=[16], members=2, dropout=0.0))
    le = torch.zeros(556, dtype=torch.long)
    x = torch.rand(8, 300) * 50
    yl, ye = (torch.rand(8, 556) < 0.1).float(), (torch.rand(8, 41) < 0.2).float()
    ign = torch.zeros(8, 41, dtype=torch.bool)
    cfg = TrainConfig(model=model.config, augment=None)
    loss = batch_loss(cfg, model, x, yl, ye, ign, le)
    singles = [batch_loss(cfg, m, x, yl, ye, ign, le) for m in model.member_nets]
    torch.testing.assert_close(loss, torch.stack(singles).mean())
    loss.backward()
    # Every member's weights receive gradient from its own loss.
    assert all(float(m.line_head.weight.grad.abs().sum()) > 0 for m in model.member_nets)


def test_an_ensemble_trains_exports_and_quantises_like_one_network(random_sets, catalog):
    train_set = load_dataset(random_sets / "train", catalog.sha256).subset(slice(0, 1024))
    val_set = load_dataset(random_sets / "val", catalog.sha256)
    le = np.asarray(catalog.line_element, dtype=np.int64)
    cfg = TrainConfig(model=ModelConfig(transform="log1p-norm+sig+total", hidden=[32, 32], members=2),
                      augment=None, epochs=2, batch_size=128, seed=5)
    r = train(cfg, train_set, val_set, le, log=False)
    assert r.model.member_nets is None and r.model.config.hidden == [64, 64]
    assert len(r.history) == 2
    fp32 = build_fp32(r.model)
    x = np.array(val_set.x[:16], dtype=np.float32)
    got = reference.run(fp32, {fp32.graph.input[0].name: x})
    lp, ep = predict(r.model, x)
    np.testing.assert_allclose(got[LINES_OUTPUT], lp, atol=1e-5)
    np.testing.assert_allclose(got[ELEMENTS_OUTPUT], ep, atol=1e-5)
    int8 = quantize.quantize(fp32, np.array(val_set.x[:256], dtype=np.float32), quantize.QuantConfig())
    q = reference.run(int8, {int8.graph.input[0].name: x})
    assert q[LINES_OUTPUT].shape == (16, 556)
    assert float(np.abs(q[LINES_OUTPUT] - got[LINES_OUTPUT]).mean()) < 0.02
