#!/usr/bin/python3
"""The shipped model on the instruments' CPU architecture: ONNX Runtime's linux-arm64 library (the one the build
ships in runtimes/linux-arm64/native/) run under qemu-aarch64, against the linux-x64 library, on the same inputs.

What it answers: does the instrument (Raspberry Pi 4 = Cortex-A72, no int8 dot product; Raspberry Pi 5 = Cortex-A76
and Jetson Orin = Cortex-A78AE, with it) report the same lines and elements as this x64 build machine, and is it
batch-invariant there too? It says nothing about speed: qemu emulates the CPU (docs/PERFORMANCE.md).

How:
- scripts/arm64/ort_run.c (ONNX Runtime's C API, the binding's session settings) is built with gcc and with
  aarch64-linux-gnu-gcc into .build/arm64/.
- Inputs: `xrfedge synth --format npy` spectra of each profile plus the real spectra under validation/spectra/
  (`xrfedge rebin --json`, scaled down to the card's count range as the identifier does above it).
- x64 runs natively; arm64 runs as `qemu-aarch64 -cpu <model>` inside a private mount namespace whose /proc/cpuinfo
  is that CPU's (qemu-user shows the host's x86 /proc/cpuinfo, on which ONNX Runtime's cpuinfo crashes at load).
- Compared: arm64 batch 1 against one batch of all (int8 must match bit for bit, as on x64; fp32 within 1e-5), and
  arm64 against x64 at batch 1: largest difference, and how many line and element decisions at the card's
  thresholds (probability >= threshold: the comparison the Decoder makes) differ.

Pass: every check above holds and at most 1 in 1,000 (spectrum, output) decisions differs from x64 for each model
and CPU. Exit status 0 on pass, 1 on a failed check, 2 when it cannot run (a missing tool names its package).

Usage: /usr/bin/python3 scripts/arm64/check_arm64.py [--per-profile N] [--seed S] [--cpus cortex-a72,cortex-a76]
                                                     [--no-fp32] [--models DIR] [--json]
Needs: gcc, gcc-aarch64-linux-gnu, qemu-user, util-linux's unshare (scripts/install-deps.sh installs them), and the
ONNX Runtime libraries that scripts/fetch-onnxruntime.sh pins and caches (it is run here; it fetches once).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
PROFILES = ("randomized", "handheld-sdd", "handheld-pin", "benchtop", "macro-xrf")
REAL_SETS = ("validation/spectra/pixl-bb-rh28kv-glasses", "validation/spectra/xgt7200-rh50kv-geo-crms")
OUTPUTS = ("line_probabilities", "element_probabilities")
WIDTH = 300
MAX_FLIP_RATE = 1e-3  # the rule, set before the first full run: at most 1 decision in 1,000 may differ from x64
FP32_BATCH_TOLERANCE = 1e-5  # fp32 batch 1 vs all: 1.8e-7 measured on x64 (float summation order); 50x that margin


@dataclass(frozen=True)
class Cpu:
    """A qemu CPU model and the /proc/cpuinfo of the matching real core (implementer ARM, part, variant, revision,
    the Features line the Linux kernel prints for it)."""

    part: str
    variant: str
    revision: int
    features: str

    def cpuinfo(self, cores: int = 2) -> str:
        block = (
            "processor\t: {i}\nBogoMIPS\t: 108.00\nFeatures\t: {f}\nCPU implementer\t: 0x41\nCPU architecture: 8\n"
            "CPU variant\t: {v}\nCPU part\t: {p}\nCPU revision\t: {r}\n\n"
        )
        return "".join(block.format(i=i, f=self.features, v=self.variant, p=self.part, r=self.revision) for i in range(cores))


CPUS = {
    # Raspberry Pi 4: no dot-product instructions, so ONNX Runtime's plain NEON int8 kernels.
    "cortex-a72": Cpu("0xd08", "0x0", 3, "fp asimd evtstrm crc32 cpuid"),
    # Raspberry Pi 5 (and, by its instruction set, Jetson Orin's A78AE): SDOT/UDOT int8 kernels.
    "cortex-a76": Cpu("0xd0b", "0x4", 1, "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid "
                                        "asimdrdm lrcpc dcpop asimddp"),
}


class CannotRun(Exception):
    """A tool or file the check needs is missing (exit status 2)."""


def need(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise CannotRun(f"'{tool}' not found: install Debian's {package} (scripts/install-deps.sh does)")
    return path


def build_harness(out: Path) -> dict[str, Path]:
    source = ROOT / "scripts/arm64/ort_run.c"
    out.mkdir(parents=True, exist_ok=True)
    binaries = {}
    for arch, cc, package in (("x64", "gcc", "gcc"), ("arm64", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")):
        binary = out / f"ort_run.{arch}"
        if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
            r = subprocess.run([need(cc, package), "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(binary), str(source),
                                "-ldl"], capture_output=True, text=True)
            if r.returncode != 0:
                raise CannotRun(f"{cc} could not build {source}: {r.stderr.strip()[-800:]}")
        binaries[arch] = binary
    return binaries


def runtime_libraries() -> dict[str, Path]:
    """The pinned linux-x64 and linux-arm64 libraries, fetched by the build's own script (it prints their folder)."""
    r = subprocess.run(["bash", str(ROOT / "scripts/fetch-onnxruntime.sh")], capture_output=True, text=True)
    if r.returncode != 0:
        raise CannotRun(f"scripts/fetch-onnxruntime.sh failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    folder = Path(r.stdout.strip().splitlines()[-1])
    return {arch: folder / rid / "libonnxruntime.so.1" for arch, rid in (("x64", "linux-x64"), ("arm64", "linux-arm64"))}


def xrfedge(*args: str) -> str:
    """Runs the CLI (the launcher builds it when sources changed) and returns its stdout."""
    r = subprocess.run([str(ROOT / "xrfedge"), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise CannotRun(f"xrfedge {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    return r.stdout


def synthetic_inputs(per_profile: int, seed: int, work: Path) -> np.ndarray:
    rows = []
    for i, profile in enumerate(PROFILES):
        out = work / f"synth-{profile}"
        xrfedge("synth", "--profile", profile, "--count", str(per_profile), "--seed", str(seed + i), "--format", "npy",
                "--out", str(out))
        x = np.load(out / "x.npy").astype(np.float32)
        if x.shape != (per_profile, WIDTH):
            raise CannotRun(f"{out / 'x.npy'} has shape {x.shape}, ({per_profile}, {WIDTH}) expected")
        rows.append(x)
    return np.concatenate(rows)


def real_inputs(high_total: float) -> np.ndarray:
    rows = []
    for folder in REAL_SETS:
        for path in sorted((ROOT / folder).glob("*.msa")):
            for line in xrfedge("rebin", "--json", "--input", str(path)).splitlines():
                spectrum = json.loads(line)
                x = np.asarray(spectrum["counts"], dtype=np.float32)
                total = float(x.astype(np.float64).sum())
                if total > high_total:  # SpectrumIdentifier.CheckCounts, CountRangePolicy.ScaleDown
                    x = x * np.float32(high_total / total)
                rows.append(x)
    if not rows:
        raise CannotRun(f"no .msa spectra under {', '.join(REAL_SETS)}")
    return np.stack(rows).astype(np.float32)


def run(command: list[str], binary: Path, lib: Path, model: Path, x_file: Path, n: int, batch: int,
        prefix: Path) -> tuple[dict[str, np.ndarray], str]:
    """The outputs of one harness run and the runtime version it reports."""
    r = subprocess.run(command + [str(binary), str(lib), str(model), str(x_file), str(n), str(batch), str(prefix)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise CannotRun(f"{' '.join(command[:4])} {binary.name} failed ({r.returncode}): {r.stderr.strip()[-800:]}")
    info = json.loads(r.stdout.strip().splitlines()[-1])
    return {k: np.fromfile(f"{prefix}.{k}.f32", np.float32).reshape(n, info["outputs"][k]) for k in OUTPUTS}, info["runtime"]


def qemu_command(cpu: str, cpuinfo: Path) -> list[str]:
    """qemu-aarch64 for `cpu` in a private mount namespace that shows `cpuinfo` as /proc/cpuinfo."""
    qemu = need("qemu-aarch64", "qemu-user")
    unshare = need("unshare", "util-linux")
    sysroot = Path("/usr/aarch64-linux-gnu")
    if not (sysroot / "lib/ld-linux-aarch64.so.1").exists():
        raise CannotRun(f"{sysroot} has no arm64 C library: install Debian's libc6-dev-arm64-cross")
    namespace = [unshare, "--mount"] if os.geteuid() == 0 else [unshare, "--map-root-user", "--mount"]
    script = 'mount --bind "$0" /proc/cpuinfo && exec "$@"'
    return namespace + ["sh", "-c", script, str(cpuinfo), qemu, "-cpu", cpu, "-L", str(sysroot)]


def compare(reference: dict[str, np.ndarray], other: dict[str, np.ndarray], thresholds: dict[str, np.ndarray],
            rows: slice | None = None) -> dict[str, dict[str, float]]:
    """Per output: largest and mean |difference|, outputs that differ at all, decisions (p >= threshold) that differ."""
    result = {}
    for k in OUTPUTS:
        a, b = reference[k], other[k]
        if rows is not None:
            a, b = a[rows], b[rows]
        d = np.abs(a.astype(np.float64) - b.astype(np.float64))
        flips = int(((a >= thresholds[k]) != (b >= thresholds[k])).sum())
        result[k] = {"max_abs": float(d.max()), "mean_abs": float(d.mean()), "outputs_differing": int((d > 0).sum()),
                     "decisions": int(a.size), "decision_flips": flips, "flip_rate": flips / a.size}
    return result


def verdicts(report: dict) -> list[str]:
    """The failed checks of a report (empty = pass)."""
    failed = []
    for model, per_cpu in report["models"].items():
        batch_tolerance = 0.0 if model == "int8" else FP32_BATCH_TOLERANCE
        for cpu, r in per_cpu.items():
            for k in OUTPUTS:
                if r["batch_invariance_max_abs"][k] > batch_tolerance:
                    failed.append(f"{model} {cpu} {k}: batch 1 vs batch {report['spectra']} differ by "
                                  f"{r['batch_invariance_max_abs'][k]:.3g} (allowed {batch_tolerance:g})")
                flips = r["vs_x64"]["all"][k]
                if flips["flip_rate"] > MAX_FLIP_RATE:
                    failed.append(f"{model} {cpu} {k}: {flips['decision_flips']} of {flips['decisions']} decisions "
                                  f"differ from x64 (allowed {MAX_FLIP_RATE:g} of them)")
    return failed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--per-profile", type=int, default=400, help="synthetic spectra per generator profile (default 400)")
    p.add_argument("--seed", type=int, default=8008, help="first synth seed; profile i uses seed + i (default 8008)")
    p.add_argument("--cpus", default="cortex-a72,cortex-a76", help=f"qemu CPU models, of {', '.join(CPUS)}")
    p.add_argument("--no-fp32", action="store_true", help="check only the int8 model (the fp32 one is slow under qemu)")
    p.add_argument("--models", type=Path, default=ROOT / "models", help="folder with the card and both .onnx files")
    p.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    args = p.parse_args(argv)
    try:
        cpus = [c.strip() for c in args.cpus.split(",") if c.strip()]
        unknown = [c for c in cpus if c not in CPUS]
        if unknown or not cpus:
            raise CannotRun(f"--cpus: unknown CPU model(s) {unknown or '(none)'}; known: {', '.join(CPUS)}")
        card_file = args.models / "xrf-line-encoder.card.json"
        if not card_file.is_file():
            raise CannotRun(f"{card_file} is missing: --models must name a folder with the card and both .onnx files")
        card = json.loads(card_file.read_text())
        thresholds = {"line_probabilities": np.asarray(card["thresholds"]["lines"], np.float32),
                      "element_probabilities": np.asarray(card["thresholds"]["elements"], np.float32)}
        models = {"int8": args.models / "xrf-line-encoder.int8.onnx"}
        if not args.no_fp32:
            models["fp32"] = args.models / "xrf-line-encoder.fp32.onnx"
        for model in models.values():
            if not model.is_file():
                raise CannotRun(f"{model} is missing")
        binaries = build_harness(ROOT / ".build/arm64")
        libs = runtime_libraries()
        with tempfile.TemporaryDirectory(prefix="xrfedge-arm64.") as d:
            work = Path(d)
            xs = synthetic_inputs(args.per_profile, args.seed, work)
            xr = real_inputs(float(card["count_range"]["high_total"]))
            x = np.concatenate([xs, xr])
            n, n_synth = len(x), len(xs)
            x_file = work / "x.f32"
            x.tofile(x_file)
            report = {"runtime": {}, "spectra": n, "synthetic": n_synth, "real": len(xr),
                      "profiles": list(PROFILES), "seed": args.seed, "per_profile": args.per_profile, "models": {}}
            for model_name, model in models.items():
                reference, report["runtime"]["x64"] = run([], binaries["x64"], libs["x64"], model, x_file, n, 1,
                                                          work / f"{model_name}.x64.b1")
                per_cpu = {}
                for cpu in cpus:
                    cpuinfo = work / f"cpuinfo.{cpu}"
                    cpuinfo.write_text(CPUS[cpu].cpuinfo())
                    qemu = qemu_command(cpu, cpuinfo)
                    one, report["runtime"]["arm64"] = run(qemu, binaries["arm64"], libs["arm64"], model, x_file, n, 1,
                                                          work / f"{model_name}.{cpu}.b1")
                    alls, _ = run(qemu, binaries["arm64"], libs["arm64"], model, x_file, n, n, work / f"{model_name}.{cpu}.bn")
                    per_cpu[cpu] = {
                        "batch_invariance_max_abs": {k: float(np.abs(one[k] - alls[k]).max()) for k in OUTPUTS},
                        "vs_x64": {"all": compare(reference, one, thresholds),
                                   "synthetic": compare(reference, one, thresholds, slice(0, n_synth)),
                                   "real": compare(reference, one, thresholds, slice(n_synth, n))},
                    }
                report["models"][model_name] = per_cpu
    except CannotRun as e:
        print(f"check_arm64: cannot run: {e}", file=sys.stderr)
        return 2
    report["failed"] = verdicts(report)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(f"ONNX Runtime {report['runtime']['arm64']} linux-arm64 (qemu) against {report['runtime']['x64']} linux-x64, batch 1; {n} spectra: "
              f"{n_synth} synthetic ({args.per_profile} per profile, seeds {args.seed}–{args.seed + len(PROFILES) - 1}), "
              f"{len(xr)} real (validation/spectra)")
        print("| model | CPU | output | batch 1 vs all, max abs | vs x64: max abs | outputs differing | "
              "decisions differing (synthetic / real) |")
        print("|---|---|---|---|---|---|---|")
        for model_name, per_cpu in report["models"].items():
            for cpu, r in per_cpu.items():
                for k in OUTPUTS:
                    a, s, rr = r["vs_x64"]["all"][k], r["vs_x64"]["synthetic"][k], r["vs_x64"]["real"][k]
                    print(f"| {model_name} | {cpu} | {k} | {r['batch_invariance_max_abs'][k]:.3g} | {a['max_abs']:.3g} | "
                          f"{a['outputs_differing']} of {a['decisions']} | {s['decision_flips']} / {rr['decision_flips']} |")
        print("pass" if not report["failed"] else "FAILED:\n  " + "\n  ".join(report["failed"]))
    return 0 if not report["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
