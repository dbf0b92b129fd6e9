"""Fit-and-evaluate loops shared by the notebooks.

Each function fits detectors through :func:`anomaly_utils.models.make_detector`,
times fit and scoring, evaluates on held-out data at the detector's own
threshold and returns tidy records, so notebooks stay a few lines per step.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .evaluation import RecordBook, evaluate_scores
from .models import make_detector

logger = logging.getLogger(__name__)


@dataclass
class FittedRun:
    """A fitted detector with its test scores and metrics."""

    name: str
    detector: object
    scores: np.ndarray
    metrics: dict[str, float]
    fit_seconds: float
    score_seconds: float
    extras: dict = field(default_factory=dict)

    @property
    def predictions(self) -> np.ndarray:
        """Test predictions at the detector's fitted threshold (1 = anomaly)."""
        return (self.scores >= self.detector.threshold_).astype(np.int64)


def fit_and_score(
    name: str,
    params: Mapping,
    X_train,
    X_test,
    y_test,
    *,
    y_train=None,
    validation_data=None,
) -> FittedRun:
    """Fit one detector, score the test data and compute every metric.

    Parameters
    ----------
    name : str
        Registered detector name.
    params : mapping
        Constructor parameters, ``random_state`` included.
    X_train, y_train : array-like
        Training data; ``y_train`` is passed to detectors that use labels.
    X_test, y_test : array-like
        Held-out data for the metrics; never used for the threshold.
    validation_data : tuple (X_val, y_val), default=None
        Labelled validation data for the threshold and early stopping.
    """
    detector = make_detector(name, **params)
    start = time.perf_counter()
    detector.fit(X_train, y_train, validation_data=validation_data)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = detector.score_samples(X_test)
    score_seconds = time.perf_counter() - start
    metrics = evaluate_scores(y_test, scores, detector.threshold_)
    logger.info(
        "%s: fit %.1f s, score %.1f s, AP %.3f, ROC-AUC %.3f, macro F1 %.3f",
        name,
        fit_seconds,
        score_seconds,
        metrics["average_precision"],
        metrics["roc_auc"],
        metrics["macro_f1"],
    )
    return FittedRun(name, detector, scores, metrics, fit_seconds, score_seconds)


def run_toy_comparison(
    train_sets: Mapping[str, tuple[np.ndarray, np.ndarray]],
    test_sets: Mapping[str, tuple[np.ndarray, np.ndarray]],
    model_params: Mapping[str, Mapping],
    seeds: Sequence[int],
    book: RecordBook,
    setting: str = "unsupervised",
) -> dict[str, dict[str, object]]:
    """Fit every model on every toy set for every seed and record the metrics.

    Each detector is fitted without labels on the training draw (its
    threshold comes from the ``contamination`` parameter) and evaluated on
    an independent test draw of the same set.

    Parameters
    ----------
    train_sets, test_sets : mapping of dataset name -> (X, y)
        Training and test draws of each toy set.
    model_params : mapping of detector name -> parameters
        Parameters per model; ``random_state`` is set to each seed.
    seeds : sequence of int
        Seeds; the detectors fitted with the first one are returned.
    book : RecordBook
        Receives one record per metric, model, dataset and seed.

    Returns
    -------
    dict
        ``{model: {dataset: detector}}`` fitted with the first seed, for
        decision-boundary figures.
    """
    first_fits: dict[str, dict[str, object]] = {model: {} for model in model_params}
    for seed in seeds:
        for dataset, (X_train, _) in train_sets.items():
            X_test, y_test = test_sets[dataset]
            for model, params in model_params.items():
                run = fit_and_score(
                    model, {**params, "random_state": seed}, X_train, X_test, y_test
                )
                book.add(
                    dataset=dataset,
                    model=model,
                    seed=seed,
                    metrics=run.metrics,
                    data_source="synthetic",
                    setting=setting,
                    fit_seconds=run.fit_seconds,
                    score_seconds=run.score_seconds,
                )
                if seed == seeds[0]:
                    first_fits[model][dataset] = run.detector
    return first_fits


def panel_scores(
    records: pd.DataFrame, seed: int, metric: str = "macro_f1"
) -> dict[tuple[str, str], float]:
    """Return ``{(model, dataset): value}`` of one metric for one seed."""
    chosen = records[(records["metric"] == metric) & (records["seed"] == seed)]
    return {
        (row.model, row.dataset): row.value for row in chosen.itertuples(index=False)
    }


def seed_list(seed: int, n_seeds: int) -> list[int]:
    """Return ``n_seeds`` consecutive seeds starting at ``seed``."""
    if n_seeds < 1:
        raise ValueError(f"n_seeds must be at least 1, got {n_seeds}")
    return [seed + offset for offset in range(n_seeds)]


