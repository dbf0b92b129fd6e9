"""Metrics, thresholds and tidy result records.

Thresholds are fitted on training scores (a contamination rate) or on
validation scores with labels (maximum F1 or a target recall); test labels
never enter a threshold. Result records follow one long schema, one metric
per row, so that notebook 05 can assemble every comparison from them.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import (
    average_precision_score,
    classification_report,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
)

from .config import results_dir

logger = logging.getLogger(__name__)

#: Columns of every result record, in order.
RECORD_COLUMNS = (
    "notebook",
    "profile",
    "dataset",
    "data_source",
    "model",
    "setting",
    "seed",
    "metric",
    "value",
    "fit_seconds",
    "score_seconds",
)

#: How much supervision a model received: used to mark models in comparisons.
SETTINGS = ("unsupervised", "semi-supervised", "weakly-supervised", "supervised")


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def check_binary_labels(y, name: str = "y") -> np.ndarray:
    """Return ``y`` as an int array of 0/1 labels, or raise a clear error.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels with 1 = anomaly and 0 = normal.
    name : str, default="y"
        Name used in error messages.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {y.shape}")
    if y.dtype.kind == "b":
        return y.astype(np.int64)
    if y.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold numeric 0/1 labels (1 = anomaly), got dtype "
            f"{y.dtype}; map your labels to 0 and 1 first"
        )
    values = set(np.unique(y).tolist())
    if not values <= {0, 1}:
        raise ValueError(
            f"{name} must contain only 0 (normal) and 1 (anomaly), got values "
            f"{sorted(values)[:10]}; map your labels to 0 and 1 first"
        )
    return y.astype(np.int64)


def _check_scores(y_true, scores) -> tuple[np.ndarray, np.ndarray]:
    y_true = check_binary_labels(y_true, "y_true")
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != y_true.shape:
        raise ValueError(
            f"scores have shape {scores.shape} but labels have shape "
            f"{y_true.shape}; pass one score per sample"
        )
    if not np.all(np.isfinite(scores)):
        bad = int(np.sum(~np.isfinite(scores)))
        raise ValueError(f"scores contain {bad} NaN or infinite values")
    return y_true, scores


# --------------------------------------------------------------------------
# Thresholds
# --------------------------------------------------------------------------


def threshold_from_contamination(train_scores, contamination: float) -> float:
    """Return the score above which a ``contamination`` share of training rows lie.

    Parameters
    ----------
    train_scores : array-like of shape (n_samples,)
        Anomaly scores of the training data (higher = more anomalous).
    contamination : float in (0, 0.5]
        Expected share of anomalies in the training data.
    """
    if not 0.0 < contamination <= 0.5:
        raise ValueError(
            f"contamination must be in (0, 0.5], got {contamination!r}; "
            "it is the expected share of anomalies in the training data"
        )
    scores = np.asarray(train_scores, dtype=np.float64)
    return float(np.quantile(scores, 1.0 - contamination))


def threshold_max_f1(y_val, val_scores) -> float:
    """Return the threshold that maximises anomaly-class F1 on validation data.

    Predictions are ``score >= threshold``. Ties between thresholds with equal
    F1 go to the highest one.

    Parameters
    ----------
    y_val : array-like of shape (n_samples,)
        Validation labels, 1 = anomaly. Must contain both classes.
    val_scores : array-like of shape (n_samples,)
        Validation anomaly scores.
    """
    y_val, val_scores = _check_scores(y_val, val_scores)
    _require_both_classes(y_val, "validation labels")
    precision, recall, thresholds = precision_recall_curve(y_val, val_scores)
    precision, recall = precision[:-1], recall[:-1]
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall,
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    best = np.flatnonzero(f1 == f1.max())[-1]
    return float(thresholds[best])


def threshold_for_recall(y_val, val_scores, target_recall: float) -> float:
    """Return the highest threshold whose validation recall reaches the target.

    Parameters
    ----------
    y_val : array-like of shape (n_samples,)
        Validation labels, 1 = anomaly. Must contain both classes.
    val_scores : array-like of shape (n_samples,)
        Validation anomaly scores.
    target_recall : float in (0, 1]
        Share of validation anomalies that must score at or above it.
    """
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1], got {target_recall!r}")
    y_val, val_scores = _check_scores(y_val, val_scores)
    _require_both_classes(y_val, "validation labels")
    anomaly_scores = np.sort(val_scores[y_val == 1])[::-1]
    needed = int(np.ceil(target_recall * anomaly_scores.size))
    return float(anomaly_scores[needed - 1])


