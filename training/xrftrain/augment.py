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
- Count thinning (`thin_prob`): the spectrum is what a shorter live time would have recorded — every count kept
  with probability f (binomial thinning; of a Poisson spectrum it gives exactly the Poisson spectrum of the
  f-times-shorter measurement), f log-uniform down to `thin_decades` decades but never below `thin_min_total`
  counts. Unlike the others this changes the labels: a line is detectable again only if f·net ≥ 2.71 +
  4.65·√(f·B + (ε·f·B)²), with net and B the line's expected counts in its label window (line_net.npy,
  line_background.npy) and ε the set's label_systematic_fraction — the generator's rule (SpectrumGenerator.Label).
  Elements lose their label with their last line and become "ignored" (in the sample, not detectable), as in the
  generator. The same composition is thus seen at several count levels, which is how a detection limit is learnt.

Everything runs on the batch's device (x.device), and every draw comes from the generator handed in, which must live on
that device (train.py makes a CUDA one for a CUDA run). The one exception is the binomial draw of count thinning, which
is NumPy's on the CPU whatever the device (`binomial_thin`): it is the draw the shipped model was trained with, and
torch.binomial took about 4× as long per batch on the dev CPU (training/README.md; not measured on a GPU).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass
class AugmentConfig:
    shift_bins: float = 0.3
    gain_frac: float = 0.005
    poisson_prob: float = 0.5
    ripple_frac: float = 0.0
    thin_prob: float = 0.0
    thin_decades: float = 1.5
    thin_min_total: float = 1000.0

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
    k = _ripple_kernel().to(x.device)
    g = torch.randn(x.shape[0], 1, x.shape[1], generator=generator, device=x.device)
    g = torch.nn.functional.conv1d(g, k, padding=k.shape[-1] // 2).squeeze(1)
    return x * (1.0 + amplitude[:, None] * g).clamp_min(0.0)


def augment(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    n = x.shape[0]
    if cfg.shift_bins > 0 or cfg.gain_frac > 0:
        shift = (torch.rand(n, generator=generator, device=x.device) * 2 - 1) * cfg.shift_bins
        gain = (torch.rand(n, generator=generator, device=x.device) * 2 - 1) * cfg.gain_frac
        x = calibration_drift(x, shift, gain)
    if cfg.ripple_frac > 0:
        x = response_ripple(x, torch.rand(n, generator=generator, device=x.device) * cfg.ripple_frac, generator)
    if cfg.poisson_prob > 0:
        pick = torch.rand(n, generator=generator, device=x.device) < cfg.poisson_prob
        if pick.any():
            x = x.clone()
            x[pick] = torch.poisson(x[pick], generator=generator)
    return x


def currie_limit(background: torch.Tensor, eps: float) -> torch.Tensor:
    """The generator's detection limit on expected window counts (Currie's L_D with the labels' systematic term ε):
    L_D = 2.71 + 4.65·√(B + (ε·B)²)."""
    sys = eps * background
    return 2.71 + 4.65 * torch.sqrt(background + sys * sys)


def currie_detectable(net: torch.Tensor, background: torch.Tensor, eps: float) -> torch.Tensor:
    """The generator's label rule on expected window counts: net ≥ L_D (`currie_limit`)."""
    return net >= currie_limit(background, eps)


def thin_factors(total: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator) -> torch.Tensor:
    """Per-spectrum keep probability f ∈ (0, 1]: 1 for spectra not picked (probability 1 − thin_prob), else
    log-uniform over `thin_decades` decades, raised so that f·total ≥ thin_min_total (1 if already below)."""
    n = total.shape[0]
    pick = torch.rand(n, generator=generator, device=total.device) < cfg.thin_prob
    f = torch.pow(10.0, -torch.rand(n, generator=generator, device=total.device) * cfg.thin_decades)
    f = torch.maximum(f, (cfg.thin_min_total / total.clamp_min(1.0)).clamp(max=1.0))
    return torch.where(pick, f, torch.ones_like(f))


def binomial_thin(x: torch.Tensor, f: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Keeps each count of x [N,B] with probability f [N]. Bins hold rebinned (fractional) counts: the integer part is
    thinned binomially and the fraction kept with probability frac·f, so the mean is f·x exactly. The draw is NumPy's,
    on the CPU (module docstring); the result goes back to x's device."""
    rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=generator, device=x.device)))
    xn = x.cpu().numpy()
    whole = np.floor(xn)
    p = f.cpu().numpy().astype(np.float64)[:, None]
    kept = rng.binomial(whole.astype(np.int64), p) + (rng.random(xn.shape) < (xn - whole) * p)
    return torch.from_numpy(kept.astype(np.float32)).to(x.device)


