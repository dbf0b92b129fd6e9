"""Tests for the stratified splits and the credit-card preprocessing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from anomaly_utils.data import (
    CreditCardData,
    Splits,
    load_creditcard,
    make_synthetic_creditcard,
    split_creditcard,
    stratified_split,
)

SAMPLE_FILE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "creditcard"
    / "creditcard_sample.csv"
)
COMPONENTS = [f"V{i}" for i in range(1, 29)]
N_ROWS = 3_000
FRAUD_RATE = 0.05


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_synthetic_creditcard(N_ROWS, fraud_rate=FRAUD_RATE, random_state=0)


@pytest.fixture(scope="module")
def data(frame) -> CreditCardData:
    return CreditCardData(frame, "synthetic")


@pytest.fixture(scope="module")
def splits(data) -> Splits:
    return split_creditcard(data, random_state=0)


def _parts(splits: Splits):
    return {
        "train": (splits.X_train, splits.y_train),
        "validation": (splits.X_val, splits.y_val),
        "test": (splits.X_test, splits.y_test),
    }


def _unscaled(splits: Splits, X: np.ndarray) -> np.ndarray:
    return splits.scaler.inverse_transform(X)


def test_split_sizes_and_dtypes(splits):
    assert len(splits.y_train) + len(splits.y_val) + len(splits.y_test) == N_ROWS
    assert len(splits.y_test) == round(0.2 * N_ROWS)
    assert len(splits.y_val) == round(0.2 * N_ROWS)
    for X, y in _parts(splits).values():
        assert X.dtype == np.float64
        assert y.dtype == np.int64
        assert X.shape == (len(y), splits.n_features)


def test_split_stratified(splits):
    n_frauds = round(FRAUD_RATE * N_ROWS)
    total = sum(int(y.sum()) for _, y in _parts(splits).values())
    assert total == n_frauds
    for name, (_, y) in _parts(splits).items():
        assert abs(y.mean() - FRAUD_RATE) < 0.005, name


def test_scaler_fitted_on_train_only(splits):
    assert splits.scaler.n_samples_seen_ == len(splits.y_train)
    np.testing.assert_allclose(splits.X_train.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(splits.X_train.std(axis=0), 1.0, atol=1e-10)
    for X in (splits.X_val, splits.X_test):
        assert np.abs(X.mean(axis=0)).max() > 1e-3
        assert np.abs(X.mean(axis=0)).max() < 0.3


def test_time_dropped_by_default(splits):
    assert splits.feature_names == [*COMPONENTS, "Amount"]
    assert splits.n_features == 29


def test_amount_log_transformed(splits, frame):
    amounts = np.concatenate(
        [_unscaled(splits, X)[:, -1] for X, _ in _parts(splits).values()]
    )
    np.testing.assert_allclose(
        np.sort(amounts), np.sort(np.log1p(frame["Amount"].to_numpy())), atol=1e-9
    )


def test_parts_do_not_overlap(splits, frame):
    # V1 is continuous, so its unscaled value identifies a row.
    keys = {
        name: set(np.round(_unscaled(splits, X)[:, 0], 9))
        for name, (X, _) in _parts(splits).items()
    }
    assert not keys["train"] & keys["validation"]
    assert not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]
    union = keys["train"] | keys["validation"] | keys["test"]
    assert union == set(np.round(frame["V1"].to_numpy(), 9))


def test_hour_features(data, frame):
    splits = split_creditcard(data, time="hour", random_state=0)
    assert splits.feature_names[:2] == ["hour_sin", "hour_cos"]
    assert splits.feature_names[2:] == [*COMPONENTS, "Amount"]
    unscaled = _unscaled(splits, splits.X_train)
    radius = np.hypot(unscaled[:, 0], unscaled[:, 1])
    np.testing.assert_allclose(radius, 1.0, atol=1e-9)

    everything = np.vstack([_unscaled(splits, X) for X, _ in _parts(splits).values()])
    hours = np.mod(np.arctan2(everything[:, 0], everything[:, 1]), 2 * np.pi)
    hours *= 24 / (2 * np.pi)
    expected = (frame["Time"].to_numpy() / 3600) % 24
    np.testing.assert_allclose(np.sort(hours), np.sort(expected), atol=1e-6)


def test_same_seed_same_splits(data):
    first = split_creditcard(data, random_state=7)
    second = split_creditcard(data, random_state=7)
    other = split_creditcard(data, random_state=8)
    for attribute in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(
            getattr(first, attribute), getattr(second, attribute)
        )
    assert not np.array_equal(first.X_test, other.X_test)


def test_clip_bounds_values(data):
    splits = split_creditcard(data, clip=1.5, random_state=0)
    for X, _ in _parts(splits).values():
        assert np.abs(X).max() <= 1.5
    assert np.isclose(np.abs(splits.X_train).max(), 1.5)


def test_max_rows_stratified_subsample(data):
    splits = split_creditcard(data, max_rows=1_000, random_state=0)
    y = np.concatenate([y for _, y in _parts(splits).values()])
    assert len(y) == 1_000
    assert abs(int(y.sum()) - round(1_000 * FRAUD_RATE)) <= 1


def test_max_rows_above_size_keeps_all(data):
    splits = split_creditcard(data, max_rows=10 * N_ROWS, random_state=0)
    total = len(splits.y_train) + len(splits.y_val) + len(splits.y_test)
    assert total == N_ROWS


def test_source_labels(data, frame):
    assert split_creditcard(data).source_label == "SYNTHETIC stand-in"
    assert split_creditcard(frame).source_label == "in-memory DataFrame"


def test_normal_train(splits):
    normal = splits.normal_train()
    assert normal.shape == (int((splits.y_train == 0).sum()), splits.n_features)
    fraud_rows = splits.X_train[splits.y_train == 1]
    assert not np.isin(fraud_rows[:, 0], normal[:, 0]).any()


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"time": "keep"}, "time must be one of ('drop', 'hour')"),
        ({"val_size": 0.0}, "val_size"),
        ({"test_size": 1.0}, "test_size"),
        ({"val_size": 0.5, "test_size": 0.5}, "below 1"),
        ({"clip": 0}, "clip"),
        ({"clip": -2.0}, "clip"),
        ({"max_rows": 5}, "at least 10"),
        ({"max_rows": 100.5}, "max_rows must be an integer"),
    ],
)
def test_split_invalid_arguments(data, kwargs, fragment):
    with pytest.raises(ValueError) as info:
        split_creditcard(data, **kwargs)
    assert fragment in str(info.value)


def test_split_rejects_other_types(frame):
    with pytest.raises(ValueError, match="CreditCardData"):
        split_creditcard(frame.to_numpy())


def test_split_missing_column(frame):
    with pytest.raises(ValueError, match="lacks column"):
        split_creditcard(frame.drop(columns=["V4"]))
    with pytest.raises(ValueError, match="Time"):
        split_creditcard(frame.drop(columns=["Time"]), time="hour")


def test_split_negative_amount(frame):
    broken = frame.copy()
    broken.loc[10, "Amount"] = -5.0
    with pytest.raises(ValueError, match="non-negative"):
        split_creditcard(broken)


def test_split_non_binary_labels(frame):
    broken = frame.copy()
    broken.loc[3, "Class"] = 2
    with pytest.raises(ValueError, match="only 0"):
        split_creditcard(broken)


def test_split_too_few_frauds():
    frame = make_synthetic_creditcard(1_000, fraud_rate=0.002, random_state=0)
    with pytest.raises(ValueError, match="at least 3"):
        split_creditcard(frame)
    frame = make_synthetic_creditcard(1_000, fraud_rate=0.005, random_state=0)
    with pytest.raises(ValueError, match="needs both classes"):
        split_creditcard(frame, val_size=0.1, test_size=0.1)


def test_stratified_split_generic():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4))
    y = (np.arange(500) % 10 == 0).astype(int)
    X_train, y_train, X_val, y_val, X_test, y_test = stratified_split(
        X, y, val_size=0.2, test_size=0.3, random_state=1
    )
    assert (len(y_train), len(y_val), len(y_test)) == (250, 100, 150)
    assert (int(y_train.sum()), int(y_val.sum()), int(y_test.sum())) == (25, 10, 15)
    assert X_train.shape == (250, 4)
    assert y_train.dtype == np.int64
    np.testing.assert_allclose(
        np.sort(np.concatenate([X_train, X_val, X_test])[:, 0]), np.sort(X[:, 0])
    )


@pytest.mark.parametrize(
    ("X", "y", "fragment"),
    [
        (np.zeros((10, 2)), np.zeros(9), "pass one label per row"),
        (np.zeros((10, 2)), np.full(10, 3), "only 0"),
        (np.zeros(10), np.zeros(10), "2-D"),
        (np.full((10, 2), np.nan), np.zeros(10), "NaN"),
    ],
    ids=["length-mismatch", "non-binary", "one-dimensional", "nan"],
)
def test_stratified_split_invalid_input(X, y, fragment):
    with pytest.raises(ValueError) as info:
        stratified_split(X, y, val_size=0.2, test_size=0.2, random_state=0)
    assert fragment in str(info.value)


@pytest.mark.realdata
def test_real_sample_split():
    if not SAMPLE_FILE.is_file():
        pytest.skip(f"real credit-card sample {SAMPLE_FILE} not found")
    splits = split_creditcard(load_creditcard(SAMPLE_FILE), random_state=0)
    assert splits.source_label == "real (creditcard_sample.csv)"
    assert "Time" not in splits.feature_names
    parts = _parts(splits).values()
    assert sum(len(y) for _, y in parts) == 5_332
    assert sum(int(y.sum()) for _, y in parts) == 376
    assert all(int(y.sum()) > 50 for _, y in parts)


def test_subsample_with_single_fraud_rejected(frame):
    single = frame.copy()
    single["Class"] = 0
    single.loc[0, "Class"] = 1
    with pytest.raises(ValueError, match="Stratified subsample of max_rows=100"):
        split_creditcard(single, max_rows=100)