def _require_both_classes(y: np.ndarray, what: str) -> None:
    counts = np.bincount(y, minlength=2)
    if counts[0] == 0 or counts[1] == 0:
        raise ValueError(
            f"{what} contain only one class (normal: {counts[0]}, anomaly: "
            f"{counts[1]}); use a stratified split so both classes are present"
        )


# --------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------


def classification_metrics(y_true, y_pred) -> dict[str, float]:
    """Return macro F1 and anomaly-class precision, recall and F1.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels, 1 = anomaly.
    """
    y_true = check_binary_labels(y_true, "y_true")
    y_pred = check_binary_labels(y_pred, "y_pred")
    return {
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
    }


def ranking_metrics(y_true, scores) -> dict[str, float]:
    """Return average precision (area under the PR curve) and ROC-AUC.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels, 1 = anomaly; both classes must be present.
    scores : array-like of shape (n_samples,)
        Anomaly scores, higher = more anomalous.
    """
    y_true, scores = _check_scores(y_true, scores)
    _require_both_classes(y_true, "true labels")
    return {
        "average_precision": float(average_precision_score(y_true, scores)),
        "roc_auc": float(roc_auc_score(y_true, scores)),
    }


def evaluate_scores(y_true, scores, threshold: float) -> dict[str, float]:
    """Return ranking metrics and, at ``threshold``, classification metrics."""
    metrics = ranking_metrics(y_true, scores)
    y_pred = (np.asarray(scores) >= threshold).astype(np.int64)
    metrics.update(classification_metrics(y_true, y_pred))
    return metrics


def evaluate_detector(detector, X_test, y_test) -> dict[str, float]:
    """Score ``X_test`` with a fitted detector and return all metrics.

    The detector's own ``threshold_`` (fitted without test labels) gives the
    predictions; ``score_seconds`` is added to the result.
    """
    start = time.perf_counter()
    scores = detector.score_samples(X_test)
    seconds = time.perf_counter() - start
    metrics = evaluate_scores(y_test, scores, detector.threshold_)
    metrics["score_seconds"] = seconds
    return metrics


def report_text(y_true, y_pred) -> str:
    """Return scikit-learn's classification report with named classes."""
    return classification_report(
        check_binary_labels(y_true, "y_true"),
        check_binary_labels(y_pred, "y_pred"),
        labels=[0, 1],
        target_names=["normal", "anomaly"],
        digits=3,
        zero_division=0,
    )


def confusion(y_true, y_pred) -> np.ndarray:
    """Return the 2x2 confusion matrix, rows true and columns predicted (0, 1)."""
    return confusion_matrix(
        check_binary_labels(y_true, "y_true"),
        check_binary_labels(y_pred, "y_pred"),
        labels=[0, 1],
    )


@contextmanager
def timer():
    """Measure the wall time of a block: ``with timer() as t: ...; t()``."""
    start = time.perf_counter()
    elapsed = [None]

    def seconds() -> float:
        return elapsed[0] if elapsed[0] is not None else time.perf_counter() - start

    try:
        yield seconds
    finally:
        elapsed[0] = time.perf_counter() - start


def summarise(
    records: pd.DataFrame,
    by: Sequence[str] = ("dataset", "model", "metric"),
) -> pd.DataFrame:
    """Return mean, standard deviation and count of ``value`` over seeds."""
    grouped = records.groupby(list(by), sort=True)["value"]
    table = grouped.agg(mean="mean", sd="std", n="count").reset_index()
    table["sd"] = table["sd"].fillna(0.0)
    return table


