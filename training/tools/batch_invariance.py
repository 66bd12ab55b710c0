"""Batch invariance of an int8 model through ONNX Runtime's C API: the same spectra at batch 1 and as one batch of
all must give the same outputs bit for bit (static QDQ: fixed scales, so no answer may depend on its batch
neighbours; training/README.md, "Static QDQ, not dynamic").

It runs scripts/arm64/ort_run.c, built here with gcc for linux-x64, on the pinned libonnxruntime.so.1 that the build
ships (scripts/fetch-onnxruntime.sh), with the instrument binding's session settings (1 intra-op thread, all graph
optimisations, deterministic compute). tools/check_ort.py does the same through npm's onnxruntime-node, which a
checkout does not install; this check needs only gcc (scripts/install-deps.sh).

Usage: /usr/bin/python3 training/tools/batch_invariance.py MODEL.onnx X.npy OUT.json [N] [--build DIR]
Writes {"batch_invariant_max_abs", "spectra", "runtime", "outputs"}; exit 0 when the difference is 0.0, 1 when not,
2 when it cannot run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "scripts/arm64/ort_run.c"
WIDTH = 300


def harness(build: Path) -> Path:
    binary = build / "ort_run.x64"
    if not binary.exists() or binary.stat().st_mtime < SOURCE.stat().st_mtime:
        gcc = shutil.which("gcc")
        if gcc is None:
            raise RuntimeError("gcc not found (Debian's gcc; scripts/install-deps.sh installs it)")
        build.mkdir(parents=True, exist_ok=True)
        subprocess.run([gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(SOURCE), "-ldl"], check=True)
    return binary


def library() -> Path:
    r = subprocess.run(["bash", str(ROOT / "scripts/fetch-onnxruntime.sh")], capture_output=True, text=True, check=True)
    return Path(r.stdout.strip().splitlines()[-1]) / "linux-x64" / "libonnxruntime.so.1"


def outputs(binary: Path, lib: Path, model: Path, x_file: Path, n: int, batch: int, prefix: Path) -> tuple[dict, str]:
    r = subprocess.run([str(binary), str(lib), str(model), str(x_file), str(n), str(batch), str(prefix)],
                       capture_output=True, text=True, check=True)
    info = json.loads(r.stdout.strip().splitlines()[-1])
    return ({k: np.fromfile(f"{prefix}.{k}.f32", np.float32).reshape(n, w) for k, w in info["outputs"].items()},
            info["runtime"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model", type=Path)
    p.add_argument("x", type=Path, help="x.npy of an `xrfedge synth --format npy` set (raw counts, [N,300])")
    p.add_argument("out", type=Path)
    p.add_argument("n", type=int, nargs="?", default=2000)
    p.add_argument("--build", type=Path, default=ROOT / ".build" / "ship-check")
    a = p.parse_args(argv)
    try:
        x = np.ascontiguousarray(np.load(a.x, mmap_mode="r")[:a.n], dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != WIDTH:
            raise RuntimeError(f"{a.x}: shape {x.shape}, (N, {WIDTH}) expected")
        binary, lib = harness(a.build), library()
        with tempfile.TemporaryDirectory() as d:
            work = Path(d)
            x.tofile(work / "x.f32")
            one, runtime = outputs(binary, lib, a.model, work / "x.f32", len(x), 1, work / "b1")
            all_, _ = outputs(binary, lib, a.model, work / "x.f32", len(x), len(x), work / "bn")
    except (RuntimeError, OSError, ValueError, subprocess.CalledProcessError) as e:
        print(f"batch_invariance: {e}", file=sys.stderr)
        return 2
    diff = {k: float(np.abs(one[k] - all_[k]).max()) for k in one}
    result = {"batch_invariant_max_abs": max(diff.values()), "per_output_max_abs": diff, "spectra": int(len(x)),
              "runtime": runtime, "model": str(a.model), "input": str(a.x), "outputs": sorted(one)}
    a.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return 0 if result["batch_invariant_max_abs"] == 0.0 else 1


if __name__ == "__main__":
    sys.exit(main())
