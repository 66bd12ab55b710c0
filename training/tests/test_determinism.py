"""`make model` reproduces the shipped files bit for bit (docs/training.md, "The full `make model` of 1.6.0"): the
same data, seed and thread count give the same weights, and export and quantisation add no randomness of their own.
This guards that property at toy scale with the shipped recipe's every random part (two members, dropout, count
thinning, calibration drift, Poisson resampling, bf16): an unseeded draw added anywhere fails here, not after a
two-hour run."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch

from xrftrain import export, quantize
from xrftrain.data import load_dataset
from xrftrain.pipeline import config_from_json
from xrftrain.train import train

SHIPPED = Path(__file__).resolve().parents[1] / "configs" / "shipped.json"


def _toy_shipped(seed: int):
    cfg = config_from_json(json.loads(SHIPPED.read_text()))
    s = cfg.shipped
    return cfg, dataclasses.replace(s, model=dataclasses.replace(s.model, hidden=[32, 32]), epochs=2, batch_size=64,
                                    max_minutes=None, seed=seed)


def _run(tc, cfg, train_set, val_set, line_element):
    model = train(tc, train_set, val_set, line_element, log=False).model
    fp32 = export.build_fp32(model)
    int8 = quantize.quantize(fp32, np.array(val_set.x[:256], dtype=np.float32), cfg.quantization)
    return model.state_dict(), fp32.SerializeToString(), int8.SerializeToString()


def test_the_shipped_recipe_trains_exports_and_quantises_to_the_same_bytes_twice(random_sets, catalog):
    train_set = load_dataset(random_sets / "train", catalog.sha256).subset(slice(0, 768))
    val_set = load_dataset(random_sets / "val", catalog.sha256).subset(slice(None))
    le = np.asarray(catalog.line_element, dtype=np.int64)
    cfg, tc = _toy_shipped(seed=3)
    assert tc.model.members == 2 and tc.model.dropout > 0 and tc.augment is not None and tc.augment.thin_prob > 0
    first = _run(tc, cfg, train_set, val_set, le)
    second = _run(tc, cfg, train_set, val_set, le)
    assert first[0].keys() == second[0].keys()
    for k in first[0]:
        assert torch.equal(first[0][k], second[0][k]), k
    assert first[1] == second[1]
    assert first[2] == second[2]
    # The seed is what decides: another seed gives other weights (the comparison above can fail).
    _, other = _toy_shipped(seed=4)
    third = _run(other, cfg, train_set, val_set, le)
    assert third[1] != first[1]
