import dataclasses

import numpy as np
import pytest

from xrftrain.ceiling import oracle_scores
from xrftrain.data import random_dataset
from xrftrain.pipeline import line_edges_kev


def _sets(catalog, net_of_positives):
    """Toy sets where each present element shows one line (its lowest-energy one, always excitable at 40 kV)."""
    first = np.array([np.flatnonzero(catalog.line_element == e)[np.argmin(catalog.line_energy_kev[catalog.line_element == e])]
                      for e in range(len(catalog.elements))])
    out = []
    for seed in (31, 32):
        ds = random_dataset(4000, seed, catalog.line_element)
        net = np.zeros_like(ds.line_net)
        net[:, first] = net_of_positives * ds.y_elements
        ds.line_net = net
        out.append(ds)
    return out


def _f1(catalog, sets):
    val, test = sets
    return oracle_scores(val, {"t": test}, catalog.line_element, line_edges_kev(catalog),
                         catalog.elements)["t"]["element_f1"]


def test_oracle_finds_strong_lines_almost_always(catalog):
    # 750 net counts over a background of 15: 190 standard deviations.
    assert _f1(catalog, _sets(catalog, 750.0)) > 0.995


def test_oracle_is_limited_by_counting_statistics_at_the_detection_limit(catalog):
    # Every detectable line sits exactly at Currie's L_D (B = 15, ε = 0.02): its window count overlaps the blank's.
    l_d = 2.71 + 4.65 * np.sqrt(15.0 + (0.02 * 15.0) ** 2)
    f1_at_limit = _f1(catalog, _sets(catalog, l_d))
    assert 0.5 < f1_at_limit < 0.99
    # Twice the limit is easier: the reference moves with the data, so it can fail a target.
    assert _f1(catalog, _sets(catalog, 2 * l_d)) > f1_at_limit + 0.01


def test_oracle_needs_the_line_counts(catalog):
    val, test = _sets(catalog, 750.0)
    bare = dataclasses.replace(test, line_net=None, line_background=None, path="somewhere/test-x")
    with pytest.raises(ValueError, match="somewhere/test-x.*line_net.npy"):
        oracle_scores(val, {"t": bare}, catalog.line_element, line_edges_kev(catalog), catalog.elements)


def test_training_with_thinning_needs_the_line_counts(catalog):
    from xrftrain.augment import AugmentConfig
    from xrftrain.model import ModelConfig
    from xrftrain.train import TrainConfig, train

    ds = random_dataset(300, 3, catalog.line_element)
    bare = dataclasses.replace(ds, line_net=None, line_background=None, path="data/train")
    cfg = TrainConfig(model=ModelConfig(hidden=[32]), augment=AugmentConfig(thin_prob=0.5), epochs=1)
    with pytest.raises(ValueError, match="data/train.*thin_prob"):
        train(cfg, bare, ds, catalog.line_element, log=False)
    # With the counts it trains, thinning included.
    r = train(cfg, ds, ds, catalog.line_element, log=False)
    assert len(r.history) == 1 and np.isfinite(r.history[0]["train_loss"])


def test_report_puts_the_oracle_next_to_the_model(tmp_path):
    import json

    from xrftrain.report import _oracle_section

    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "ceiling-oracle.json").write_text(json.dumps({"test-randomized": {
        "element_sensitivity": 0.99, "element_precision": 0.995, "element_f1": 0.9925, "spectra": 10,
        "per_element": {"S": {"f1": 0.99, "support": 80, "fp": 1, "fn": 1},
                        "Fe": {"f1": 1.0, "support": 90, "fp": 0, "fn": 0}}}}))
    (tmp_path / "eval" / "test-randomized.int8.json").write_text(json.dumps({"element": {"f1": 0.9589}}))
    per_el = {"test-randomized": [
        {"element": "Fe", "support": 90, "sensitivity": 1.0, "precision": 1.0, "f1": 1.0, "fp": 0, "fn": 0},
        {"element": "S", "support": 80, "sensitivity": 0.8, "precision": 0.9, "f1": 0.85, "fp": 7, "fn": 16}]}
    text = "\n".join(_oracle_section(tmp_path, per_el))
    assert "| test-randomized | 0.9900 | 0.9950 | 0.9925 | 0.9589 |" in text
    assert "21 more errors in all" in text          # S: 23 − 2; Fe: 0
    assert text.index("| S | 80 | 7 | 16 | 1 | 1 |") < text.index("| Fe | 90 |")
    assert _oracle_section(tmp_path / "nothing", per_el) == []
