import numpy as np
import torch

from xrftrain.augment import AugmentConfig, augment, calibration_drift


def _peak(centre_bin: int) -> torch.Tensor:
    x = torch.zeros(1, 300)
    x[0, centre_bin] = 1000.0
    return x


def test_calibration_drift_zero_is_identity():
    x = torch.poisson(torch.full((4, 300), 20.0))
    y = calibration_drift(x, torch.zeros(4), torch.zeros(4))
    assert torch.allclose(x, y, atol=1e-3)


def test_calibration_drift_keeps_total_counts():
    x = torch.poisson(torch.full((8, 300), 20.0))
    x[:, -5:] = 0  # nothing near either edge, so no counts can leave the grid
    x[:, :5] = 0
    y = calibration_drift(x, torch.linspace(-0.3, 0.3, 8), torch.linspace(-0.005, 0.005, 8))
    assert torch.allclose(x.sum(1), y.sum(1), rtol=1e-5)


def test_calibration_drift_whole_bin_shift_moves_peak_by_one_bin():
    # A +1 bin shift (0.1 keV) reads each output bin from one bin higher: the peak moves one bin down.
    y = calibration_drift(_peak(100), torch.tensor([1.0]), torch.tensor([0.0]))
    assert int(y.argmax()) == 99 and abs(float(y[0, 99]) - 1000.0) < 1e-3


def test_augment_output_is_non_negative_and_same_shape():
    g = torch.Generator().manual_seed(3)
    x = torch.poisson(torch.full((16, 300), 5.0))
    y = augment(x, AugmentConfig(poisson_prob=1.0), g)
    assert y.shape == x.shape and bool((y >= 0).all())


def test_response_ripple_is_smooth_and_of_the_requested_size():
    from xrftrain.augment import response_ripple

    x = torch.full((64, 300), 1.0e6)
    g = torch.Generator().manual_seed(3)
    y = response_ripple(x, torch.full((64,), 0.02), g)
    rel = y / x - 1.0
    # Unit-variance field × 0.02: the relative deviation has std ≈ 0.02 (64 × 300 samples, correlated over ~2 bins).
    assert 0.015 < float(rel.std()) < 0.025
    # Smooth: neighbouring bins move together (correlation of a Gaussian-smoothed field at lag 1 is exp(−1/16)≈0.94).
    a, b = rel[:, :-1].flatten(), rel[:, 1:].flatten()
    assert float(torch.corrcoef(torch.stack([a, b]))[0, 1]) > 0.85
    # Zero amplitude leaves the spectrum alone.
    assert torch.equal(response_ripple(x, torch.zeros(64), g), x)


def test_binomial_thin_keeps_the_mean_and_never_adds_counts():
    from xrftrain.augment import binomial_thin

    g = torch.Generator().manual_seed(5)
    x = torch.full((200, 300), 40.5)
    y = binomial_thin(x, torch.full((200,), 0.25), g)
    assert bool((y >= 0).all()) and bool((y <= 41).all())
    assert torch.equal(y, y.round())
    # Binomial(40, 0.25) + Bernoulli(0.125): mean 10.125, variance 7.5 + 0.109.
    assert abs(float(y.mean()) - 10.125) < 0.05
    assert abs(float(y.var()) - 7.61) < 0.3


def test_thin_factors_respect_the_floor_and_the_probability():
    from xrftrain.augment import thin_factors

    g = torch.Generator().manual_seed(2)
    total = torch.cat([torch.full((5000,), 1.0e5), torch.full((5000,), 500.0)])
    f = thin_factors(total, AugmentConfig(thin_prob=0.4, thin_decades=3.0, thin_min_total=1000.0), g)
    high, low = f[:5000], f[5000:]
    assert bool((high * 1.0e5 >= 1000.0 - 1e-3).all())      # never below thin_min_total counts
    assert bool((low == 1.0).all())                         # already below the floor: left alone
    assert abs(float((high < 1.0).float().mean()) - 0.4) < 0.03
    assert float(high.min()) < 0.02                         # the floor (0.01) is reached: 3 decades were drawn


