"""Benchmark grid: every (dataset, detector, seed) cell in the ADBench protocol.

Protocol of one cell, the semi-supervised setting of ADBench (Han et al.,
NeurIPS 2022) as rerun in the DTE paper (Livernoche et al., ICLR 2024):

1. Datasets above ``max_rows`` rows (50,000 by default) are subsampled to
   ``max_rows`` rows, uniformly at random.
2. A random half of the normal points is the training set; the other normal
   points and all anomalies form the test set.
3. A ``StandardScaler`` is fitted on the training rows and applied to both.
4. The detector is fitted on the training rows without labels, then the
   test rows are scored; ROC-AUC and average precision are recorded with the
   fit and score times.

Each finished cell is written at once to its own small CSV file in a cells
folder, through a temporary file and a rename. A rerun reads the cells that
are already there and computes only the missing ones. A cell file that cannot
be read or fails the checks is computed again. Cells run through joblib,
either in local processes (``backend="loky"``) or on a Dask cluster
(``backend="dask"`` with a scheduler address). The split and the detector
seed of a cell depend only on its dataset name and seed, so both backends
give identical metrics.

NOTE: the SGD One-Class SVM is the exception seen so far. On a full run of
the 19 ODDS datasets of ADBench with 5 seeds, 5 of its 190 metric values
(optdigits and vowels) differed between loky and Dask workers by at most
3e-5; SGD amplifies last-bit differences whose source in the Dask workers
was not found. Every other detector gave bit-identical metrics.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .evaluation import RECORD_COLUMNS, _atomic_write, ranking_metrics
from .models import available_detectors, detector_class, make_detector

logger = logging.getLogger(__name__)

#: Notebook stem of the benchmark records.
NOTEBOOK = "06_real_benchmark"
#: Metrics recorded for every cell, in file order.
GRID_METRICS = ("roc_auc", "average_precision")
#: Execution backends of :func:`run_grid`.
BACKENDS = ("loky", "dask")
#: Row cap of the protocol: larger datasets are subsampled to this many rows.
DEFAULT_MAX_ROWS = 50_000
#: Share of the normal points used for training.
TRAIN_FRACTION = 0.5
#: Supervision of every cell: detectors are fitted on normal points only,
#: without labels.
SETTING = "semi-supervised"
#: Detectors that learn only from labelled anomalies. The protocol's training
#: set contains normal points only, so they cannot be fitted in this grid.
NEEDS_ANOMALY_LABELS = ("mlp",)

#: Hyperparameters the published reference used: PyOD's defaults, run
#: through ADBench (PyOD ``IForest``: 100 trees with ``max_samples="auto"``;
#: ``LOF``: 20 neighbours; ``OCSVM``: RBF kernel, ``nu=0.5`` and
#: ``gamma="auto"``, which is 1 / n_features). PyOD's detectors fit on every
#: training row, so the row caps of this suite's LOF and One-Class SVM are
#: lifted. Detectors not listed use their own defaults.
REFERENCE_HYPERPARAMETERS = {
    "isolation_forest": {"n_estimators": 100, "max_samples": "auto"},
    "lof": {"n_neighbors": 20, "max_train_samples": None},
    "ocsvm": {"nu": 0.5, "gamma": "auto", "max_train_samples": None},
}

# Bump when the protocol changes, so that old cell files are not reused.
_PROTOCOL_VERSION = 1


@dataclass(frozen=True)
class GridCell:
    """One unit of work of the grid: a detector on a dataset with one seed."""

    dataset: str
    model: str
    seed: int

    def file_name(self, digest: str) -> str:
        """Return the cell's file name for the settings fingerprint ``digest``."""
        return f"{self.dataset}__{self.model}__seed{self.seed}__{digest}.csv"


@dataclass
class GridResult:
    """Outcome of :func:`run_grid`.

    Attributes
    ----------
    records : pandas.DataFrame
        Tidy records in the schema ``anomaly_utils.evaluation.RECORD_COLUMNS``,
        one row per (dataset, model, seed, metric), sorted in that order.
    n_computed : int
        Cells computed in this run.
    n_reused : int
        Cells read back from earlier runs.
    wall_seconds : float
        Wall time of the run, reading and writing included.
    """

    records: pd.DataFrame
    n_computed: int
    n_reused: int
    wall_seconds: float


# --------------------------------------------------------------------------
# Protocol
# --------------------------------------------------------------------------


