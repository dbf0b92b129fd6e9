"""Stratified train/validation/test splits and the credit-card preprocessing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..evaluation import check_binary_labels
from ..models.base import check_features
from ._random import check_generator, draw_seed
from .creditcard import LABEL_COLUMN, CreditCardData

logger = logging.getLogger(__name__)

#: Accepted values of ``split_creditcard(time=...)``.
TIME_MODES = ("drop", "hour")

_SECONDS_PER_HOUR = 3600.0
_HOURS_PER_DAY = 24.0


@dataclass
class Splits:
    """Train, validation and test parts of one data set, already scaled.

    Labels use 1 = anomaly and 0 = normal. :func:`split_creditcard` makes
    sure every part contains both classes.

    Attributes
    ----------
    X_train, X_val, X_test : ndarray of shape (n_part, n_features), float64
        Scaled features of each part.
    y_train, y_val, y_test : ndarray of shape (n_part,), int64
        Labels of each part.
    feature_names : list of str
        Column names of the ``X`` arrays.
    scaler : sklearn.preprocessing.StandardScaler
        Scaler fitted on the training rows only.
    source_label : str
        Where the data came from, for figure titles and records, such as
        ``"real (creditcard.csv)"`` or ``"SYNTHETIC stand-in"``.
    is_synthetic : bool
        Whether the rows come from the synthetic stand-in.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    scaler: StandardScaler
    source_label: str
    is_synthetic: bool = False

    @property
    def data_source(self) -> str:
        """``"synthetic"`` or ``"real"``, the value result records carry."""
        return "synthetic" if self.is_synthetic else "real"

    def normal_train(self) -> np.ndarray:
        """Return the training rows labelled normal (y = 0), for semi-supervised fits.

        Returns
        -------
        ndarray of shape (n_normal_train, n_features)
        """
        return self.X_train[self.y_train == 0]

    @property
    def n_features(self) -> int:
        """Number of feature columns."""
        return self.X_train.shape[1]


