"""Benchmark grid: protocol, per-cell files, resuming, and loky vs Dask."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly_utils.benchmark_grid import (
    GRID_METRICS,
    NEEDS_ANOMALY_LABELS,
    REFERENCE_HYPERPARAMETERS,
    SETTING,
    GridCell,
    benchmark_detectors,
    cell_records,
    cell_seeds,
    parse_names,
    read_cell,
    run_grid,
    semi_supervised_split,
    write_cell,
)
from anomaly_utils.evaluation import RECORD_COLUMNS
from anomaly_utils.models import available_detectors, make_detector

# Small shared datasets for the backend comparison (148 to 240 rows).
SMALL_SHARED = ("lymphography", "wbc", "vertebral")
# Detectors of the backend comparison: the classical ones and one Keras
# model, whose TensorFlow kernels must also repeat across processes. The DQL
# runs on the same TensorFlow path and is left out to keep the test short.
BACKEND_DETECTORS = ("isolation_forest", "lof", "ocsvm", "sgd_ocsvm", "autoencoder")
# Fast settings for the autoencoder.
FAST_PARAMS = {"autoencoder": {"hidden_units": (8, 4), "epochs": 3, "batch_size": 64}}


def _blobs(n_normal=120, n_anomalies=12, n_features=3, seed=0):
    rng = np.random.default_rng(seed)
    X = np.vstack(
        [
            rng.normal(size=(n_normal, n_features)),
            rng.normal(loc=5.0, size=(n_anomalies, n_features)),
        ]
    )
    y = np.r_[np.zeros(n_normal, dtype=np.int64), np.ones(n_anomalies, dtype=np.int64)]
    order = rng.permutation(y.size)
    return X[order], y[order]


@pytest.fixture(scope="module")
def toy_sets():
    return {"blobs_a": _blobs(seed=1), "blobs_b": _blobs(seed=2)}


@pytest.fixture(scope="module")
def small_shared(shared_data_dir):
    from anomaly_utils.data.benchmark import load_benchmark_folder

    folder = shared_data_dir / "adbench"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    return load_benchmark_folder(folder, SMALL_SHARED)


def _grid_params(detectors):
    return {
        name: {**REFERENCE_HYPERPARAMETERS.get(name, {}), **FAST_PARAMS.get(name, {})}
        for name in detectors
    }


# --------------------------------------------------------------------------
# Protocol
# --------------------------------------------------------------------------


def test_split_trains_on_half_normals():
    X, y = _blobs(n_normal=101, n_anomalies=9)
    X_train, X_test, y_test = semi_supervised_split(X, y, random_state=3)
    assert X_train.shape == (50, 3)
    assert X_test.shape == (60, 3)
    assert y_test.sum() == 9
    assert (y_test == 0).sum() == 51


def test_split_scaler_fitted_on_train():
    X, y = _blobs()
    X_train, X_test, _ = semi_supervised_split(X, y, random_state=0)
    np.testing.assert_allclose(X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1.0, atol=1e-12)
    # The anomalies sit at +5 in raw units, far above the training mean.
    assert X_test.max() > 3.0


def test_split_test_rows_are_the_rest():
    X, y = _blobs()
    X = np.c_[X, np.arange(y.size)]  # a row id survives scaling in order
    X_train, X_test, y_test = semi_supervised_split(X, y, random_state=0)
    # Scaling is increasing, so distinct ids stay distinct and ordered.
    ids = np.r_[X_train[:, -1], X_test[:, -1]]
    assert np.unique(ids).size == y.size
    assert np.all(np.diff(X_test[:, -1]) > 0)


def test_split_same_seed_same_rows():
    X, y = _blobs()
    first = semi_supervised_split(X, y, random_state=7)
    second = semi_supervised_split(X, y, random_state=7)
    other = semi_supervised_split(X, y, random_state=8)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_split_subsamples_large_dataset():
    X, y = _blobs(n_normal=300, n_anomalies=30)
    X_train, X_test, _ = semi_supervised_split(X, y, random_state=0, max_rows=100)
    assert X_train.shape[0] + X_test.shape[0] == 100


def test_split_too_few_normals_rejected():
    X, y = _blobs(n_normal=2, n_anomalies=5)
    with pytest.raises(ValueError, match="2 normal points"):
        semi_supervised_split(X, y, random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"train_fraction": 1.0}, "train_fraction"),
        ({"train_fraction": 0.0}, "train_fraction"),
        ({"max_rows": 1}, "max_rows"),
    ],
)
def test_split_bad_arguments_rejected(kwargs, message):
    X, y = _blobs()
    with pytest.raises(ValueError, match=message):
        semi_supervised_split(X, y, random_state=0, **kwargs)


def test_cell_seeds_depend_on_dataset_and_seed():
    assert cell_seeds("cardio", 0) == cell_seeds("cardio", 0)
    assert cell_seeds("cardio", 0) != cell_seeds("cardio", 1)
    assert cell_seeds("cardio", 0) != cell_seeds("glass", 0)
    split_seed, model_seed = cell_seeds("cardio", 0)
    assert 0 <= model_seed < 2**31 - 1
    assert split_seed >= 0


@pytest.mark.parametrize("seed", [-1, 1.5, True, "0"])
def test_cell_seeds_bad_seed_rejected(seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        cell_seeds("cardio", seed)


def test_reference_hyperparameters_accepted():
    for name, params in REFERENCE_HYPERPARAMETERS.items():
        detector = make_detector(name, **params)
        for key, value in params.items():
            assert getattr(detector, key) == value


def test_benchmark_detectors_skip_label_learners():
    names = benchmark_detectors()
    assert "isolation_forest" in names
    for name in NEEDS_ANOMALY_LABELS:
        assert name not in names
    assert set(names) <= set(available_detectors())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        (None, []),
        ([], []),
        ("cardio", ["cardio"]),
        ("cardio, glass,", ["cardio", "glass"]),
        (["wbc", "glass"], ["wbc", "glass"]),
    ],
)
def test_parse_names_forms(value, expected):
    assert parse_names(value) == expected


def test_parse_names_bad_entry_rejected():
    with pytest.raises(ValueError, match="non-empty strings"):
        parse_names(["cardio", ""])


# --------------------------------------------------------------------------
# Cell files
# --------------------------------------------------------------------------

CELL = GridCell("blobs_a", "isolation_forest", 0)
RESULT = {
    "roc_auc": 0.9,
    "average_precision": 0.7,
    "fit_seconds": 0.1,
    "score_seconds": 0.01,
}


def _valid_cell_text() -> str:
    return cell_records(CELL, RESULT).to_csv(index=False)


def _replace_in_rows(old, new):
    def edit(text):
        header, *rows = text.splitlines()
        return "\n".join([header, *[row.replace(old, new) for row in rows]]) + "\n"

    return edit


BAD_CELL_FILES = [
    ("empty", lambda text: ""),
    ("header_only", lambda text: text.splitlines()[0] + "\n"),
    ("one_row_missing", lambda text: "\n".join(text.splitlines()[:-1]) + "\n"),
    ("cut_mid_row", lambda text: text[: len(text) - 25]),
    ("binary", lambda text: "\x00\x01\x02garbage"),
    ("renamed_column", lambda text: text.replace("score_seconds", "seconds", 1)),
    ("other_dataset", _replace_in_rows("blobs_a", "blobs_b")),
    ("other_model", _replace_in_rows("isolation_forest", "lof")),
    ("other_metric", _replace_in_rows("average_precision", "f1")),
    ("nan_value", _replace_in_rows("0.9,", "nan,")),
    ("text_value", _replace_in_rows("0.9,", "high,")),
    ("value_above_one", _replace_in_rows("0.9,", "1.5,")),
    ("negative_time", _replace_in_rows(",0.1,", ",-0.1,")),
]


@pytest.mark.parametrize(
    "edit", [case[1] for case in BAD_CELL_FILES], ids=[c[0] for c in BAD_CELL_FILES]
)
def test_read_cell_rejects_damaged_file(tmp_path, edit):
    path = tmp_path / "cell.csv"
    path.write_text(edit(_valid_cell_text()))
    assert read_cell(path, CELL) is None


def test_read_cell_round_trip_exact(tmp_path):
    path = tmp_path / "cell.csv"
    result = dict(RESULT, roc_auc=1 / 3)
    written = cell_records(CELL, result)
    write_cell(path, written)
    read = read_cell(path, CELL)
    pd.testing.assert_frame_equal(read, written)
    assert list(tmp_path.iterdir()) == [path]


def test_read_cell_missing_file(tmp_path):
    assert read_cell(tmp_path / "absent.csv", CELL) is None


def test_cell_records_schema():
    records = cell_records(CELL, RESULT)
    assert list(records.columns) == list(RECORD_COLUMNS)
    assert records["metric"].tolist() == list(GRID_METRICS)
    assert set(records["setting"]) == {SETTING}
    assert set(records["data_source"]) == {"real"}


# --------------------------------------------------------------------------
# The grid
# --------------------------------------------------------------------------


def _run(toy_sets, cells_dir, **kwargs):
    options = {
        "detectors": ["isolation_forest", "lof"],
        "seeds": [0, 1],
        "n_jobs": 1,
        "progress": False,
    }
    options.update(kwargs)
    return run_grid(toy_sets, cells_dir=cells_dir, **options)


def test_grid_records_cover_cells(toy_sets, tmp_path):
    result = _run(toy_sets, tmp_path)
    records = result.records
    assert list(records.columns) == list(RECORD_COLUMNS)
    assert len(records) == 2 * 2 * 2 * len(GRID_METRICS)
    assert result.n_computed == 8
    assert result.n_reused == 0
    assert len(list(tmp_path.glob("*.csv"))) == 8
    # Far-off blobs: every detector ranks the anomalies first.
    assert records.loc[records["metric"] == "roc_auc", "value"].min() > 0.95


def test_grid_rerun_skips_finished_cells(toy_sets, tmp_path):
    first = _run(toy_sets, tmp_path)
    second = _run(toy_sets, tmp_path)
    assert second.n_computed == 0
    assert second.n_reused == 8
    pd.testing.assert_frame_equal(second.records, first.records)


def test_grid_recomputes_damaged_cells(toy_sets, tmp_path):
    first = _run(toy_sets, tmp_path)
    files = sorted(tmp_path.glob("*.csv"))
    files[0].write_text(files[0].read_text()[:40])
    files[1].write_text("")
    files[2].unlink()
    second = _run(toy_sets, tmp_path)
    assert second.n_computed == 3
    assert second.n_reused == 5
    pd.testing.assert_frame_equal(
        second.records.drop(columns=["fit_seconds", "score_seconds"]),
        first.records.drop(columns=["fit_seconds", "score_seconds"]),
    )


def test_grid_changed_params_not_reused(toy_sets, tmp_path):
    _run(toy_sets, tmp_path, detectors=["isolation_forest"])
    other = _run(
        toy_sets,
        tmp_path,
        detectors=["isolation_forest"],
        detector_params={"isolation_forest": {"n_estimators": 20}},
    )
    assert other.n_computed == 4
    assert other.n_reused == 0


def test_grid_failed_cell_keeps_finished(toy_sets, tmp_path):
    datasets = {"blobs_a": toy_sets["blobs_a"], "tiny": _blobs(n_normal=2)}
    with pytest.raises(RuntimeError, match="isolation_forest on tiny"):
        _run(datasets, tmp_path, detectors=["isolation_forest"], seeds=[0])
    resumed = _run(
        {"blobs_a": toy_sets["blobs_a"]},
        tmp_path,
        detectors=["isolation_forest"],
        seeds=[0],
    )
    assert resumed.n_reused == 1
    assert resumed.n_computed == 0


def test_grid_profile_and_notebook_columns(toy_sets, tmp_path):
    _run(toy_sets, tmp_path, detectors=["isolation_forest"], profile="full")
    again = _run(toy_sets, tmp_path, detectors=["isolation_forest"], profile="quick")
    assert set(again.records["profile"]) == {"quick"}
    assert set(again.records["notebook"]) == {"06_real_benchmark"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "spark"}, "backend must be one of"),
        ({"backend": "dask"}, "needs scheduler_address"),
        ({"detectors": ["mlp"]}, "labelled anomalies"),
        ({"detectors": ["forest"]}, "Unknown detector 'forest'"),
        ({"detectors": ["lof", "lof"]}, "duplicates"),
        ({"seeds": []}, "no cells"),
        ({"seeds": [-1]}, "non-negative integer"),
    ],
)
def test_grid_bad_arguments_rejected(toy_sets, tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        _run(toy_sets, tmp_path, **kwargs)


@pytest.mark.parametrize(
    ("datasets", "message"),
    [
        ([_blobs()], "must be a mapping"),
        ({"a/b": _blobs()}, "path separators"),
        ({"": _blobs()}, "non-empty strings"),
    ],
)
def test_grid_bad_datasets_rejected(tmp_path, datasets, message):
    with pytest.raises(ValueError, match=message):
        _run(datasets, tmp_path)


@pytest.mark.realdata
def test_grid_loky_and_dask_identical(small_shared, tmp_path):
    from distributed import LocalCluster

    detectors = [name for name in BACKEND_DETECTORS if name in available_detectors()]
    params = _grid_params(detectors)
    options = {
        "detectors": detectors,
        "seeds": [0, 1],
        "detector_params": params,
        "n_jobs": 2,
        "progress": False,
    }
    local = run_grid(small_shared, cells_dir=tmp_path / "loky", **options)
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        distributed = run_grid(
            small_shared,
            cells_dir=tmp_path / "dask",
            backend="dask",
            scheduler_address=cluster.scheduler_address,
            **options,
        )
    assert local.n_computed == distributed.n_computed == 3 * len(detectors) * 2
    keys = ["dataset", "model", "seed", "metric"]
    pd.testing.assert_frame_equal(
        local.records[keys], distributed.records[keys], check_exact=True
    )
    np.testing.assert_array_equal(
        local.records["value"].to_numpy(), distributed.records["value"].to_numpy()
    )