def cell_seeds(dataset: str, seed: int) -> tuple[int, int]:
    """Return the (split seed, detector seed) of a cell.

    Both depend only on the dataset name and the seed, not on the detector,
    the process or the backend, so every detector of a (dataset, seed) pair
    gets the same split. CRC-32 is used because Python's ``hash`` of a
    string changes between processes.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    sequence = np.random.SeedSequence([int(seed), zlib.crc32(dataset.encode())])
    split_seed, model_seed = sequence.generate_state(2)
    return int(split_seed), int(model_seed) % (2**31 - 1)


def semi_supervised_split(
    X,
    y,
    random_state: int,
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    train_fraction: float = TRAIN_FRACTION,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split a dataset as the semi-supervised ADBench protocol does, then scale.

    Parameters
    ----------
    X : numpy.ndarray of shape (n_samples, n_features)
        Features.
    y : numpy.ndarray of shape (n_samples,)
        Labels, 1 = anomaly.
    random_state : int
        Seed of the subsample and of the choice of training rows.
    max_rows : int or None, default=50_000
        Datasets with more rows are subsampled to this many rows first,
        uniformly at random; None keeps every row.
    train_fraction : float in (0, 1), default=0.5
        Share of the normal points used for training.

    Returns
    -------
    X_train : numpy.ndarray of shape (n_train, n_features)
        Scaled normal training rows.
    X_test : numpy.ndarray of shape (n_test, n_features)
        Scaled test rows: the other normal points and all anomalies, in
        their original order.
    y_test : numpy.ndarray of shape (n_test,)
        Test labels, 1 = anomaly.
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction!r}")
    if max_rows is not None and max_rows < 2:
        raise ValueError(f"max_rows must be at least 2 or None, got {max_rows!r}")
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    if max_rows is not None and X.shape[0] > max_rows:
        rows = np.sort(rng.choice(X.shape[0], max_rows, replace=False))
        X, y = X[rows], y[rows]
    normal = np.flatnonzero(y == 0)
    n_train = int(round(train_fraction * normal.size))
    if n_train < 2 or n_train == normal.size:
        raise ValueError(
            f"the dataset has {normal.size} normal points, too few to train on "
            f"{train_fraction:.0%} of them and test on the rest"
        )
    train_rows = np.sort(rng.choice(normal, n_train, replace=False))
    is_test = np.ones(y.size, dtype=bool)
    is_test[train_rows] = False

    scaler = StandardScaler().fit(X[train_rows])
    X_train = scaler.transform(X[train_rows])
    X_test = scaler.transform(X[is_test])
    return X_train, X_test, y[is_test]


def run_cell(
    cell: GridCell,
    X,
    y,
    params: Mapping | None = None,
    *,
    max_rows: int | None = DEFAULT_MAX_ROWS,
) -> dict[str, float]:
    """Fit and score one detector on one dataset and seed.

    Parameters
    ----------
    cell : GridCell
        Dataset name, registry name of the detector and seed.
    X, y : numpy.ndarray
        Features of shape (n_samples, n_features) and labels of shape
        (n_samples,), 1 = anomaly.
    params : mapping, default=None
        Constructor parameters of the detector. ``random_state`` is set to
        the cell's detector seed when the detector takes one.
    max_rows : int or None, default=50_000
        Row cap; see :func:`semi_supervised_split`.

    Returns
    -------
    dict of str to float
        ``roc_auc``, ``average_precision`` (scores are higher for more
        anomalous rows), ``fit_seconds`` and ``score_seconds``.

    Notes
    -----
    The fit and the scoring run with BLAS and OpenMP limited to one thread,
    so the metrics do not depend on the process or machine load. TensorFlow
    keeps its own thread pool, which op determinism makes repeatable.
    """
    split_seed, model_seed = cell_seeds(cell.dataset, cell.seed)
    X_train, X_test, y_test = semi_supervised_split(X, y, split_seed, max_rows=max_rows)
    params = dict(params or {})
    if "random_state" in detector_class(cell.model)._get_param_names():
        params["random_state"] = model_seed
    detector = make_detector(cell.model, **params)

    # BLAS and OpenMP sum in an order that depends on their thread count, so
    # one thread per cell gives the same floats in every process and backend.
    # Parallelism comes from running cells at once.
    with threadpool_limits(limits=1):
        start = time.perf_counter()
        # No labels: every training row is normal, and label-using detectors
        # such as the DQL run in their unsupervised mode.
        detector.fit(X_train)
        fit_seconds = time.perf_counter() - start

        start = time.perf_counter()
        scores = detector.score_samples(X_test)
        score_seconds = time.perf_counter() - start

    metrics = ranking_metrics(y_test, scores)
    result = {name: metrics[name] for name in GRID_METRICS}
    result["fit_seconds"] = fit_seconds
    result["score_seconds"] = score_seconds
    return result


def _run_cell_task(cell, X, y, params, max_rows):
    """Run one cell in a worker; failures name the cell."""
    try:
        return cell, run_cell(cell, X, y, params, max_rows=max_rows)
    except Exception as error:
        raise RuntimeError(
            f"Benchmark cell {cell.model} on {cell.dataset} (seed {cell.seed}) "
            f"failed: {type(error).__name__}: {error}"
        ) from error


# --------------------------------------------------------------------------
# Cell files
# --------------------------------------------------------------------------


def settings_digest(model: str, params: Mapping, max_rows: int | None) -> str:
    """Return a short fingerprint of everything that changes a cell's result.

    It covers the protocol version, the detector, its parameters and the
    row cap, so cells computed with other settings are not reused.
    """
    payload = json.dumps(
        {
            "protocol": _PROTOCOL_VERSION,
            "train_fraction": TRAIN_FRACTION,
            "model": model,
            "params": dict(params),
            "max_rows": max_rows,
        },
        sort_keys=True,
        default=repr,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def cell_records(
    cell: GridCell,
    result: Mapping[str, float],
    notebook: str = NOTEBOOK,
    profile: str = "full",
) -> pd.DataFrame:
    """Return the records of one cell, one row per metric."""
    rows = [
        {
            "notebook": notebook,
            "profile": profile,
            "dataset": cell.dataset,
            "data_source": "real",
            "model": cell.model,
            "setting": SETTING,
            "seed": int(cell.seed),
            "metric": metric,
            "value": float(result[metric]),
            "fit_seconds": float(result["fit_seconds"]),
            "score_seconds": float(result["score_seconds"]),
        }
        for metric in GRID_METRICS
    ]
    return pd.DataFrame(rows, columns=list(RECORD_COLUMNS))


def write_cell(path: Path, records: pd.DataFrame) -> None:
    """Write a cell's records atomically (temporary file, then rename).

    Floats are written in full precision, so a cell read back equals the
    cell computed.
    """
    _atomic_write(path, lambda handle: records.to_csv(handle, index=False))


def read_cell(path: Path, cell: GridCell) -> pd.DataFrame | None:
    """Return the records of a finished cell file, or None if it needs rerunning.

    A file is accepted only when it parses as CSV with the record columns,
    holds exactly one row per metric of ``GRID_METRICS`` for this cell's
    dataset, model and seed, and every value is a finite number (metrics in
    [0, 1], times non-negative). Anything else is logged and reported as
    unfinished.
    """
    if not path.is_file():
        return None
    try:
        records = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        logger.warning("Cell file %s cannot be parsed; computing it again", path)
        return None
    problem = _cell_problem(records, cell)
    if problem:
        logger.warning(
            "Cell file %s is invalid (%s); computing it again", path, problem
        )
        return None
    return records.loc[:, list(RECORD_COLUMNS)]


def _cell_problem(records: pd.DataFrame, cell: GridCell) -> str | None:
    if list(records.columns) != list(RECORD_COLUMNS):
        return f"columns {list(records.columns)}"
    if sorted(records["metric"].astype(str)) != sorted(GRID_METRICS):
        return f"metrics {records['metric'].tolist()}"
    expected = {"dataset": cell.dataset, "model": cell.model, "seed": str(cell.seed)}
    for column, value in expected.items():
        if not (records[column].astype(str) == value).all():
            return f"{column} differs from the file name"
    numbers = records[["value", "fit_seconds", "score_seconds"]]
    numbers = numbers.apply(pd.to_numeric, errors="coerce")
    if not np.isfinite(numbers.to_numpy(dtype=np.float64)).all():
        return "missing or non-numeric values"
    if not numbers["value"].between(0.0, 1.0).all():
        return "metric values outside [0, 1]"
    if (numbers[["fit_seconds", "score_seconds"]] < 0).any(axis=None):
        return "negative times"
    return None


# --------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------


def benchmark_detectors() -> list[str]:
    """Return the registered detectors that can run in the grid.

    These are the installed detectors of the registry except those in
    ``NEEDS_ANOMALY_LABELS``, which cannot learn from normal points alone.
    """
    return [name for name in available_detectors() if name not in NEEDS_ANOMALY_LABELS]


def parse_names(value: str | Sequence[str] | None) -> list[str]:
    """Return a list of names from a list, a comma-separated string, "" or None.

    Notebook parameters accept either form: ``["cardio", "glass"]`` and
    ``"cardio, glass"`` give the same list; ``""``, ``[]`` and None give an
    empty list, which means "use the default".
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [name.strip() for name in value.split(",") if name.strip()]
    names = list(value)
    bad = [name for name in names if not isinstance(name, str) or not name]
    if bad:
        raise ValueError(f"names must be non-empty strings, got {bad}")
    return names


