"""bfloat16 training (train.py `precision`): the transform stays float32, logits come back float32 and close to the
float32 pass, a bf16 step trains, and an unknown precision is refused by name."""

import numpy as np
import pytest
import torch

from xrftrain.model import LineEncoder, ModelConfig
from xrftrain.pipeline import config_from_json
from xrftrain.train import TrainConfig, _forward, native_bf16


def _spectra(n: int = 64) -> torch.Tensor:
    rng = np.random.default_rng(3)
    bkg = rng.uniform(50, 5e4, size=(n, 1)) * np.exp(-np.linspace(0, 3, 300))[None, :]
    x = rng.poisson(bkg).astype(np.float32)
    x[:, 64] += rng.uniform(0, 2e5, size=n).astype(np.float32)  # a line of very different heights
    return torch.from_numpy(x)


def test_bf16_forward_matches_fp32_within_bfloat16_rounding():
    torch.manual_seed(0)
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[128, 128], dropout=0.0)).eval()
    x = _spectra()
    with torch.no_grad():
        lo32, eo32, _ = _forward(model, x, "fp32")
        lo16, eo16, _ = _forward(model, x, "bf16")
    assert lo16.dtype == torch.float32 and eo16.dtype == torch.float32
    assert lo16.shape == lo32.shape and eo16.shape == eo32.shape
    # bfloat16 keeps 8 mantissa bits: logits of O(1) agree to a few hundredths, not bit for bit.
    assert float((lo16 - lo32).abs().max()) < 0.05
    assert float((eo16 - eo32).abs().max()) < 0.05
    assert not torch.equal(lo16, lo32)  # the products really ran in bfloat16


def test_significance_map_is_computed_in_float32_under_bf16():
    # A 1e5-count bin: Anscombe value ≈ 632, where bfloat16 resolves only ±2 (several standard deviations); the
    # transform must give the same features whichever precision the MLP trains in.
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[16], dropout=0.0)).eval()
    x = _spectra(8)
    f32 = model.transform(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        in_autocast = model.transform(x)
    seen: list[torch.Tensor] = []
    hook = model.body.register_forward_pre_hook(lambda _m, args: seen.append(args[0]))
    with torch.no_grad():
        _forward(model, x, "bf16")
    hook.remove()
    assert seen[0].dtype == torch.float32
    assert torch.equal(seen[0], f32)
    assert not torch.equal(in_autocast.float(), f32)  # what running the transform under autocast would have cost


def test_bf16_training_step_lowers_the_loss():
    torch.manual_seed(1)
    model = LineEncoder(ModelConfig(transform="log1p-norm+sig+total", hidden=[64], dropout=0.0))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    x = _spectra(128)
    target = (torch.rand(128, 556) < 0.05).float()
    losses = []
    for _ in range(30):
        lo, _, _ = _forward(model, x, "bf16")
        loss = torch.nn.functional.binary_cross_entropy_with_logits(lo, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert all(p.dtype == torch.float32 for p in model.parameters())  # master weights stay float32
    assert losses[-1] < 0.5 * losses[0]


def test_unknown_precision_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown precision 'fp16'.*fp32, bf16"):
        TrainConfig(precision="fp16")
    with pytest.raises(ValueError, match="unknown precision 'half'"):
        config_from_json({"shipped": {"precision": "half"}})
    assert TrainConfig().precision == "fp32"


def test_native_bf16_reads_the_cpu_flags():
    zen4 = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n"
    zen3 = "processor\t: 0\nflags\t\t: fpu avx avx2 fma\n"
    graviton3 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"
    assert native_bf16(zen4) and native_bf16(graviton3)
    assert not native_bf16(zen3)
    assert not native_bf16("")
    assert not native_bf16("model name\t: something with bf16 in its name\n")  # only the flag lines count