def _one_batch():
    # Two elements (0, 1), lines: 0 strong of element 0, 1 weak of element 0, 2 weak of element 1, 3 absent of element 1.
    line_element = torch.tensor([0, 0, 1, 1])
    net = torch.tensor([[1000.0, 60.0, 60.0, 0.0]])
    bkg = torch.tensor([[100.0, 100.0, 100.0, 100.0]])
    y_lines = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    y_elements = torch.tensor([[1.0, 1.0]])
    ignore = torch.tensor([[False, False]])
    in_sample = torch.tensor([[True, True]])
    x = torch.full((1, 300), 50.0)
    return x, y_lines, y_elements, ignore, in_sample, net, bkg, line_element


def test_thin_relabels_with_the_generators_rule():
    from xrftrain.augment import currie_detectable, thin

    x, yl, ye, ign, ins, net, bkg, le = _one_batch()
    # At full counts the rule gives back the labels: L_D = 2.71 + 4.65·√(100 + 4) = 50.1 < 60.
    assert torch.equal(currie_detectable(net, bkg, 0.02).float(), yl)
    g = torch.Generator().manual_seed(1)
    x2, yl2, ye2, ign2 = thin(x, yl, ye, ign, ins, net, bkg, 0.02, le, AugmentConfig(thin_prob=1.0), g,
                              factors=torch.tensor([0.1]))
    # f = 0.1: strong 100 ≥ 2.71 + 4.65·√(10 + 0.04) = 17.4 stays; weak 6 does not.
    assert yl2.tolist() == [[1.0, 0.0, 0.0, 0.0]]
    assert ye2.tolist() == [[1.0, 0.0]]          # element 1 lost its only detectable line …
    assert ign2.tolist() == [[False, True]]      # … and, being in the sample, is now ignored, as the generator does
    assert abs(float(x2.sum()) - 1500.0) < 150.0  # 15000 counts kept with p = 0.1
    # The inputs are not modified in place.
    assert yl.tolist() == [[1.0, 1.0, 1.0, 0.0]] and float(x.sum()) == 15000.0


def test_thin_leaves_unpicked_rows_alone():
    from xrftrain.augment import thin

    x, yl, ye, ign, ins, net, bkg, le = _one_batch()
    g = torch.Generator().manual_seed(1)
    out = thin(x, yl, ye, ign, ins, net, bkg, 0.02, le, AugmentConfig(thin_prob=0.0), g)
    assert all(torch.equal(a, b) for a, b in zip(out, (x, yl, ye, ign)))


def test_labelled_line_counts_keep_exactly_the_labelled_lines(catalog):
    from xrftrain.augment import LabelledLineCounts
    from xrftrain.data import random_dataset

    ds = random_dataset(700, 31, catalog.line_element)
    # Small chunks, so rows are stitched across chunk boundaries as in a multi-million set.
    store = LabelledLineCounts(ds.y_lines, ds.line_net, ds.line_background, chunk=97)
    assert len(store) == 700 and int(store.count.sum()) == int(ds.y_lines.sum())
    idx = torch.tensor([699, 0, 96, 97, 5, 5, 350])  # any order, repeats, both sides of a chunk edge
    net, bkg = store.batch(idx)
    y = torch.from_numpy(ds.y_lines[idx.numpy()].astype(np.float32))
    assert torch.equal(net, torch.from_numpy(ds.line_net[idx.numpy()]) * y)
    assert torch.equal(bkg, torch.from_numpy(ds.line_background[idx.numpy()]) * y)
    # 10 bytes per labelled line and 16 per spectrum, against 4,448 bytes per spectrum for the dense pair.
    assert store.nbytes() == 10 * int(ds.y_lines.sum()) + 16 * 700