def grid_parameters(
    detectors: Iterable[str], overrides: Mapping[str, Mapping] | None = None
) -> dict[str, dict]:
    """Return the constructor parameters of each detector in the grid.

    Parameters
    ----------
    detectors : iterable of str
        Registry names.
    overrides : mapping of str to mapping, default=None
        Parameters per detector; a detector listed here gets exactly these
        parameters, and the others get ``REFERENCE_HYPERPARAMETERS`` (or
        their own defaults when not listed there).
    """
    overrides = dict(overrides or {})
    return {
        name: dict(overrides.get(name, REFERENCE_HYPERPARAMETERS.get(name, {})))
        for name in detectors
    }


def run_grid(
    datasets: Mapping,
    detectors: Sequence[str] | None = None,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    cells_dir,
    detector_params: Mapping[str, Mapping] | None = None,
    backend: str = "loky",
    scheduler_address: str | None = None,
    n_jobs: int = -1,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    notebook: str = NOTEBOOK,
    profile: str = "full",
    progress: bool = True,
) -> GridResult:
    """Run every (dataset, detector, seed) cell that is not finished yet.

    Parameters
    ----------
    datasets : mapping of str to dataset
        Dataset name -> an object with arrays ``X`` (n_samples, n_features)
        and ``y`` (n_samples,), such as
        :class:`~anomaly_utils.data.benchmark.BenchmarkDataset`, or an
        ``(X, y)`` tuple.
    detectors : sequence of str, default=None
        Registry names; None runs :func:`benchmark_detectors`.
    seeds : sequence of int, default=(0, 1, 2, 3, 4)
        Non-negative seeds; each gives another split and detector seed.
    cells_dir : path-like
        Folder of the per-cell CSV files; created when missing. Reuse it to
        resume a run.
    detector_params : mapping of str to mapping, default=None
        Parameters per detector; see :func:`grid_parameters`.
    backend : {"loky", "dask"}, default="loky"
        ``"loky"`` runs cells in local processes; ``"dask"`` sends them to
        the Dask cluster at ``scheduler_address``.
    scheduler_address : str, default=None
        Address of a running Dask scheduler, such as
        ``"tcp://10.0.0.5:8786"``; required for ``backend="dask"``.
    n_jobs : int, default=-1
        Cells run at once; -1 uses every local core or every Dask worker.
    max_rows : int or None, default=50_000
        Row cap; see :func:`semi_supervised_split`.
    notebook, profile : str
        Values of the ``notebook`` and ``profile`` record columns.
    progress : bool, default=True
        Show a tqdm progress bar over the cells.

    Returns
    -------
    GridResult
        Records of every requested cell, computed or reused.

    Raises
    ------
    ValueError
        For an unknown backend, a Dask backend without scheduler address, an
        unknown detector or one in ``NEEDS_ANOMALY_LABELS``, or no cells.
    RuntimeError
        When a cell fails; the message names it. Cells finished before the
        failure stay on disk and are reused by the next run.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "dask" and not scheduler_address:
        raise ValueError(
            "backend='dask' needs scheduler_address, the address of a running "
            "Dask scheduler such as 'tcp://127.0.0.1:8786' (start one with "
            "`dask scheduler` and `dask worker <address>`); or use backend='loky'"
        )
    arrays = _dataset_arrays(datasets)
    detectors = list(benchmark_detectors() if detectors is None else detectors)
    _check_detectors(detectors)
    seeds = [int(seed) for seed in seeds]
    params = grid_parameters(detectors, detector_params)
    digests = {name: settings_digest(name, params[name], max_rows) for name in params}
    cells = [
        GridCell(dataset, model, seed)
        for dataset in arrays
        for model in detectors
        for seed in seeds
    ]
    if not cells:
        raise ValueError(
            "the grid has no cells; pass at least one dataset, detector and seed"
        )
    for cell in cells:
        cell_seeds(cell.dataset, cell.seed)

    start = time.perf_counter()
    cells_dir = Path(cells_dir)
    cells_dir.mkdir(parents=True, exist_ok=True)
    finished: dict[GridCell, pd.DataFrame] = {}
    pending = []
    for cell in cells:
        records = read_cell(cells_dir / cell.file_name(digests[cell.model]), cell)
        if records is None:
            pending.append(cell)
        else:
            finished[cell] = records
    n_reused = len(finished)
    logger.info(
        "Benchmark grid: %d cells (%d datasets x %d detectors x %d seeds), "
        "%d already finished in %s, %d to run on %s",
        len(cells),
        len(arrays),
        len(detectors),
        len(seeds),
        n_reused,
        cells_dir,
        len(pending),
        backend,
    )

    if pending:
        tasks = [
            (cell, *arrays[cell.dataset], params[cell.model], max_rows)
            for cell in pending
        ]
        for cell, result in _execute(
            tasks, backend, scheduler_address, n_jobs, progress, len(cells), n_reused
        ):
            records = cell_records(cell, result, notebook=notebook, profile=profile)
            write_cell(cells_dir / cell.file_name(digests[cell.model]), records)
            finished[cell] = records

    combined = pd.concat([finished[cell] for cell in cells], ignore_index=True)
    combined["notebook"] = notebook
    combined["profile"] = profile
    combined = combined.sort_values(
        ["dataset", "model", "seed", "metric"], kind="stable", ignore_index=True
    )
    wall_seconds = time.perf_counter() - start
    logger.info(
        "Benchmark grid finished in %.1f s: %d cells computed, %d reused",
        wall_seconds,
        len(pending),
        n_reused,
    )
    return GridResult(
        records=combined.loc[:, list(RECORD_COLUMNS)],
        n_computed=len(pending),
        n_reused=n_reused,
        wall_seconds=wall_seconds,
    )


def _dataset_arrays(datasets: Mapping) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    if not isinstance(datasets, Mapping):
        raise ValueError(
            "datasets must be a mapping of dataset name -> dataset (with X and "
            f"y) or (X, y), got {type(datasets).__name__}; use "
            "anomaly_utils.data.benchmark.load_benchmark_folder(folder)"
        )
    arrays = {}
    for name, dataset in datasets.items():
        if not isinstance(name, str) or not name or "/" in name or "\\" in name:
            raise ValueError(
                f"dataset names must be non-empty strings without path "
                f"separators, got {name!r}"
            )
        if hasattr(dataset, "X") and hasattr(dataset, "y"):
            X, y = dataset.X, dataset.y
        else:
            X, y = dataset
        arrays[name] = (np.asarray(X, dtype=np.float64), np.asarray(y))
    return arrays


def _check_detectors(detectors: Sequence[str]) -> None:
    if len(set(detectors)) != len(detectors):
        raise ValueError(f"detectors contain duplicates: {list(detectors)}")
    for name in detectors:
        if name in NEEDS_ANOMALY_LABELS:
            raise ValueError(
                f"detector {name!r} learns only from labelled anomalies, but the "
                "benchmark protocol trains on normal points only; leave it out "
                "(benchmark_detectors() lists the detectors that fit the grid)"
            )
        detector_class(name)


def _execute(tasks, backend, scheduler_address, n_jobs, progress, total, n_done):
    """Yield ``(cell, result)`` as cells finish, on the chosen backend."""
    import joblib
    from tqdm.auto import tqdm

    jobs = (joblib.delayed(_run_cell_task)(*task) for task in tasks)
    bar = tqdm(
        total=total, initial=n_done, desc="benchmark cells", disable=not progress
    )
    try:
        if backend == "loky":
            parallel = joblib.Parallel(
                n_jobs=n_jobs, backend="loky", return_as="generator_unordered"
            )
            for output in parallel(jobs):
                bar.update(1)
                yield output
        else:
            from distributed import Client

            with Client(scheduler_address) as client:
                logger.info(
                    "Connected to the Dask scheduler at %s (%d workers)",
                    scheduler_address,
                    len(client.scheduler_info().get("workers", {})),
                )
                with joblib.parallel_config(backend="dask"):
                    parallel = joblib.Parallel(
                        n_jobs=n_jobs, return_as="generator_unordered"
                    )
                    for output in parallel(jobs):
                        bar.update(1)
                        yield output
    finally:
        bar.close()