def run_split_comparison(
    splits,
    model_params: Mapping[str, Mapping],
    seeds: Sequence[int],
    book: RecordBook,
    *,
    dataset: str = "creditcard",
    train_on: str = "normal",
    settings: Mapping[str, str] | None = None,
) -> dict[str, FittedRun]:
    """Fit every model on one train/validation/test split for several seeds.

    Thresholds come from the validation part (maximum F1 for the default
    ``threshold_method="auto"``); metrics from the test part only.

    Parameters
    ----------
    splits : anomaly_utils.data.Splits
        Train, validation and test parts, scaled on training rows.
    model_params : mapping of detector name -> parameters
        ``random_state`` is set to each seed.
    seeds : sequence of int
        Seeds; the runs of the first seed are returned for figures.
    book : RecordBook
        Receives the records, tagged real or synthetic from ``splits``.
    dataset : str, default="creditcard"
        Dataset name in the records.
    train_on : {"normal", "all"}, default="normal"
        ``"normal"`` fits label-free detectors on the normal training rows
        only (the semi-supervised setting); ``"all"`` uses every training
        row. Detectors that learn from labels always get every row and ``y``.
    settings : mapping of detector name -> setting, default=None
        Overrides the recorded setting per model.

    Returns
    -------
    dict of str -> FittedRun
        The first seed's runs, keyed by detector name.
    """
    if train_on not in ("normal", "all"):
        raise ValueError(f"train_on must be 'normal' or 'all', got {train_on!r}")
    data_source = splits.data_source
    settings = dict(settings or {})
    first_runs: dict[str, FittedRun] = {}
    validation = (splits.X_val, splits.y_val)
    for seed in seeds:
        for model, params in model_params.items():
            detector_params = {**params, "random_state": seed}
            uses_labels = make_detector(model, **detector_params).uses_labels
            if uses_labels or train_on == "all":
                X_train, y_train = splits.X_train, splits.y_train
            else:
                X_train, y_train = splits.normal_train(), None
            run = fit_and_score(
                model,
                detector_params,
                X_train,
                splits.X_test,
                splits.y_test,
                y_train=y_train if uses_labels else None,
                validation_data=validation,
            )
            default_setting = (
                "supervised"
                if uses_labels
                else ("semi-supervised" if train_on == "normal" else "unsupervised")
            )
            book.add(
                dataset=dataset,
                model=model,
                seed=seed,
                metrics=run.metrics,
                data_source=data_source,
                setting=settings.get(model, default_setting),
                fit_seconds=run.fit_seconds,
                score_seconds=run.score_seconds,
            )
            if seed == seeds[0]:
                first_runs[model] = run
    return first_runs


#: Autoencoder epochs on the 2-D toy sets, per profile.
TOY_AUTOENCODER_EPOCHS = {"quick": 150, "full": 300}


def toy_model_params(
    outlier_fraction: float = 0.15, epochs: int | None = None, profile: str = "quick"
) -> dict[str, dict]:
    """Return the detector parameters used on the 2-D toy sets.

    Notebooks 01 and 05 share them, so the final comparison redraws the same
    models that notebook 01 evaluated.

    Parameters
    ----------
    outlier_fraction : float, default=0.15
        True outlier share, passed as ``contamination`` (and ``nu``).
    epochs : int, default=None
        Autoencoder epochs; None takes ``TOY_AUTOENCODER_EPOCHS[profile]``.
    profile : {"quick", "full"}, default="quick"
        Run profile.
    """
    epochs = epochs or TOY_AUTOENCODER_EPOCHS[profile]
    return {
        "autoencoder": {
            "hidden_units": (32, 16, 1),
            "activation": "tanh",
            "epochs": epochs,
            "batch_size": 32,
            "learning_rate": 5e-3,
            "patience": 30,
            "contamination": outlier_fraction,
        },
        "isolation_forest": {"contamination": outlier_fraction},
        "lof": {"n_neighbors": 35, "contamination": outlier_fraction},
        "ocsvm": {"nu": outlier_fraction, "contamination": outlier_fraction},
        "sgd_ocsvm": {"nu": outlier_fraction, "contamination": outlier_fraction},
    }


#: DQL episodes on the toy sets, per profile.
TOY_DQL_EPISODES = {"quick": 6, "full": 10}


def toy_dql_params(
    outlier_fraction: float = 0.15,
    n_episodes: int | None = None,
    profile: str = "quick",
) -> dict:
    """Return the DQL parameters of the toy-set boundary grid in notebook 05.

    They are the values notebook 04 passes on the toy sets.

    On the toy sets the DQL runs without labels: the top Isolation Forest
    scores stand in for labelled anomalies.
    """
    return {
        "contamination": outlier_fraction,
        "n_episodes": n_episodes or TOY_DQL_EPISODES[profile],
        "l2": 0.01,
        "intrinsic_weight": 1.0,
    }


def toy_mlp_params(outlier_fraction: float = 0.15) -> dict:
    """Return the supervised MLP parameters used on the 2-D toy sets.

    The MLP learns from the toy labels, so it is a supervised reference for
    the label-free detectors, not a competitor on equal terms.
    """
    return {
        "hidden_units": (32, 32),
        "dropout": 0.0,
        "learning_rate": 1e-2,
        "batch_size": 64,
        "epochs": 200,
        "patience": 30,
        "contamination": outlier_fraction,
    }
