"""Experiments and figures of notebook 04: the DQL detector with few labels.

The credit-card experiment gives the DQL detector ``k`` labelled frauds out
of all frauds in the training part, and every other training row is
unlabelled. :func:`run_label_sweep` fits it for several ``k`` and seeds and
records the test metrics under the model name ``dql_k<k>``. The plotting
functions draw the metrics against ``k``, the learning curves and the score
histograms.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .evaluation import RecordBook, check_binary_labels
from .experiments import FittedRun, fit_and_score
from .models import display_name
from .plotting import plot_score_histogram

logger = logging.getLogger(__name__)

#: Records of the label sweep use the model name ``dql_k<k>``.
DQL_MODEL_PATTERN = re.compile(r"^dql_k(\d+)$")

#: Panels of :func:`plot_learning_curves`: history key -> (title, y-axis label).
LEARNING_CURVE_PANELS = {
    "episode_return": ("Episode return", "mean return per environment"),
    "td_loss": ("TD loss", "mean Huber loss (log scale)"),
    "q_range": ("Q-values seen while acting", "Q-value (min to max)"),
    "val_average_precision": ("Validation average precision", "average precision"),
}

#: Axis and title names of the metrics in records.
METRIC_NAMES = {
    "average_precision": "average precision",
    "roc_auc": "ROC-AUC",
    "macro_f1": "macro F1",
}


def dql_model_name(k: int) -> str:
    """Return the record name of the DQL detector trained with ``k`` labels."""
    return f"dql_k{int(k)}"


def labelled_count(model: str) -> int | None:
    """Return ``k`` of a ``dql_k<k>`` model name, or None for other models."""
    match = DQL_MODEL_PATTERN.match(model)
    return int(match.group(1)) if match else None


def keep_labelled_anomalies(y, k: int, random_state=None) -> np.ndarray:
    """Return a copy of ``y`` in which only ``k`` anomalies keep the label 1.

    The other anomalies become 0, which the DQL detector reads as
    "unlabelled", the weakly supervised setting. The kept anomalies are the
    first ``k`` of one seeded permutation, so with the same ``random_state``
    the set kept for a smaller ``k`` is contained in the set for a larger one.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Full labels, 1 = anomaly.
    k : int
        Number of anomalies that stay labelled, from 0 to the number of
        anomalies in ``y``.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the permutation.

    Returns
    -------
    ndarray of shape (n_samples,), int64
        Weak labels with exactly ``k`` ones.
    """
    y = check_binary_labels(y)
    anomalies = np.flatnonzero(y == 1)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an integer, got {k!r}")
    if not 0 <= k <= anomalies.size:
        raise ValueError(
            f"k={k} is outside 0..{anomalies.size}: y contains {anomalies.size} "
            "anomalies to keep labels for"
        )
    rng = np.random.default_rng(random_state)
    labelled_rows = rng.permutation(anomalies)[:k]
    weak = np.zeros_like(y)
    weak[labelled_rows] = 1
    return weak


@dataclass
class LabelSweep:
    """Outcome of :func:`run_label_sweep`.

    Attributes
    ----------
    histories : dict of (k, seed) -> dict
        ``history_`` of every DQL fit.
    first_runs : dict of k -> FittedRun
        The runs of the first seed, with test scores, for figures.
    """

    histories: dict[tuple[int, int], dict] = field(default_factory=dict)
    first_runs: dict[int, FittedRun] = field(default_factory=dict)


def run_label_sweep(
    splits,
    ks: Sequence[int],
    seeds: Sequence[int],
    book: RecordBook,
    dql_params: Mapping | None = None,
    *,
    dataset: str = "creditcard",
) -> LabelSweep:
    """Fit the DQL detector with ``k`` labelled anomalies for every k and seed.

    For each seed, :func:`keep_labelled_anomalies` with that seed picks the
    labelled training anomalies, so the sets are nested across ``k``. The
    threshold comes from the validation part and the metrics from the test
    part, as for the other detectors.

    Parameters
    ----------
    splits : anomaly_utils.data.Splits
        Train, validation and test parts with full labels.
    ks : sequence of int
        Numbers of labelled training anomalies.
    seeds : sequence of int
        Seeds of the label choice and of the detector.
    book : RecordBook
        Receives the records as model ``dql_k<k>``, setting
        ``"weakly-supervised"`` (``"unsupervised"`` for ``k=0``).
    dql_params : mapping, default=None
        Extra ``DQLDetector`` parameters; ``random_state`` is set per seed.
    dataset : str, default="creditcard"
        Dataset name in the records.
    """
    if len(ks) == 0 or len(seeds) == 0:
        raise ValueError(f"ks and seeds must not be empty, got {ks!r} and {seeds!r}")
    data_source = "synthetic" if "SYNTHETIC" in splits.source_label else "real"
    sweep = LabelSweep()
    for seed in seeds:
        for k in ks:
            weak_labels = keep_labelled_anomalies(splits.y_train, k, random_state=seed)
            run = fit_and_score(
                "dql",
                {**(dql_params or {}), "random_state": seed},
                splits.X_train,
                splits.X_test,
                splits.y_test,
                y_train=weak_labels,
                validation_data=(splits.X_val, splits.y_val),
            )
            book.add(
                dataset=dataset,
                model=dql_model_name(k),
                seed=seed,
                metrics=run.metrics,
                data_source=data_source,
                setting=run.detector.setting_,
                fit_seconds=run.fit_seconds,
                score_seconds=run.score_seconds,
            )
            sweep.histories[(k, seed)] = run.detector.history_
            if seed == seeds[0]:
                sweep.first_runs[k] = run
            logger.info(
                "DQL k=%d seed %d: test AP %.3f, best episode %d",
                k,
                seed,
                run.metrics["average_precision"],
                run.detector.best_episode_,
            )
    return sweep


def metric_by_k(records: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Return mean and sd over seeds of one metric for every model.

    Returns
    -------
    pandas.DataFrame
        Columns ``model, k, mean, sd, n``; ``k`` is NaN for models other
        than ``dql_k<k>``. Rows are sorted by ``k``, then model.
    """
    chosen = records[records["metric"] == metric]
    if chosen.empty:
        raise ValueError(
            f"no records for metric {metric!r}; available metrics: "
            f"{sorted(records['metric'].unique())}"
        )
    stats = chosen.groupby("model")["value"].agg(mean="mean", sd="std", n="count")
    stats["sd"] = stats["sd"].fillna(0.0)
    stats = stats.reset_index()
    stats.insert(1, "k", [labelled_count(model) for model in stats["model"]])
    stats["k"] = stats["k"].astype("Float64")
    return stats.sort_values(["k", "model"], na_position="last").reset_index(drop=True)