def mean_sd_table(
    records: pd.DataFrame,
    metric: str,
    index: str = "model",
    columns: str = "dataset",
    digits: int = 3,
) -> pd.DataFrame:
    """Return a table of "mean ± sd" strings for one metric."""
    chosen = records[records["metric"] == metric]
    if chosen.empty:
        raise ValueError(
            f"no records for metric {metric!r}; available metrics: "
            f"{sorted(records['metric'].unique())}"
        )
    stats = summarise(chosen, by=(index, columns))
    stats["text"] = [
        f"{m:.{digits}f} ± {s:.{digits}f}" for m, s in zip(stats["mean"], stats["sd"])
    ]
    return stats.pivot(index=index, columns=columns, values="text")


# --------------------------------------------------------------------------
# Result records
# --------------------------------------------------------------------------


@dataclass
class RecordBook:
    """Collector of tidy result records for one notebook run.

    Parameters
    ----------
    notebook : str
        Notebook stem such as ``"01_synthetic_autoencoder"``; the records go
        to ``results/<notebook>.csv``.
    profile : str
        Run profile, ``"quick"`` or ``"full"``.
    """

    notebook: str
    profile: str

    def __post_init__(self) -> None:
        self._rows: list[dict] = []

    def add(
        self,
        *,
        dataset: str,
        model: str,
        seed: int,
        metrics: dict[str, float],
        data_source: str = "synthetic",
        setting: str = "unsupervised",
        fit_seconds: float = float("nan"),
        score_seconds: float = float("nan"),
    ) -> None:
        """Add one row per metric for a (dataset, model, seed) run."""
        if setting not in SETTINGS:
            raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
        metrics = dict(metrics)
        score_seconds = metrics.pop("score_seconds", score_seconds)
        fit_seconds = metrics.pop("fit_seconds", fit_seconds)
        for metric, value in metrics.items():
            self._rows.append(
                {
                    "notebook": self.notebook,
                    "profile": self.profile,
                    "dataset": dataset,
                    "data_source": data_source,
                    "model": model,
                    "setting": setting,
                    "seed": int(seed),
                    "metric": metric,
                    "value": float(value),
                    "fit_seconds": float(fit_seconds),
                    "score_seconds": float(score_seconds),
                }
            )

    def frame(self) -> pd.DataFrame:
        """Return the collected records as a DataFrame in the record schema."""
        return pd.DataFrame(self._rows, columns=list(RECORD_COLUMNS))

    def write(self, output_dir=None) -> Path:
        """Write the records atomically to ``results/<notebook>.csv``."""
        return write_records(self.frame(), self.notebook, output_dir=output_dir)


def write_records(records: pd.DataFrame, notebook: str, output_dir=None) -> Path:
    """Write records to ``results/<notebook>.csv`` through a temporary file.

    The file is replaced in one step, so a crash never leaves a half-written
    CSV. Floats are written with 10 significant digits so that two runs with
    the same seeds give byte-identical files on CPU.

    Parameters
    ----------
    records : pandas.DataFrame
        Rows in the record schema (see ``RECORD_COLUMNS``).
    notebook : str
        File stem, for example ``"03_creditcard_autoencoder"``.
    output_dir : path-like, default=None
        Output root; see :func:`anomaly_utils.config.output_root`.
    """
    missing = [c for c in RECORD_COLUMNS if c not in records.columns]
    if missing:
        raise ValueError(f"records are missing columns {missing}")
    if records.empty:
        raise ValueError(f"no records to write for {notebook!r}")
    target = results_dir(output_dir) / f"{notebook}.csv"
    ordered = records.loc[:, list(RECORD_COLUMNS)]
    _atomic_write(
        target, lambda f: ordered.to_csv(f, index=False, float_format="%.10g")
    )
    logger.info("Wrote %d records to %s", len(ordered), target)
    return target


def read_records(paths: Iterable[os.PathLike]) -> pd.DataFrame:
    """Read and concatenate record files, checking their columns."""
    frames = []
    for path in paths:
        frame = pd.read_csv(path)
        missing = [c for c in RECORD_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{path} is not a result record file: missing columns {missing}; "
                "rerun the notebook that writes it"
            )
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(RECORD_COLUMNS))
    return pd.concat(frames, ignore_index=True)


def _atomic_write(target: Path, write: Callable, mode: str = "w") -> None:
    """Write through ``write(file)`` into a temporary sibling, then rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, mode, newline="" if "b" not in mode else None) as f:
            write(f)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