def thin(x: torch.Tensor, y_lines: torch.Tensor, y_elements: torch.Tensor, ignore: torch.Tensor,
         in_sample: torch.Tensor, net: torch.Tensor, background: torch.Tensor, eps: float, line_element: torch.Tensor,
         cfg: AugmentConfig, generator: torch.Generator, factors: torch.Tensor | None = None
         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Count thinning with relabelling (module docstring). Inputs are one batch: x float [N,300], y_lines float
    [N,556], y_elements float [N,41], ignore/in_sample bool [N,41], net/background float [N,556]. Returns the new
    (x, y_lines, y_elements, ignore); rows that are not thinned come back unchanged. `factors` [N] overrides the
    drawn keep probabilities (tests)."""
    f = thin_factors(x.sum(dim=1), cfg, generator) if factors is None else factors
    rows = torch.nonzero(f < 1.0).squeeze(1)
    if rows.numel() == 0:
        return x, y_lines, y_elements, ignore
    fr = f[rows]
    x = x.clone()
    x[rows] = binomial_thin(x[rows], fr, generator)
    still = currie_detectable(net[rows] * fr[:, None], background[rows] * fr[:, None], eps)
    # Thinning can only lower detectability (the rule's right side shrinks slower than f), so AND with the old label
    # keeps the generator's own verdict wherever float rounding of the stored counts could differ from it.
    lines_new = y_lines[rows] * still.to(y_lines.dtype)
    owner = torch.nn.functional.one_hot(line_element, y_elements.shape[1]).to(lines_new.dtype)  # [lines, elements]
    elems_new = ((lines_new @ owner) > 0).to(y_elements.dtype)
    y_lines = y_lines.clone()
    y_elements = y_elements.clone()
    ignore = ignore.clone()
    y_lines[rows] = lines_new
    # An element keeps its label while one of its lines does (the generator's definition of y_elements).
    y_elements[rows] = torch.minimum(y_elements[rows], elems_new)
    ignore[rows] = ignore[rows] | (in_sample[rows] & (y_elements[rows] == 0))
    return x, y_lines, y_elements, ignore


class LabelledLineCounts:
    """Each spectrum's expected line counts (line_net.npy, line_background.npy) kept only where its line label is 1.

    `thin` multiplies its new verdict by the old label, so a line labelled 0 stays 0 whatever its counts: only the
    labelled lines' counts can change a thinned label. They are about 12 of 556 per spectrum, so keeping just those
    (line index int16, net and background float32, rows laid end to end) takes 10 bytes a line instead of 4,448 bytes
    a spectrum: under half a GB instead of 14 GB for 3.2 million spectra, which is what lets a set that size train
    in this machine's 23 GB. `batch` gives the dense [N,556] arrays back with zeros elsewhere, and `thin` computes
    exactly the same labels from them as from the full arrays (tests/test_augment.py). The auxiliary head needs every
    line's counts and keeps the full arrays."""

    def __init__(self, y_lines, net, background, chunk: int = 65536):
        n, self.lines = y_lines.shape
        # Each list starts with an empty piece, so that an empty set concatenates too.
        counts, index = [np.zeros(0, np.int64)], [np.zeros(0, np.int16)]
        nets, bkgs = [np.zeros(0, np.float32)], [np.zeros(0, np.float32)]
        for s in range(0, n, chunk):
            y = np.asarray(y_lines[s:s + chunk])
            r, c = np.nonzero(y)  # row-major: each row's lines are contiguous, in catalogue order
            counts.append(np.bincount(r, minlength=len(y)))
            index.append(c.astype(np.int16))
            nets.append(np.asarray(net[s:s + chunk], dtype=np.float32)[r, c])
            bkgs.append(np.asarray(background[s:s + chunk], dtype=np.float32)[r, c])
        self.count = torch.from_numpy(np.concatenate(counts).astype(np.int64))
        self.start = torch.cumsum(self.count, 0) - self.count
        self.index = torch.from_numpy(np.concatenate(index))
        self.net = torch.from_numpy(np.concatenate(nets))
        self.background = torch.from_numpy(np.concatenate(bkgs))

    def __len__(self) -> int:
        return len(self.count)

    def nbytes(self) -> int:
        parts = (self.count, self.start, self.index, self.net, self.background)
        return sum(t.numel() * t.element_size() for t in parts)

    def batch(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Dense (net, background) [len(idx), 556] for the spectra `idx`, zero where the line label is 0."""
        counts = self.count[idx]
        total = int(counts.sum())
        row = torch.repeat_interleave(torch.arange(len(idx)), counts)
        # Position k of the batch's entries belongs to row[k]; its place in the store is that row's start plus
        # its rank within the row.
        first = torch.cumsum(counts, 0) - counts
        pos = torch.repeat_interleave(self.start[idx] - first, counts) + torch.arange(total)
        col = self.index[pos].long()
        net = torch.zeros(len(idx), self.lines)
        bkg = torch.zeros(len(idx), self.lines)
        net[row, col] = self.net[pos]
        bkg[row, col] = self.background[pos]
        return net, bkg