def plot_metric_against_k(
    records: pd.DataFrame,
    metrics: Sequence[str] = ("average_precision", "roc_auc"),
    *,
    title: str | None = None,
):
    """Draw DQL test metrics against the number of labelled anomalies.

    DQL points are means over seeds with one standard deviation as error
    bars. Every other model in ``records`` is a horizontal line at its mean
    with a band of one standard deviation, since it does not use ``k``.

    Parameters
    ----------
    records : pandas.DataFrame
        Result records with ``dql_k<k>`` models and baselines.
    metrics : sequence of str, default=("average_precision", "roc_auc")
        One panel per metric.
    title : str, default=None
        Figure title (give it the data source).
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.6 * len(metrics), 4.2))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics):
        stats = metric_by_k(records, metric)
        dql = stats[stats["k"].notna()]
        baselines = stats[stats["k"].isna()]
        ks = dql["k"].to_numpy(dtype=float)
        if ks.size == 0:
            raise ValueError("records contain no dql_k<k> models to plot")
        ax.errorbar(
            ks,
            dql["mean"],
            yerr=dql["sd"],
            marker="o",
            capsize=4,
            color="black",
            label=f"{display_name('dql')} (mean ± sd, n={int(dql['n'].max())})",
        )
        for index, row in enumerate(baselines.itertuples(index=False)):
            color = f"C{index}"
            ax.axhline(
                row.mean, color=color, ls="--", lw=1.2, label=display_name(row.model)
            )
            ax.axhspan(row.mean - row.sd, row.mean + row.sd, color=color, alpha=0.12)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(int(k)) for k in ks])
        ax.minorticks_off()
        name = METRIC_NAMES.get(metric, metric.replace("_", " "))
        ax.set_xlabel("labelled anomalies in training (k)")
        ax.set_ylabel(name)
        ax.set_title(f"Test {name}")
        ax.legend(fontsize=8, frameon=False, loc="best")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    title: str | None = None,
):
    """Draw the DQL training history per episode, one line per run.

    Panels: mean episode return, mean TD loss, the range of Q-values seen
    while acting (shaded between minimum and maximum) and validation
    average precision, all read from ``DQLDetector.history_``.

    Parameters
    ----------
    histories : mapping of run label -> history
        For example ``{"k=20": detector.history_}``.
    title : str, default=None
        Figure title (give it the data source).
    """
    fig, axes = plt.subplots(2, 2, figsize=(11.0, 7.0), sharex=True)
    for index, (label, history) in enumerate(histories.items()):
        color = f"C{index % 10}"
        episodes = np.arange(1, len(history["episode_return"]) + 1)
        for ax, key in zip(axes.ravel(), LEARNING_CURVE_PANELS):
            if key == "q_range":
                ax.fill_between(
                    episodes,
                    history["q_min"],
                    history["q_max"],
                    color=color,
                    alpha=0.25,
                    label=label,
                )
            else:
                ax.plot(episodes, history[key], marker=".", color=color, label=label)
    for ax, (key, (panel_title, ylabel)) in zip(
        axes.ravel(), LEARNING_CURVE_PANELS.items()
    ):
        ax.set_ylabel(ylabel)
        ax.set_title(panel_title, fontsize=10)
        if key == "td_loss":
            ax.set_yscale("log")
    for ax in axes[1]:
        ax.set_xlabel("episode")
    axes[0, 0].legend(fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_score_histograms(
    runs: Mapping[str, FittedRun],
    y_true,
    *,
    title: str | None = None,
):
    """Draw test-score histograms by class, one panel per run.

    The x axis is linear because ``Q(anomaly) - Q(normal)`` can be negative;
    the dashed line is each detector's validation threshold.

    Parameters
    ----------
    runs : mapping of panel title -> FittedRun
        Fitted runs with test scores.
    y_true : array-like of shape (n_samples,)
        Test labels, 1 = anomaly.
    title : str, default=None
        Figure title (give it the data source).
    """
    if not runs:
        raise ValueError("runs is empty; pass at least one fitted run")
    n_cols = min(len(runs), 4)
    n_rows = int(np.ceil(len(runs) / n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.2 * n_cols, 3.4 * n_rows), squeeze=False
    )
    for ax, (label, run) in zip(axes.ravel(), runs.items()):
        plot_score_histogram(
            run.scores,
            y_true,
            run.detector.threshold_,
            ax=ax,
            bins=50,
            xlabel="Q(anomaly) - Q(normal)",
            title=label,
            log_x=False,
        )
        ax.legend(fontsize=7, frameon=False)
    for ax in axes.ravel()[len(runs) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
