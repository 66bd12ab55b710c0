import numpy as np
import pytest

from xrftrain.data import DatasetError, load_dataset, random_dataset, save_dataset


def test_load_dataset_valid_set_loads_all_arrays(tmp_path, catalog):
    save_dataset(tmp_path, random_dataset(50, 1, catalog.line_element))
    ds = load_dataset(tmp_path)
    assert len(ds) == 50 and ds.x.shape == (50, 300) and ds.y_lines.shape == (50, 556)


def test_load_dataset_wrong_dtype_error_names_file(tmp_path, catalog):
    save_dataset(tmp_path, random_dataset(10, 1, catalog.line_element))
    np.save(tmp_path / "x.npy", np.zeros((10, 300), np.float64))
    with pytest.raises(DatasetError, match=r"x\.npy: dtype float64, expected float32"):
        load_dataset(tmp_path)


def test_load_dataset_wrong_bin_count_error_names_shape(tmp_path, catalog):
    save_dataset(tmp_path, random_dataset(10, 1, catalog.line_element))
    np.save(tmp_path / "x.npy", np.zeros((10, 256), np.float32))
    with pytest.raises(DatasetError, match=r"shape \(10, 256\), expected \[N,300\]"):
        load_dataset(tmp_path)


def test_load_dataset_row_count_mismatch_is_reported(tmp_path, catalog):
    save_dataset(tmp_path, random_dataset(10, 1, catalog.line_element))
    np.save(tmp_path / "tube_kv.npy", np.zeros(9, np.float32))
    with pytest.raises(DatasetError, match="9 rows, but x.npy has 10"):
        load_dataset(tmp_path)


def test_load_dataset_missing_file_and_foreign_catalog_are_reported(tmp_path, catalog):
    ds = random_dataset(10, 1, catalog.line_element)
    ds.meta["catalog_hash"] = "0" * 64
    save_dataset(tmp_path, ds)
    with pytest.raises(DatasetError, match="catalogue hash"):
        load_dataset(tmp_path, catalog.sha256)
    (tmp_path / "y_lines.npy").unlink()
    with pytest.raises(DatasetError, match=r"y_lines\.npy: missing"):
        load_dataset(tmp_path)


def test_load_dataset_truncated_file_is_reported(tmp_path, catalog):
    save_dataset(tmp_path, random_dataset(10, 1, catalog.line_element))
    raw = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "x.npy").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DatasetError, match=r"x\.npy"):
        load_dataset(tmp_path, mmap=False)
