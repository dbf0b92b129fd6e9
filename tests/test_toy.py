"""Tests for the 2-D toy sets and the imbalanced classification sets."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score

from anomaly_utils.data import (
    TOY_DATASETS,
    TOY_TITLES,
    make_imbalanced_dataset,
    make_toy_dataset,
    make_toy_datasets,
    stratified_split,
)


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_toy_shapes_and_dtypes(name):
    X, y = make_toy_dataset(name, n_samples=300, random_state=0)
    assert X.shape == (300, 2)
    assert y.shape == (300,)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize(
    ("n_samples", "fraction", "expected"),
    [(300, 0.15, 45), (200, 0.1, 20), (101, 0.15, 15), (50, 0.3, 15)],
)
def test_toy_outlier_count(n_samples, fraction, expected):
    X, y = make_toy_dataset(
        "two_blobs", n_samples=n_samples, outlier_fraction=fraction, random_state=1
    )
    assert len(X) == n_samples
    assert int(y.sum()) == expected


@pytest.mark.parametrize("name", TOY_DATASETS)
def test_toy_outliers_inside_square(name):
    X, y = make_toy_dataset(name, random_state=2)
    assert np.all(np.abs(X[y == 1]) <= 6.0)


def test_toy_inlier_layouts():
    X, y = make_toy_dataset("one_blob", n_samples=2000, random_state=3)
    inliers = X[y == 0]
    assert np.allclose(inliers.mean(axis=0), 0.0, atol=0.05)
    assert np.allclose(inliers.std(axis=0), 0.5, atol=0.05)

    X, y = make_toy_dataset("uneven_blobs", n_samples=2000, random_state=3)
    inliers = X[y == 0]
    upper = inliers[inliers.sum(axis=1) > 0]
    lower = inliers[inliers.sum(axis=1) <= 0]
    assert upper.std() > 3 * lower.std()

    X, y = make_toy_dataset("moons", n_samples=2000, random_state=3)
    assert np.all(np.abs(X[y == 0, 0]) < 4.5)
    assert np.all(np.abs(X[y == 0, 1]) < 2.5)

    X, y = make_toy_dataset("uniform", n_samples=2000, random_state=3)
    assert np.all(np.abs(X[y == 0]) <= 7.0)
    assert np.abs(X[y == 0]).max() > 6.5


def test_toy_rows_are_shuffled():
    _, y = make_toy_dataset("one_blob", random_state=4)
    assert y[-45:].sum() < 45


def test_toy_same_seed_same_data():
    X1, y1 = make_toy_dataset("moons", random_state=5)
    X2, y2 = make_toy_dataset("moons", random_state=5)
    X3, _ = make_toy_dataset("moons", random_state=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)


def test_toy_datasets_all_names():
    sets = make_toy_datasets(n_samples=100, random_state=0)
    assert tuple(sets) == TOY_DATASETS
    assert set(TOY_TITLES) == set(TOY_DATASETS)
    for X, y in sets.values():
        assert X.shape == (100, 2)
        assert int(y.sum()) == 15
    again = make_toy_datasets(n_samples=100, random_state=0)
    for name in TOY_DATASETS:
        np.testing.assert_array_equal(sets[name][0], again[name][0])


def test_toy_structure_found_by_forest():
    # Outliers far from compact blobs are easy; in the uniform square they
    # overlap the inliers, so no detector ranks them well.
    aucs = {}
    for name in ("one_blob", "uniform"):
        X, y = make_toy_dataset(name, n_samples=600, random_state=7)
        forest = IsolationForest(random_state=0).fit(X)
        aucs[name] = roc_auc_score(y, -forest.score_samples(X))
    assert aucs["one_blob"] > 0.95
    assert aucs["uniform"] < 0.75


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"name": "blobs"}, "one_blob, two_blobs"),
        ({"name": "one_blob", "n_samples": 5}, "at least 10"),
        ({"name": "one_blob", "n_samples": 30.0}, "must be an integer"),
        ({"name": "one_blob", "outlier_fraction": 0.0}, "(0, 0.5)"),
        ({"name": "one_blob", "outlier_fraction": 0.5}, "(0, 0.5)"),
        ({"name": "one_blob", "outlier_fraction": -0.1}, "(0, 0.5)"),
        ({"name": "one_blob", "outlier_fraction": "0.1"}, "must be a number"),
        (
            {"name": "one_blob", "n_samples": 10, "outlier_fraction": 0.01},
            "zero outliers",
        ),
        ({"name": "one_blob", "random_state": "seed"}, "random_state"),
        ({"name": "one_blob", "random_state": -1}, "non-negative"),
    ],
)
def test_toy_invalid_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        make_toy_dataset(**kwargs)
    assert fragment in str(info.value)


def test_imbalanced_share_and_shape():
    X, y = make_imbalanced_dataset(20_000, 0.01, random_state=0)
    assert X.shape == (20_000, 20)
    assert X.dtype == np.float64
    assert y.dtype == np.int64
    assert 0.008 < y.mean() < 0.012


def test_imbalanced_exact_share_without_noise():
    _, y = make_imbalanced_dataset(
        5_000, 0.05, n_features=8, flip_y=0.0, random_state=0
    )
    assert int(y.sum()) == 250


def test_imbalanced_same_seed_same_data():
    X1, y1 = make_imbalanced_dataset(1_000, 0.05, random_state=3)
    X2, y2 = make_imbalanced_dataset(1_000, 0.05, random_state=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)


def test_imbalanced_learnable_not_trivial():
    X, y = make_imbalanced_dataset(10_000, 0.02, random_state=1)
    X_train, y_train, _, _, X_test, y_test = stratified_split(
        X, y, val_size=0.1, test_size=0.3, random_state=0
    )
    model = LogisticRegression(max_iter=500).fit(X_train, y_train)
    ap = average_precision_score(y_test, model.predict_proba(X_test)[:, 1])
    assert ap > 0.05
    assert ap < 0.9


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"anomaly_fraction": 0.0}, "(0, 0.5)"),
        ({"anomaly_fraction": 0.6}, "(0, 0.5)"),
        ({"n_samples": 100, "anomaly_fraction": 0.01}, "at least 2"),
        ({"flip_y": 0.2}, "flip_y"),
        ({"flip_y": -0.1}, "flip_y"),
        ({"n_features": 5, "n_informative": 5, "n_redundant": 2}, "n_features"),
        ({"class_sep": 0}, "class_sep"),
        ({"n_samples": 5}, "at least 10"),
    ],
)
def test_imbalanced_invalid_arguments(kwargs, fragment):
    arguments = {"n_samples": 1_000, "anomaly_fraction": 0.05, **kwargs}
    with pytest.raises(ValueError) as info:
        make_imbalanced_dataset(**arguments)
    assert fragment in str(info.value)
