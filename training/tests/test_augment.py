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