def _check_size(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number in (0, 1), got {value!r}")
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be in the open interval (0, 1), got {value}")
    return float(value)


def _sklearn_seed(random_state) -> int | None:
    """Return an int seed or None for scikit-learn's ``random_state``."""
    if random_state is None:
        return None
    return draw_seed(check_generator(random_state))


def _check_parts(y_parts: dict[str, np.ndarray], n_anomalies: int, sizes: str):
    for part, labels in y_parts.items():
        if labels.min() == labels.max():
            raise ValueError(
                f"The {part} part has only class {labels[0]} with {sizes} and "
                f"{n_anomalies} anomalies in all; every part needs both classes. "
                "Use more rows or anomalies, or larger val_size/test_size."
            )


def stratified_split(
    X, y, *, val_size: float = 0.2, test_size: float = 0.2, random_state=0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split rows into stratified train, validation and test parts.

    The test part (``round(test_size * n_samples)`` rows) is split off
    first, then the validation part (``round(val_size * n_samples)`` rows)
    from the rest. Each part keeps the anomaly share of ``y`` up to rounding.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Finite numeric features.
    y : array-like of shape (n_samples,)
        Labels, 1 = anomaly, 0 = normal.
    val_size, test_size : float, default=0.2
        Shares of all rows for validation and test, each in (0, 1), together
        below 1.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the shuffles; the same int gives the same parts.

    Returns
    -------
    X_train, y_train, X_val, y_val, X_test, y_test : ndarray
        Float64 features of shape (n_part, n_features) and int64 labels of
        shape (n_part,), in this order.

    Raises
    ------
    ValueError
        For invalid sizes, non-binary labels, mismatched lengths, or too few
        rows of a class to give every part both classes.
    """
    X = check_features(X)
    y = check_binary_labels(y)
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but y has {y.shape[0]}; pass one label per row"
        )
    val_size = _check_size(val_size, "val_size")
    test_size = _check_size(test_size, "test_size")
    if val_size + test_size >= 1.0:
        raise ValueError(
            f"val_size + test_size must be below 1 so that rows remain for "
            f"training, got {val_size} + {test_size}"
        )

    n_anomalies = int(y.sum())
    n_normal = int(y.size - n_anomalies)
    sizes = f"val_size={val_size}, test_size={test_size}"
    if min(n_anomalies, n_normal) < 3:
        raise ValueError(
            f"Too few rows per class to split three ways: {n_normal} normal and "
            f"{n_anomalies} anomalies; each class needs at least 3 rows"
        )

    # Integer part sizes avoid float rounding in a share of the rest:
    # 0.2 / 0.7 * 350 evaluates to just above 100, which would give 101 rows.
    n_test = round(test_size * y.size)
    n_val = round(val_size * y.size)
    seed = _sklearn_seed(random_state)
    try:
        X_rest, X_test, y_rest, y_test = train_test_split(
            X, y, test_size=n_test, stratify=y, random_state=seed
        )
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest,
            y_rest,
            test_size=n_val,
            stratify=y_rest,
            random_state=None if seed is None else seed + 1,
        )
    except ValueError as error:
        raise ValueError(
            f"Stratified split failed with {sizes} and {n_anomalies} anomalies "
            f"({error}); use more rows or anomalies, or larger parts"
        ) from None
    _check_parts(
        {"train": y_train, "validation": y_val, "test": y_test}, n_anomalies, sizes
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


def _subsample(frame: pd.DataFrame, max_rows: int, random_state) -> pd.DataFrame:
    """Return ``max_rows`` rows drawn without replacement, stratified on Class."""
    try:
        subsample, _ = train_test_split(
            frame,
            train_size=max_rows,
            stratify=frame[LABEL_COLUMN],
            random_state=_sklearn_seed(random_state),
        )
    except ValueError as error:
        raise ValueError(
            f"Stratified subsample of max_rows={max_rows} rows failed ({error}); "
            "raise max_rows or pass max_rows=None"
        ) from None
    return subsample.sort_index()


def _credit_card_features(frame: pd.DataFrame, time: str) -> pd.DataFrame:
    """Return the unscaled feature table: hour or no Time, V1..V28, log Amount."""
    components = [f"V{i}" for i in range(1, 29)]
    required = components + ["Amount", LABEL_COLUMN]
    if time == "hour":
        required = ["Time"] + required
    missing = [name for name in required if name not in frame.columns]
    if missing:
        raise ValueError(
            f"The credit-card table lacks column(s) {', '.join(missing)}; load it "
            "with anomaly_utils.data.load_creditcard or read_creditcard_csv"
        )

    amount = frame["Amount"].to_numpy(dtype=np.float64)
    if (amount < 0).any():
        first = int(np.flatnonzero(amount < 0)[0])
        raise ValueError(
            f"Amount must be non-negative for the log1p transform, got "
            f"{amount[first]} in row {first}"
        )

    features = pd.DataFrame(index=frame.index)
    if time == "hour":
        hours = (frame["Time"].to_numpy(dtype=np.float64) / _SECONDS_PER_HOUR) % (
            _HOURS_PER_DAY
        )
        angle = 2.0 * np.pi * hours / _HOURS_PER_DAY
        features["hour_sin"] = np.sin(angle)
        features["hour_cos"] = np.cos(angle)
    for name in components:
        features[name] = frame[name].to_numpy(dtype=np.float64)
    features["Amount"] = np.log1p(amount)
    return features


def split_creditcard(
    data,
    *,
    time: str = "drop",
    val_size: float = 0.2,
    test_size: float = 0.2,
    max_rows: int | None = None,
    clip: float | None = None,
    random_state=0,
) -> Splits:
    """Preprocess the credit-card data and split it into scaled parts.

    Steps, in order:

    1. ``max_rows`` (optional): keep ``max_rows`` rows drawn at random
       without replacement, stratified on ``Class``. The fraud share stays
       that of the full table up to one row, so frauds are kept only up to
       their stratified share, not all of them.
    2. ``Time``: dropped (``time="drop"``), or replaced by the hour of day
       ``(Time / 3600) % 24`` encoded as ``hour_sin`` and ``hour_cos``
       (``time="hour"``), placed first.
    3. ``Amount`` becomes ``log1p(Amount)``.
    4. Stratified train/validation/test split (:func:`stratified_split`).
    5. A :class:`~sklearn.preprocessing.StandardScaler` fitted on the
       training rows only scales all three parts.
    6. ``clip`` (optional): scaled values are clipped to ``[-clip, clip]``.

    Parameters
    ----------
    data : CreditCardData or pandas.DataFrame
        Output of :func:`~anomaly_utils.data.load_creditcard`, or a table
        with the columns ``V1..V28, Amount, Class`` (and ``Time`` for
        ``time="hour"``).
    time : {"drop", "hour"}, default="drop"
        What to do with ``Time``. In the real sample file of normal rows from
        the first hour and frauds from two days, ``Time`` and the hour both
        reveal the label, so keep the default there.
    val_size, test_size : float, default=0.2
        Shares of the (subsampled) rows for validation and test.
    max_rows : int, default=None
        Stratified subsample size; None keeps every row.
    clip : float, default=None
        Positive bound for scaled values; None leaves them unclipped.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the subsample and the split.

    Returns
    -------
    Splits
        Scaled float64 parts, int64 labels (1 = fraud), feature names, the
        fitted scaler and the data's source label.

    Raises
    ------
    ValueError
        For an unknown ``time``, a non-positive ``clip``, an invalid
        ``max_rows``, missing columns, a negative ``Amount``, or too few
        frauds to give every part both classes.
    """
    if time not in TIME_MODES:
        raise ValueError(
            f"time must be one of {TIME_MODES}, got {time!r}: 'drop' removes "
            "Time, 'hour' replaces it by the hour of day as sin/cos"
        )
    if clip is not None and (
        isinstance(clip, bool) or not isinstance(clip, Real) or not clip > 0
    ):
        raise ValueError(f"clip must be a positive number or None, got {clip!r}")

    if isinstance(data, CreditCardData):
        frame, source_label = data.frame, data.label
        is_synthetic = data.is_synthetic
    elif isinstance(data, pd.DataFrame):
        frame, source_label = data, "in-memory DataFrame"
        is_synthetic = False
    else:
        raise ValueError(
            "data must be a CreditCardData (from load_creditcard) or a pandas "
            f"DataFrame, got {type(data).__name__}"
        )

    if max_rows is not None:
        if isinstance(max_rows, bool) or not isinstance(max_rows, Integral):
            raise ValueError(f"max_rows must be an integer or None, got {max_rows!r}")
        if max_rows < 10:
            raise ValueError(f"max_rows must be at least 10, got {max_rows}")
        if max_rows < len(frame):
            frame = _subsample(frame, int(max_rows), random_state)
            logger.info(
                "Subsampled %d of the credit-card rows (%d frauds)",
                len(frame),
                int(frame[LABEL_COLUMN].sum()),
            )

    features = _credit_card_features(frame, time)
    labels = frame[LABEL_COLUMN].to_numpy()
    X_train, y_train, X_val, y_val, X_test, y_test = stratified_split(
        features.to_numpy(),
        labels,
        val_size=val_size,
        test_size=test_size,
        random_state=random_state,
    )

    scaler = StandardScaler().fit(X_train)
    parts = [scaler.transform(X) for X in (X_train, X_val, X_test)]
    if clip is not None:
        parts = [np.clip(X, -clip, clip) for X in parts]
    X_train, X_val, X_test = (np.ascontiguousarray(X, dtype=np.float64) for X in parts)

    logger.info(
        "Credit-card split (%s): train %d (%d frauds), validation %d (%d), "
        "test %d (%d)",
        source_label,
        len(y_train),
        int(y_train.sum()),
        len(y_val),
        int(y_val.sum()),
        len(y_test),
        int(y_test.sum()),
    )
    return Splits(
        X_train=X_train,
        y_train=y_train,
        X_val=X_val,
        y_val=y_val,
        X_test=X_test,
        y_test=y_test,
        feature_names=list(features.columns),
        scaler=scaler,
        source_label=source_label,
        is_synthetic=is_synthetic,
    )
