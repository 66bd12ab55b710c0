"""XrfEdge line-encoder training pipeline (training only; the instrument runs the exported ONNX model from C#)."""

__version__ = "1.0.0"
