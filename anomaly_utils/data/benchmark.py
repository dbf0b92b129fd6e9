"""Loaders for standard anomaly-detection benchmark files (ADBench and ODDS).

Two formats are read:

- ADBench ``.npz`` archives (Han et al., "ADBench: Anomaly Detection
  Benchmark", NeurIPS 2022): NumPy archives with ``X`` (samples x features)
  and ``y`` (1 = anomaly). They are opened without pickle, so an archive that
  stores Python objects is rejected rather than executed.
- ODDS ``.mat`` files (Outlier Detection DataSets, odds.cs.stonybrook.edu):
  MATLAB files with ``X`` and ``y``. Version 5 files are read with
  :func:`scipy.io.loadmat`; version 7.3 files, which are HDF5, with ``h5py``.

Every problem with a file raises :class:`BenchmarkDataError`, whose message
names the file, the problem and the fix.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

#: Environment variable naming the folder of benchmark files, used when no
#: folder is passed to :func:`resolve_benchmark_dir`.
BENCHMARK_DIR_ENV = "ANOMALY_UTILS_BENCHMARK_DIR"
#: File suffixes the loaders read.
BENCHMARK_SUFFIXES = (".npz", ".mat")

_NUMBER_PREFIX = re.compile(r"^\d+_")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_MAX_LISTED = 10


class BenchmarkDataError(ValueError):
    """A benchmark file or folder is missing, unreadable or has invalid content.

    Every message names the file, the problem and how to fix it.
    """


@dataclass(frozen=True)
class BenchmarkDataset:
    """One benchmark dataset: features, labels and where they came from.

    Attributes
    ----------
    name : str
        Lower-case dataset name without ADBench's number prefix, such as
        ``"cardio"`` for ``6_cardio.npz``; the published reference tables use
        the same names.
    X : numpy.ndarray of shape (n_samples, n_features)
        Features as float64, all finite.
    y : numpy.ndarray of shape (n_samples,)
        Labels as int64, 1 = anomaly and 0 = normal; both classes present.
    path : pathlib.Path
        File the data was read from.
    """

    name: str
    X: np.ndarray
    y: np.ndarray
    path: Path

    @property
    def n_anomalies(self) -> int:
        """Number of rows labelled 1."""
        return int(self.y.sum())

    @property
    def anomaly_fraction(self) -> float:
        """Share of rows labelled 1."""
        return float(self.y.mean())


def dataset_name(path: str | os.PathLike) -> str:
    """Return the dataset name of a benchmark file.

    The name is the file stem without ADBench's number prefix, in lower case:
    ``6_cardio.npz`` gives ``"cardio"`` and ``satimage-2.mat`` gives
    ``"satimage-2"``.
    """
    return _NUMBER_PREFIX.sub("", Path(path).stem).lower()


# --------------------------------------------------------------------------
# Folders
# --------------------------------------------------------------------------


def resolve_benchmark_dir(benchmark_dir: str | os.PathLike | None = "") -> Path:
    """Return the folder of benchmark files to use.

    Parameters
    ----------
    benchmark_dir : str or path-like, default=""
        Folder holding ``.npz`` or ``.mat`` files. An empty string or None
        means the folder named by the ``ANOMALY_UTILS_BENCHMARK_DIR``
        environment variable.

    Raises
    ------
    BenchmarkDataError
        If neither the argument nor the environment variable names a folder,
        or the folder does not exist.
    """
    if benchmark_dir:
        folder = Path(benchmark_dir)
        origin = "benchmark_dir"
    else:
        from_env = os.environ.get(BENCHMARK_DIR_ENV, "")
        if not from_env:
            raise BenchmarkDataError(
                "No benchmark folder is configured. Pass benchmark_dir=<folder> "
                f"or set the environment variable {BENCHMARK_DIR_ENV}=<folder>, "
                "where <folder> holds ADBench .npz files (X and y arrays, such "
                "as 6_cardio.npz from the ADBench repository's "
                "datasets/Classical folder) or ODDS .mat files."
            )
        folder = Path(from_env)
        origin = f"the environment variable {BENCHMARK_DIR_ENV}"
    if not folder.is_dir():
        raise BenchmarkDataError(
            f"Benchmark folder {folder} (from {origin}) not found or not a "
            "folder. Point it at a folder of ADBench .npz or ODDS .mat files."
        )
    return folder


def list_benchmark_files(
    folder: str | os.PathLike, datasets: Iterable[str] | None = None
) -> dict[str, Path]:
    """Return the benchmark files of a folder, keyed by dataset name.

    Parameters
    ----------
    folder : str or path-like
        Folder holding ``.npz`` or ``.mat`` files; other files are ignored.
    datasets : iterable of str, default=None
        Dataset names to keep (see :func:`dataset_name`); None keeps all.

    Returns
    -------
    dict of str to pathlib.Path
        Files sorted by dataset name.

    Raises
    ------
    BenchmarkDataError
        If the folder contains no benchmark file, two files give the same
        dataset name, or a requested name has no file.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BenchmarkDataError(
            f"Benchmark folder {folder} not found or not a folder. Pass a folder "
            "of ADBench .npz or ODDS .mat files."
        )
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in BENCHMARK_SUFFIXES or not path.is_file():
            continue
        name = dataset_name(path)
        if name in files:
            raise BenchmarkDataError(
                f"Benchmark folder {folder} has two files for dataset {name!r}: "
                f"{files[name].name} and {path.name}. Keep one of them."
            )
        files[name] = path
    if not files:
        raise BenchmarkDataError(
            f"Benchmark folder {folder} contains no .npz or .mat file. Put "
            "ADBench .npz or ODDS .mat files there."
        )
    files = dict(sorted(files.items()))
    if datasets is None:
        return files
    wanted = list(datasets)
    missing = [name for name in wanted if name not in files]
    if missing:
        raise BenchmarkDataError(
            f"Datasets {missing} not found in {folder}; available datasets: "
            f"{_preview(files)}. Names are lower-case file stems without the "
            "number prefix (6_cardio.npz is 'cardio')."
        )
    return {name: files[name] for name in wanted}


