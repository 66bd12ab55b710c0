import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from xrftrain.catalog import load_catalog  # noqa: E402
from xrftrain.data import random_dataset, save_dataset  # noqa: E402


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture(scope="session")
def random_sets(tmp_path_factory, catalog):
    """Toy train/val/test sets in the contract's shapes (different seeds), written as the synth verb would."""
    root = tmp_path_factory.mktemp("data")
    for name, n, seed in (("train", 3000, 11), ("val", 800, 12), ("test-randomized", 600, 13)):
        ds = random_dataset(n, seed, catalog.line_element)
        ds.meta["catalog_hash"] = catalog.sha256
        save_dataset(root / name, ds)
    return root


@pytest.fixture(scope="session")
def rng():
    return np.random.default_rng(20261121)
