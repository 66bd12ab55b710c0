"""Label-preserving augmentation of raw-count spectra on the 0.1-keV model grid.

- Calibration drift: the spectrum is re-binned as if the energy scale were shifted by up to ±`shift_bins`
  bins and stretched by up to ±`gain_frac` (a field instrument drifts by a few tens of eV between
  calibrations); done on the cumulative count curve so total counts are kept exactly.
- Response ripple: the spectrum is multiplied by 1 + a·g, g a smooth unit-variance Gaussian field (correlation
  ≈ 2 bins, the width of a peak) and a uniform in [0, `ripple_frac`]: the few-per-cent mismatch between any
  generator's peak shapes, escape/pile-up structure and efficiency curve and a real detector's. It stays below the
  labels' systematic detection term (4.65·ε of the background, `xrfedge synth --label-systematic ε`), so the
  labels do not change, and it teaches the model that a ripple of that size is not a line.
- Counting statistics: each bin is redrawn from Poisson(counts) — a second realisation at the same count
  level, so detectability (the labels) does not change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass
class AugmentConfig:
    shift_bins: float = 0.3
    gain_frac: float = 0.005
    poisson_prob: float = 0.5
    ripple_frac: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


def calibration_drift(x: torch.Tensor, shift_bins: torch.Tensor, gain: torch.Tensor) -> torch.Tensor:
    """Counts [N,B] seen through energy scale e' = (e - shift)·(1 + gain) in bin units; totals preserved."""
    n, b = x.shape
    edges = torch.arange(b + 1, dtype=x.dtype, device=x.device).expand(n, b + 1)
    cum = torch.cat([torch.zeros(n, 1, dtype=x.dtype, device=x.device), x.cumsum(dim=1)], dim=1)
    src = (edges / (1.0 + gain[:, None]) + shift_bins[:, None]).clamp(0.0, float(b))
    lo = src.floor().long().clamp(max=b - 1)
    frac = src - lo.to(x.dtype)
    c_lo = cum.gather(1, lo)
    c_hi = cum.gather(1, lo + 1)
    c = c_lo + frac * (c_hi - c_lo)
    return (c[:, 1:] - c[:, :-1]).clamp_min(0.0)


def _ripple_kernel(sigma_bins: float = 2.0) -> torch.Tensor:
    r = int(3 * sigma_bins)
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma_bins) ** 2)
    return (k / k.square().sum().sqrt()).view(1, 1, -1)  # unit variance after smoothing white noise


def response_ripple(x: torch.Tensor, amplitude: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Counts [N,B] × (1 + amplitude[:,None]·g), g smooth with unit variance; clamped so counts stay ≥ 0."""
    k = _ripple_kernel()
    g = torch.randn(x.shape[0], 1, x.shape[1], generator=generator)
    g = torch.nn.functional.conv1d(g, k, padding=k.shape[-1] // 2).squeeze(1)
    return x * (1.0 + amplitude[:, None] * g).clamp_min(0.0)


def augment(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    if cfg.shift_bins > 0 or cfg.gain_frac > 0:
        shift = (torch.rand(n, generator=generator) * 2 - 1) * cfg.shift_bins
        gain = (torch.rand(n, generator=generator) * 2 - 1) * cfg.gain_frac
        x = calibration_drift(x, shift, gain)
    if cfg.ripple_frac > 0:
        x = response_ripple(x, torch.rand(n, generator=generator) * cfg.ripple_frac, generator)
    if cfg.poisson_prob > 0:
        pick = torch.rand(n, generator=generator) < cfg.poisson_prob
        if pick.any():
            x = x.clone()
            x[pick] = torch.poisson(x[pick], generator=generator)
    return x