def test_thinning_from_labelled_line_counts_equals_thinning_from_the_full_arrays(catalog):
    from xrftrain.augment import LabelledLineCounts, thin
    from xrftrain.data import random_dataset

    ds = random_dataset(400, 32, catalog.line_element)
    store = LabelledLineCounts(ds.y_lines, ds.line_net, ds.line_background)
    idx = torch.randperm(400, generator=torch.Generator().manual_seed(3))[:256]
    i = idx.numpy()
    x = torch.from_numpy(ds.x[i])
    yl = torch.from_numpy(ds.y_lines[i].astype(np.float32))
    ye = torch.from_numpy(ds.y_elements[i].astype(np.float32))
    ign = torch.from_numpy(ds.y_elements_ignore[i]).bool()
    ins = torch.from_numpy(ds.y_elements_in_sample[i]).bool()
    le = torch.from_numpy(catalog.line_element)
    cfg = AugmentConfig(thin_prob=1.0, thin_decades=3.0, thin_min_total=10.0)
    factors = torch.pow(10.0, -3.0 * torch.rand(256, generator=torch.Generator().manual_seed(4)))
    full = thin(x, yl, ye, ign, ins, torch.from_numpy(ds.line_net[i]), torch.from_numpy(ds.line_background[i]),
                0.02, le, cfg, torch.Generator().manual_seed(5), factors=factors)
    sparse = thin(x, yl, ye, ign, ins, *store.batch(idx), 0.02, le, cfg, torch.Generator().manual_seed(5),
                  factors=factors)
    for a, b in zip(full, sparse):
        assert torch.equal(a, b)
    # The factors were strong enough to change labels, so the comparison covered relabelling, not only copying.
    assert float(full[1].sum()) < float(yl.sum())


def test_training_with_thinning_gives_the_same_weights_as_with_the_dense_line_counts(random_sets, catalog, monkeypatch):
    """train() takes the thinning counts from LabelledLineCounts; standing the dense arrays in for it must not change
    a single weight (the store is a memory saving, not a recipe change)."""
    import xrftrain.train as train_module
    from xrftrain.data import load_dataset
    from xrftrain.model import ModelConfig
    from xrftrain.train import TrainConfig, train

    import dataclasses

    from xrftrain.augment import currie_detectable

    toy = load_dataset(random_sets / "train", catalog.sha256).subset(slice(0, 1024))
    # The toy set's labelled lines (net 750 over 15) survive any thinning; at 60 net counts a labelled line stays
    # detectable at f = 1 but not below f ≈ 0.15, so this training relabels, and a store that got the counts wrong
    # would change the weights.
    y = np.array(toy.y_lines)
    train_set = dataclasses.replace(toy, line_net=np.where(y == 1, 60.0, 0.0).astype(np.float32))
    net, bkg = torch.from_numpy(train_set.line_net), torch.from_numpy(np.array(train_set.line_background))
    assert bool(currie_detectable(net, bkg, 0.02)[torch.from_numpy(y) == 1].all())
    assert not bool(currie_detectable(0.1 * net, 0.1 * bkg, 0.02).any())
    val_set = load_dataset(random_sets / "val", catalog.sha256)
    le = np.asarray(catalog.line_element, dtype=np.int64)
    cfg = TrainConfig(model=ModelConfig(transform="log1p-norm+sig+total", hidden=[32]),
                      augment=AugmentConfig(thin_prob=0.7, thin_decades=2.0, thin_min_total=10.0),
                      epochs=2, batch_size=128, seed=4)
    stored = train(cfg, train_set, val_set, le, log=False).model.state_dict()

    class Dense:
        def __init__(self, y_lines, net, background):
            self.net = torch.from_numpy(np.array(net, dtype=np.float32))
            self.background = torch.from_numpy(np.array(background, dtype=np.float32))

        def batch(self, idx):
            return self.net[idx], self.background[idx]

    monkeypatch.setattr(train_module, "LabelledLineCounts", Dense)
    dense = train(cfg, train_set, val_set, le, log=False).model.state_dict()
    for k, v in stored.items():
        assert torch.equal(v, dense[k]), k
