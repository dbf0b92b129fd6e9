"""Loaders of ADBench .npz and ODDS .mat files: valid files and a table of bad ones."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import scipy.io

from anomaly_utils.data.benchmark import (
    BENCHMARK_DIR_ENV,
    BenchmarkDataError,
    dataset_name,
    describe_datasets,
    list_benchmark_files,
    load_adbench_npz,
    load_benchmark_file,
    load_benchmark_folder,
    load_odds_mat,
    resolve_benchmark_dir,
    smallest_datasets,
    validate_benchmark_arrays,
)


def _valid_arrays(n_samples=40, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    y = np.zeros(n_samples, dtype=np.int64)
    y[:4] = 1
    return X, y


def _write_mat_v73(path, variables):
    """Write a MATLAB v7.3 file: a 512-byte header, then HDF5, column-major."""
    import h5py

    with h5py.File(path, "w", userblock_size=512) as handle:
        for key, value in variables.items():
            # MATLAB stores column-major, so a samples x features matrix
            # appears transposed to HDF5 readers.
            handle.create_dataset(key, data=np.asarray(value).T)
    with open(path, "r+b") as handle:
        handle.write(b"MATLAB 7.3 MAT-file, written by a test".ljust(128, b" "))


# --------------------------------------------------------------------------
# Valid files
# --------------------------------------------------------------------------


def test_npz_valid_file_types(tmp_path):
    X, y = _valid_arrays()
    path = tmp_path / "6_cardio.npz"
    np.savez(path, X=X.astype(np.float32), y=y.astype(np.int32), extra=np.arange(3))
    dataset = load_benchmark_file(path)
    assert dataset.name == "cardio"
    assert dataset.X.dtype == np.float64
    assert dataset.y.dtype == np.int64
    assert dataset.X.shape == (40, 3)
    np.testing.assert_allclose(dataset.X, X.astype(np.float32))
    np.testing.assert_array_equal(dataset.y, y)
    assert dataset.n_anomalies == 4
    assert dataset.anomaly_fraction == pytest.approx(0.1)
    assert dataset.path == path


@pytest.mark.parametrize(
    "labels",
    [
        np.array([True] * 4 + [False] * 36),
        np.array([1.0] * 4 + [0.0] * 36),
        np.array([1] * 4 + [0] * 36, dtype=np.uint8),
    ],
    ids=["bool", "float", "uint8"],
)
def test_npz_label_types_accepted(tmp_path, labels):
    X, _ = _valid_arrays()
    path = tmp_path / "set.npz"
    np.savez(path, X=X, y=labels)
    dataset = load_adbench_npz(path)
    assert dataset.y.dtype == np.int64
    assert dataset.n_anomalies == 4


def test_npz_integer_features_converted(tmp_path):
    _, y = _valid_arrays()
    X = np.arange(80).reshape(40, 2)
    path = tmp_path / "ints.npz"
    np.savez_compressed(path, X=X, y=y)
    dataset = load_adbench_npz(path)
    assert dataset.X.dtype == np.float64
    np.testing.assert_array_equal(dataset.X, X)


def test_mat_v5_column_vector_labels(tmp_path):
    X, y = _valid_arrays()
    path = tmp_path / "glass.mat"
    scipy.io.savemat(path, {"X": X, "y": y.reshape(-1, 1).astype(np.float64)})
    dataset = load_odds_mat(path)
    assert dataset.name == "glass"
    assert dataset.y.shape == (40,)
    np.testing.assert_allclose(dataset.X, X)
    np.testing.assert_array_equal(dataset.y, y)


def test_mat_v5_sparse_features(tmp_path):
    import scipy.sparse

    X, y = _valid_arrays()
    path = tmp_path / "sparse.mat"
    scipy.io.savemat(path, {"X": scipy.sparse.csc_matrix(X), "y": y.reshape(-1, 1)})
    dataset = load_benchmark_file(path)
    np.testing.assert_allclose(dataset.X, X)


def test_mat_v73_hdf5_transposed_back(tmp_path):
    X, y = _valid_arrays(n_samples=30, n_features=5)
    path = tmp_path / "http.mat"
    _write_mat_v73(path, {"X": X, "y": y.reshape(-1, 1).astype(np.float64)})
    dataset = load_benchmark_file(path)
    assert dataset.X.shape == (30, 5)
    np.testing.assert_allclose(dataset.X, X)
    np.testing.assert_array_equal(dataset.y, y)


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("6_cardio.npz", "cardio"),
        ("31_satimage-2.npz", "satimage-2"),
        ("42_WBC.npz", "wbc"),
        ("magic.gamma.npz", "magic.gamma"),
        ("Lympho.mat", "lympho"),
    ],
)
def test_dataset_name_strips_prefix(file_name, expected):
    assert dataset_name(file_name) == expected


# --------------------------------------------------------------------------
# Bad .npz files
# --------------------------------------------------------------------------


def _npz(**arrays):
    def write(path):
        np.savez(path, **arrays)

    return write


def _raw_bytes(content: bytes):
    def write(path):
        path.write_bytes(content)

    return write


def _single_npy(path):
    with open(path, "wb") as handle:
        np.save(handle, np.zeros((3, 2)))


def _truncated_zip(path):
    X, y = _valid_arrays()
    np.savez(path, X=X, y=y)
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _damaged_member(path):
    # A valid archive whose X member has a corrupted .npy header.
    X, y = _valid_arrays()
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"\x93NUMPY garbage that is not a header")
        with archive.open("y.npy", "w") as member:
            np.save(member, y)


X_OK, Y_OK = _valid_arrays()
Y_SINGLE = np.zeros(40, dtype=np.int64)
X_NAN = X_OK.copy()
X_NAN[5, 1] = np.nan
X_INF = X_OK.copy()
X_INF[7, 0] = np.inf
Y_TWO = Y_OK.copy()
Y_TWO[0] = 2
Y_NEG = Y_OK.copy()
Y_NEG[0] = -1
OBJECT_X = np.empty((40, 3), dtype=object)
OBJECT_X[:] = 1.0

BAD_NPZ = [
    ("missing_X", _npz(y=Y_OK), "array 'X' is missing"),
    ("missing_y", _npz(X=X_OK), "array 'y' is missing"),
    ("lowercase_keys", _npz(x=X_OK, Y=Y_OK), "array 'X' is missing"),
    ("X_1d", _npz(X=X_OK[:, 0], y=Y_OK), "X has shape (40,)"),
    ("X_3d", _npz(X=X_OK.reshape(40, 3, 1), y=Y_OK), "must be 2-D"),
    ("y_2_columns", _npz(X=X_OK, y=np.stack([Y_OK, Y_OK], 1)), "y has shape"),
    ("length_mismatch", _npz(X=X_OK, y=Y_OK[:-1]), "40 rows but y has 39"),
    ("no_rows", _npz(X=np.zeros((0, 3)), y=np.zeros(0)), "no samples or no"),
    ("no_features", _npz(X=np.zeros((40, 0)), y=Y_OK), "no samples or no"),
    ("nan", _npz(X=X_NAN, y=Y_OK), "NaN or infinite values in 1 of 40 rows"),
    ("inf", _npz(X=X_INF, y=Y_OK), "first rows: [7]"),
    ("y_value_2", _npz(X=X_OK, y=Y_TWO), "other than 0 and 1: [2]"),
    ("y_value_minus_1", _npz(X=X_OK, y=Y_NEG), "other than 0 and 1: [-1]"),
    ("y_nan", _npz(X=X_OK, y=np.where(Y_OK == 1, np.nan, 0.0)), "other than 0"),
    ("y_single_class", _npz(X=X_OK, y=Y_SINGLE), "single class"),
    ("y_strings", _npz(X=X_OK, y=np.where(Y_OK == 1, "a", "n")), "not numeric"),
    ("X_strings", _npz(X=X_OK.astype(str), y=Y_OK), "not a numeric type"),
    ("X_complex", _npz(X=X_OK + 1j, y=Y_OK), "not a numeric type"),
    ("X_object", _npz(X=OBJECT_X, y=Y_OK), "'X' holds Python objects"),
    ("y_object", _npz(X=X_OK, y=Y_OK.astype(object)), "'y' holds Python"),
    ("empty_file", _raw_bytes(b""), "empty (0 bytes)"),
    ("text_file", _raw_bytes(b"X,y\n1,0\n"), "neither a .npz archive"),
    ("pickle_file", _raw_bytes(b"\x80\x04K\x01."), "neither a .npz archive"),
    ("truncated_zip", _truncated_zip, "not a readable NumPy .npz"),
    ("damaged_member", _damaged_member, "array 'X' is damaged"),
    ("single_npy", _single_npy, "single array of shape (3, 2)"),
]


@pytest.mark.parametrize(
    ("write", "message"),
    [case[1:] for case in BAD_NPZ],
    ids=[case[0] for case in BAD_NPZ],
)
def test_npz_bad_file_rejected(tmp_path, write, message):
    path = tmp_path / "bad.npz"
    write(path)
    with pytest.raises(BenchmarkDataError) as caught:
        load_benchmark_file(path)
    text = str(caught.value)
    assert message in text
    assert str(path) in text


def test_bad_file_error_is_value_error():
    assert issubclass(BenchmarkDataError, ValueError)


def test_missing_file_rejected(tmp_path):
    with pytest.raises(BenchmarkDataError, match="not found"):
        load_benchmark_file(tmp_path / "absent.npz")


def test_folder_as_file_rejected(tmp_path):
    folder = tmp_path / "folder.npz"
    folder.mkdir()
    with pytest.raises(BenchmarkDataError, match="the path is a folder"):
        load_benchmark_file(folder)


def test_unknown_suffix_rejected(tmp_path):
    path = tmp_path / "cardio.csv"
    path.write_text("X,y\n")
    with pytest.raises(BenchmarkDataError, match="suffix '.csv'"):
        load_benchmark_file(path)


# --------------------------------------------------------------------------
# Bad .mat files
# --------------------------------------------------------------------------


def _mat(**variables):
    def write(path):
        scipy.io.savemat(path, variables)

    return write


def _mat_v73(**variables):
    def write(path):
        _write_mat_v73(path, variables)

    return write


def _mat_v73_group(path):
    import h5py

    with h5py.File(path, "w", userblock_size=512) as handle:
        handle.create_dataset("X", data=X_OK.T)
        group = handle.create_group("y")
        group.create_dataset("data", data=Y_OK)


def _damaged_hdf5(path):
    content = bytearray(512) + b"\x89HDF\r\n\x1a\n" + b"\x00" * 40
    path.write_bytes(bytes(content))


BAD_MAT = [
    ("missing_X", _mat(y=Y_OK.reshape(-1, 1)), "variable 'X' is missing"),
    ("missing_y", _mat(X=X_OK), "variable 'y' is missing"),
    ("nan", _mat(X=X_NAN, y=Y_OK.reshape(-1, 1)), "NaN or infinite"),
    ("y_value_2", _mat(X=X_OK, y=Y_TWO.reshape(-1, 1)), "other than 0 and 1"),
    ("length_mismatch", _mat(X=X_OK, y=Y_OK[:30].reshape(-1, 1)), "y has 30"),
    ("y_matrix", _mat(X=X_OK, y=np.ones((40, 2))), "y has shape (40, 2)"),
    ("text_file", _raw_bytes(b"not a MATLAB file at all" * 10), "not a readable"),
    ("empty_file", _raw_bytes(b""), "empty (0 bytes)"),
    ("v73_missing_X", _mat_v73(y=Y_OK.reshape(-1, 1)), "variable 'X' is missing"),
    ("v73_missing_y", _mat_v73(X=X_OK), "variable 'y' is missing"),
    ("v73_y_group", _mat_v73_group, "sparse matrix or a struct"),
    ("v73_damaged", _damaged_hdf5, "not a readable MATLAB v7.3"),
    ("v73_single_class", _mat_v73(X=X_OK, y=Y_SINGLE), "single class"),
]


@pytest.mark.parametrize(
    ("write", "message"),
    [case[1:] for case in BAD_MAT],
    ids=[case[0] for case in BAD_MAT],
)
def test_mat_bad_file_rejected(tmp_path, write, message):
    path = tmp_path / "bad.mat"
    write(path)
    with pytest.raises(BenchmarkDataError) as caught:
        load_benchmark_file(path)
    text = str(caught.value)
    assert message in text
    assert str(path) in text


def test_validate_arrays_names_source():
    with pytest.raises(BenchmarkDataError, match="my-arrays"):
        validate_benchmark_arrays(X_OK, Y_SINGLE, source="my-arrays")


# --------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------


def _folder_with(tmp_path, names):
    X, y = _valid_arrays()
    for name in names:
        path = tmp_path / name
        if name.endswith(".mat"):
            scipy.io.savemat(path, {"X": X, "y": y.reshape(-1, 1)})
        else:
            np.savez(path, X=X, y=y)
    return tmp_path


def test_folder_lists_by_name(tmp_path):
    folder = _folder_with(tmp_path, ["6_cardio.npz", "14_glass.npz", "wbc.mat"])
    (folder / "README.md").write_text("ignored")
    files = list_benchmark_files(folder)
    assert list(files) == ["cardio", "glass", "wbc"]
    assert files["glass"].name == "14_glass.npz"


def test_folder_selects_in_given_order(tmp_path):
    folder = _folder_with(tmp_path, ["6_cardio.npz", "14_glass.npz", "wbc.mat"])
    loaded = load_benchmark_folder(folder, ["wbc", "cardio"])
    assert list(loaded) == ["wbc", "cardio"]
    assert loaded["wbc"].X.shape == (40, 3)


def test_folder_unknown_dataset_rejected(tmp_path):
    folder = _folder_with(tmp_path, ["6_cardio.npz"])
    with pytest.raises(BenchmarkDataError, match=r"\['letter'\] not found.*cardio"):
        list_benchmark_files(folder, ["letter"])


def test_folder_duplicate_name_rejected(tmp_path):
    folder = _folder_with(tmp_path, ["6_cardio.npz", "cardio.mat"])
    with pytest.raises(BenchmarkDataError, match="two files for dataset 'cardio'"):
        list_benchmark_files(folder)


def test_folder_without_files_rejected(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(BenchmarkDataError, match="no .npz or .mat file"):
        list_benchmark_files(tmp_path)


def test_folder_missing_rejected(tmp_path):
    with pytest.raises(BenchmarkDataError, match="not found or not a folder"):
        list_benchmark_files(tmp_path / "absent")


def test_smallest_datasets_by_file_size(tmp_path):
    folder = _folder_with(tmp_path, ["6_cardio.npz", "14_glass.npz"])
    X, y = _valid_arrays(n_samples=400)
    np.savez(folder / "big.npz", X=X, y=y)
    files = list_benchmark_files(folder)
    # cardio and glass have the same size, so the name breaks the tie.
    assert smallest_datasets(files, 2) == ["cardio", "glass"]
    assert smallest_datasets(files, 5) == ["cardio", "glass", "big"]


@pytest.mark.parametrize("count", [0, -1, 1.5, True])
def test_smallest_datasets_bad_count(tmp_path, count):
    files = list_benchmark_files(_folder_with(tmp_path, ["6_cardio.npz"]))
    with pytest.raises(ValueError, match="positive integer"):
        smallest_datasets(files, count)


def test_describe_datasets_counts(tmp_path):
    folder = _folder_with(tmp_path, ["6_cardio.npz"])
    table = describe_datasets(load_benchmark_folder(folder))
    assert table.loc["cardio", "samples"] == 40
    assert table.loc["cardio", "features"] == 3
    assert table.loc["cardio", "anomalies"] == 4
    assert table.loc["cardio", "anomaly_share"] == pytest.approx(0.1)
    assert table.loc["cardio", "file"] == "6_cardio.npz"


def test_resolve_dir_unset_explains(monkeypatch):
    monkeypatch.delenv(BENCHMARK_DIR_ENV, raising=False)
    with pytest.raises(BenchmarkDataError) as caught:
        resolve_benchmark_dir("")
    text = str(caught.value)
    assert BENCHMARK_DIR_ENV in text
    assert "benchmark_dir=" in text


def test_resolve_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(BENCHMARK_DIR_ENV, str(tmp_path))
    assert resolve_benchmark_dir("") == tmp_path
    assert resolve_benchmark_dir(None) == tmp_path


def test_resolve_dir_argument_wins(monkeypatch, tmp_path):
    monkeypatch.setenv(BENCHMARK_DIR_ENV, str(tmp_path / "elsewhere"))
    assert resolve_benchmark_dir(tmp_path) == tmp_path


def test_resolve_dir_missing_names_origin(monkeypatch, tmp_path):
    monkeypatch.setenv(BENCHMARK_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(BenchmarkDataError, match="from the environment variable"):
        resolve_benchmark_dir("")


# --------------------------------------------------------------------------
# Real files
# --------------------------------------------------------------------------


@pytest.mark.realdata
def test_shared_adbench_files_load(shared_data_dir):
    folder = shared_data_dir / "adbench"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    datasets = load_benchmark_folder(folder)
    assert len(datasets) == len(list(folder.glob("*.npz")))
    for name, dataset in datasets.items():
        assert dataset.X.ndim == 2, name
        assert dataset.X.shape[0] == dataset.y.shape[0], name
        assert 0 < dataset.n_anomalies < dataset.y.size, name