def _preview(names: Iterable[str]) -> str:
    names = list(names)
    shown = ", ".join(names[:_MAX_LISTED])
    if len(names) > _MAX_LISTED:
        shown += f", ... ({len(names)} in total)"
    return shown


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def load_benchmark_file(path: str | os.PathLike) -> BenchmarkDataset:
    """Read and validate an ADBench ``.npz`` or ODDS ``.mat`` file.

    Parameters
    ----------
    path : str or path-like
        File ending in ``.npz`` or ``.mat``.

    Returns
    -------
    BenchmarkDataset
        ``X`` of shape (n_samples, n_features) as float64 and ``y`` of shape
        (n_samples,) as int64 with 1 = anomaly.

    Raises
    ------
    BenchmarkDataError
        If the file is missing, of another type, unreadable, or its ``X`` and
        ``y`` are invalid (see :func:`validate_benchmark_arrays`).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npz":
        return load_adbench_npz(path)
    if suffix == ".mat":
        return load_odds_mat(path)
    raise BenchmarkDataError(
        f"Benchmark file {path} has suffix {path.suffix!r}; the loaders read "
        "ADBench .npz and ODDS .mat files."
    )


def load_adbench_npz(path: str | os.PathLike) -> BenchmarkDataset:
    """Read and validate an ADBench ``.npz`` archive with arrays ``X`` and ``y``.

    The archive is opened with ``allow_pickle=False``: arrays of Python
    objects are rejected, because unpickling can run arbitrary code. Other
    arrays in the archive are ignored.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.

    Returns
    -------
    BenchmarkDataset
        Validated data; see :func:`load_benchmark_file`.
    """
    path = Path(path)
    _check_file(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise _invalid(
            path,
            f"it is not a readable NumPy .npz archive ({error})",
            "Save the data with numpy.savez(path, X=X, y=y).",
        ) from None
    except ValueError:
        # NumPy falls back to unpickling for content that is neither a zip
        # archive nor a .npy array, which allow_pickle=False rejects.
        raise _invalid(
            path,
            "it is neither a .npz archive nor a .npy array (reading it would "
            "need pickle, which is disabled because unpickling can run code)",
            "Save the data with numpy.savez(path, X=X, y=y).",
        ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _invalid(
            path,
            f"it holds a single array of shape {np.shape(archive)}, not an "
            "archive with X and y",
            "Save the data with numpy.savez(path, X=X, y=y).",
        )
    with archive:
        keys = list(archive.files)
        arrays = {}
        for key in ("X", "y"):
            if key not in keys:
                raise _invalid(
                    path,
                    f"array {key!r} is missing; the archive holds {keys}",
                    "Save the data with numpy.savez(path, X=X, y=y), "
                    "features in X and 0/1 labels in y.",
                )
            try:
                arrays[key] = archive[key]
            except ValueError as error:
                if "allow_pickle" not in str(error):
                    raise _invalid(
                        path,
                        f"array {key!r} is damaged ({error})",
                        "Download or write the file again.",
                    ) from None
                raise _invalid(
                    path,
                    f"array {key!r} holds Python objects, which cannot be read "
                    "without pickle",
                    f"Store {key!r} as a numeric array, for example "
                    f"numpy.asarray({key}, dtype=float).",
                ) from None
            except (zipfile.BadZipFile, EOFError, OSError) as error:
                raise _invalid(
                    path,
                    f"array {key!r} is damaged ({error})",
                    "Download or write the file again.",
                ) from None
    X, y = validate_benchmark_arrays(arrays["X"], arrays["y"], source=path)
    return BenchmarkDataset(name=dataset_name(path), X=X, y=y, path=path)


def load_odds_mat(path: str | os.PathLike) -> BenchmarkDataset:
    """Read and validate an ODDS ``.mat`` file with variables ``X`` and ``y``.

    MATLAB version 5 files are read with :func:`scipy.io.loadmat`. Version
    7.3 files are HDF5 and are read with ``h5py``; MATLAB stores them
    column-major, so their arrays are transposed back to samples x features.
    ODDS stores ``y`` as a column vector, which is flattened.

    Parameters
    ----------
    path : str or path-like
        The ``.mat`` file.

    Returns
    -------
    BenchmarkDataset
        Validated data; see :func:`load_benchmark_file`.
    """
    path = Path(path)
    _check_file(path)
    X, y = _read_mat_hdf5(path) if _is_hdf5(path) else _read_mat_v5(path)
    X, y = validate_benchmark_arrays(X, y, source=path)
    return BenchmarkDataset(name=dataset_name(path), X=X, y=y, path=path)


def _is_hdf5(path: Path) -> bool:
    # A v7.3 file starts with a 512-byte MATLAB text header, then the HDF5
    # signature; a plain HDF5 file has the signature at byte 0.
    with open(path, "rb") as handle:
        for offset in (0, 512):
            handle.seek(offset)
            if handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE:
                return True
    return False


def _read_mat_v5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import scipy.io
    import scipy.sparse

    try:
        content = scipy.io.loadmat(path)
    except NotImplementedError:
        # scipy raises this for v7.3 files whose HDF5 signature was not found
        # at the usual offsets.
        return _read_mat_hdf5(path)
    except (ValueError, TypeError, OSError, scipy.io.matlab.MatReadError) as error:
        raise _invalid(
            path,
            f"it is not a readable MATLAB file ({error})",
            "Save it from MATLAB with save(path, 'X', 'y') or from Python with "
            "scipy.io.savemat(path, {'X': X, 'y': y}).",
        ) from None
    arrays = []
    for key in ("X", "y"):
        if key not in content:
            variables = sorted(k for k in content if not k.startswith("__"))
            raise _invalid(
                path,
                f"variable {key!r} is missing; the file holds {variables}",
                "Save features as X and 0/1 labels as y.",
            )
        value = content[key]
        if scipy.sparse.issparse(value):
            value = value.toarray()
        arrays.append(value)
    return arrays[0], arrays[1]


def _read_mat_hdf5(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        import h5py
    except ImportError:
        raise _invalid(
            path,
            "it is a MATLAB v7.3 (HDF5) file and h5py is not installed",
            "Install h5py, or save the file again in MATLAB's v7 format with "
            "save(path, 'X', 'y', '-v7').",
        ) from None
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise _invalid(
            path,
            f"it is not a readable MATLAB v7.3 (HDF5) file ({error})",
            "Download or write the file again.",
        ) from None
    arrays = []
    with handle:
        for key in ("X", "y"):
            node = handle.get(key)
            if not isinstance(node, h5py.Dataset):
                variables = sorted(k for k in handle if not k.startswith("#"))
                problem = (
                    f"variable {key!r} is missing; the file holds {variables}"
                    if node is None
                    else f"variable {key!r} is a sparse matrix or a struct"
                )
                raise _invalid(
                    path,
                    problem,
                    "Save features as a dense matrix X and 0/1 labels as y.",
                )
            # MATLAB writes column-major, so h5py returns the transpose.
            arrays.append(np.asarray(node[()]).T)
    return arrays[0], arrays[1]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise BenchmarkDataError(
            f"Benchmark file {path} not found. Check the path or the benchmark folder."
        )
    if not path.is_file():
        raise _invalid(path, "the path is a folder", "Pass a .npz or .mat file.")
    if path.stat().st_size == 0:
        raise _invalid(
            path, "the file is empty (0 bytes)", "Download or write the file again."
        )


def _invalid(source, problem: str, fix: str) -> BenchmarkDataError:
    return BenchmarkDataError(f"Invalid benchmark file {source}: {problem}. {fix}")


# --------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------


def validate_benchmark_arrays(
    X, y, source: str | os.PathLike = "<arrays>"
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``X`` as finite float64 and ``y`` as 0/1 int64, or raise.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric features (booleans and integers are converted to float64).
    y : array-like of shape (n_samples,) or (n_samples, 1) or (1, n_samples)
        Labels, 1 = anomaly and 0 = normal, as integers, floats or booleans.
        Both classes must be present.
    source : str or path-like, default="<arrays>"
        Name of the file, used in error messages.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features), float64
    y : numpy.ndarray of shape (n_samples,), int64

    Raises
    ------
    BenchmarkDataError
        For any invalid dtype, shape, non-finite value, label value or a
        label array without one of the two classes.
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.dtype.kind not in "biuf":
        raise _invalid(
            source,
            f"X has dtype {X.dtype}, not a numeric type",
            "Encode every feature as a number before saving.",
        )
    if X.ndim != 2:
        raise _invalid(
            source,
            f"X has shape {X.shape}; it must be 2-D (samples x features)",
            "Reshape X to (n_samples, n_features) before saving.",
        )
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise _invalid(
            source,
            f"X has shape {X.shape}, with no samples or no features",
            "Save a non-empty feature matrix.",
        )
    if y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise _invalid(
            source,
            f"y has shape {y.shape}; it must be 1-D with one label per sample",
            "Save y as a vector of 0/1 labels.",
        )
    if y.shape[0] != X.shape[0]:
        raise _invalid(
            source,
            f"X has {X.shape[0]} rows but y has {y.shape[0]} labels",
            "Save one label per row of X.",
        )
    X = X.astype(np.float64)
    if not np.all(np.isfinite(X)):
        bad_rows = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
        raise _invalid(
            source,
            f"X has NaN or infinite values in {bad_rows.size} of {X.shape[0]} "
            f"rows (first rows: {bad_rows[:5].tolist()})",
            "Impute or drop those rows before saving.",
        )
    y = _check_labels(y, source)
    return X, y


def _check_labels(y: np.ndarray, source) -> np.ndarray:
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iuf":
        raise _invalid(
            source,
            f"y has dtype {y.dtype}, not numeric 0/1 labels",
            "Map the labels to 1 = anomaly and 0 = normal before saving.",
        )
    values = np.unique(y)
    unexpected = [v for v in values.tolist() if v not in (0, 1)]
    if unexpected:
        raise _invalid(
            source,
            f"y contains values other than 0 and 1: {unexpected[:_MAX_LISTED]}",
            "Map the labels to 1 = anomaly and 0 = normal before saving.",
        )
    y = y.astype(np.int64)
    counts = np.bincount(y, minlength=2)
    if counts[0] == 0 or counts[1] == 0:
        raise _invalid(
            source,
            f"y contains a single class (normal: {counts[0]}, anomaly: {counts[1]})",
            "A benchmark needs both normal (0) and anomalous (1) samples.",
        )
    return y


def load_benchmark_folder(
    folder: str | os.PathLike, datasets: Sequence[str] | None = None
) -> dict[str, BenchmarkDataset]:
    """Read every benchmark file of a folder (or the named ones).

    Parameters
    ----------
    folder : str or path-like
        Folder of ``.npz`` or ``.mat`` files.
    datasets : sequence of str, default=None
        Dataset names to read; None reads all.

    Returns
    -------
    dict of str to BenchmarkDataset
        Datasets sorted by name, or in the order of ``datasets``.
    """
    files = list_benchmark_files(folder, datasets)
    loaded = {name: load_benchmark_file(path) for name, path in files.items()}
    logger.info("Read %d benchmark datasets from %s", len(loaded), folder)
    return loaded


def smallest_datasets(files: dict[str, Path], count: int) -> list[str]:
    """Return the names of the ``count`` smallest files, smallest first.

    File size stands in for the number of rows, so no file is read. Ties
    are broken by name.

    Parameters
    ----------
    files : dict of str to pathlib.Path
        Output of :func:`list_benchmark_files`.
    count : int
        Number of names to return (fewer when ``files`` is shorter).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    ordered = sorted(files, key=lambda name: (files[name].stat().st_size, name))
    return ordered[:count]


def describe_datasets(datasets: dict[str, BenchmarkDataset]) -> pd.DataFrame:
    """Return one row per dataset: samples, features, anomalies and their share.

    Parameters
    ----------
    datasets : dict of str to BenchmarkDataset
        Output of :func:`load_benchmark_folder`.
    """
    rows = [
        {
            "dataset": name,
            "samples": dataset.X.shape[0],
            "features": dataset.X.shape[1],
            "anomalies": dataset.n_anomalies,
            "anomaly_share": dataset.anomaly_fraction,
            "file": dataset.path.name,
        }
        for name, dataset in datasets.items()
    ]
    return pd.DataFrame(rows).set_index("dataset")
