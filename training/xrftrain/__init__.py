"""XrfEdge line-encoder training pipeline (training only; the instrument runs the exported ONNX model from C#)."""

__version__ = "1.0.0"

import os as _os

# On a shared 2-core machine, OpenMP threads that spin while waiting slow torch down ~10× when other processes
# compete for the cores; passive waiting keeps 2 threads useful. Must be set before torch is imported.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
