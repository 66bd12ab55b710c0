"""Where training runs: the hyper-parameter block's `device` ("auto", "cpu", "cuda" or "cuda:N") and its resolution.

Only the training loop and its per-epoch validation pass run on the device; the trained model comes back on the CPU
(train.train), so export, quantisation, thresholds and scoring run there whatever the device. A CUDA run is not
bit-identical to a CPU run of the same recipe and seed: other kernels, and its augmentation draws come from a CUDA
generator. The card therefore records the device that was used (training.device; describe_device).
"""

from __future__ import annotations

import re

import torch

DEVICE_CHOICES = "auto, cpu, cuda or cuda:N"
_SPEC = re.compile(r"auto|cpu|cuda(:(0|[1-9][0-9]*))?")


def is_device_spec(value: object) -> bool:
    """Whether `value` is one of "auto", "cpu", "cuda", "cuda:N" (N a device index, no leading zeros)."""
    return isinstance(value, str) and _SPEC.fullmatch(value) is not None


def check_device(value: object, key: str = "device") -> str:
    """`value` when it is a device spec (is_device_spec), else a ValueError naming `key` (e.g. "shipped.device") and
    the value."""
    if not is_device_spec(value):
        raise ValueError(f"{key}: {value!r} is not a device (use {DEVICE_CHOICES})")
    return value


def resolve_device(spec: str) -> torch.device:
    """The device a spec asks for. "auto" is CUDA when torch sees a GPU, else the CPU. "cuda" or "cuda:N" without a
    usable GPU is an error that says why, never a silent fall-back to the CPU: a run asked for on a GPU would otherwise
    take many times as long (the shipped recipe needs 106 min on 2 cores) and record another device than the one asked
    for."""
    check_device(spec)
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if not torch.cuda.is_available():
        raise ValueError(f"device '{spec}': CUDA is not available: {_why_no_cuda()}")
    device = torch.device(spec)
    if device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(f"device '{spec}': torch sees {torch.cuda.device_count()} CUDA device(s), numbered from 0")
    return device


def _why_no_cuda() -> str:
    if torch.version.cuda is None:
        return (f"this torch ({torch.__version__}) is a CPU-only build (torch.version.cuda is None); Debian's "
                "python3-torch is one")
    return (f"this torch ({torch.__version__}) is built for CUDA {torch.version.cuda}, but torch.cuda.is_available() "
            "is False: no GPU visible to this process, or no working NVIDIA driver")


def describe_device(device: torch.device) -> str:
    """What the card records as training.device: "cpu", or the CUDA device with its name, e.g.
    "cuda:0 (NVIDIA H100 80GB HBM3)"."""
    if device.type != "cuda":
        return device.type
    index = device.index if device.index is not None else torch.cuda.current_device()
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
