"""What would a narrower network cost at batch 1? Writes untrained int8 models of given hidden widths, each with
the shipped input transform, element head and quantisation, plus a copy of the shipped card (file hashes updated,
version marked as a probe) so that `xrfedge bench --model` and the bench project's `ab` probe accept them. Timing
depends on the shapes, not on the weights, so no training is needed (docs/PERFORMANCE.md).

Usage (from training/): /usr/bin/python3 tools/width_probe.py OUT_DIR VAL_DIR WIDTHS...
  WIDTHS like 768x768 512x768 512x512; VAL_DIR an npy set whose first 1,000 spectra calibrate the activations.
Then: dotnet run -c Release --project bench/XrfEdge.Bench -- ab 41 OUT_DIR/768x768/xrf-line-encoder.int8.onnx …
These models are untrained: never load one for identification.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xrftrain import export, quantize  # noqa: E402
from xrftrain.card import CARD_FILE, FP32_FILE, INT8_FILE, sha256_file  # noqa: E402
from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import load_dataset  # noqa: E402
from xrftrain.model import LineEncoder, ModelConfig  # noqa: E402

SHIPPED = Path(__file__).resolve().parents[2] / "models"


def main(out_root: Path, val_dir: Path, widths: list[str]) -> None:
    cat = load_catalog()
    calib = load_dataset(val_dir, cat.sha256).subset(slice(0, 1000)).x
    card = json.loads((SHIPPED / CARD_FILE).read_text(encoding="utf-8"))
    shipped = card["training"]["hyper_parameters"]["model"]
    torch.manual_seed(0)
    for spec in widths:
        hidden = [int(h) for h in spec.split("x")]
        out = out_root / spec
        out.mkdir(parents=True, exist_ok=True)
        model = LineEncoder(ModelConfig(transform=shipped["transform"], hidden=hidden,
                                        element_head=shipped["element_head"], dropout=shipped["dropout"])).eval()
        fp32 = export.build_fp32(model, {"catalog_hash": cat.sha256, "preprocessing": card["preprocessing"],
                                         "producer": "width probe (untrained)"})
        export.save(fp32, out / FP32_FILE)
        export.save(quantize.quantize(fp32, calib), out / INT8_FILE)
        probe = json.loads(json.dumps(card))
        probe["version"] = f"0.0.0-untrained-{spec}"
        probe["files"]["int8"]["sha256"] = sha256_file(out / INT8_FILE)
        probe["files"]["fp32"]["sha256"] = sha256_file(out / FP32_FILE)
        (out / CARD_FILE).write_text(json.dumps(probe), encoding="utf-8")
        print(f"{spec}: {out / INT8_FILE} ({(out / INT8_FILE).stat().st_size:,} bytes)")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
