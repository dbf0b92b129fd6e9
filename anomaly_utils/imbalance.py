"""Class-imbalance experiments with the supervised MLP: data, runs, tables, figures.

Notebook 02 measures how far a supervised classifier gets when anomalies
are rare but labelled, and what the standard remedies buy. This module builds
the imbalanced ``make_classification`` splits, fits one MLP per remedy,
dataset and seed, and turns the runs into tidy records, tables and figures.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import classification_report, precision_recall_curve
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from .data import Splits, make_imbalanced_dataset, stratified_split
from .evaluation import RecordBook, classification_metrics, summarise
from .experiments import FittedRun, fit_and_score
from .models.mlp import IMBALANCE_REMEDIES, parse_imbalance

logger = logging.getLogger(__name__)

#: Remedies compared in notebook 02, in display order.
REMEDIES = IMBALANCE_REMEDIES

#: Display names of the remedies.
REMEDY_TITLES = {
    "none": "no remedy",
    "class_weight": "class weights",
    "oversample": "oversampling",
    "bias_init": "output bias init",
}

#: Variants of the credit-card part: the four single remedies, then the
#: combinations TensorFlow's imbalanced-data tutorial trains (its baseline,
#: class-weighted and oversampled models all start from the log-odds bias).
CREDITCARD_REMEDIES = REMEDIES + ("class_weight+bias_init", "oversample+bias_init")

#: Anomaly shares of the imbalanced toy sets, keyed by their record names.
IMBALANCE_LEVELS = {
    "imbalanced_10pct": 0.10,
    "imbalanced_1pct": 0.01,
    "imbalanced_0.1pct": 0.001,
}

#: Label noise of the toy sets as a share of the anomaly fraction, so that
#: about 5 % of the anomaly labels are random at every level.
RELATIVE_LABEL_NOISE = 0.1

#: Probability threshold at which TensorFlow's imbalanced-data tutorial
#: reports test precision and recall.
TUTORIAL_THRESHOLD = 0.5

#: Figures published in TensorFlow's tutorial "Classification on imbalanced
#: data" (https://www.tensorflow.org/tutorials/structured_data/imbalanced_data)
#: for one run of its 16-unit MLP on the full credit-card data: validation
#: PR-AUC of its three models, and test precision and recall of its baseline
#: at threshold 0.5. Each entry is (tutorial model, the remedy that trains
#: the same model here, metric, published value). All three tutorial models
#: start from the log-odds output bias. The tutorial's notebook is
#: re-executed when its page is rebuilt, so a later version of the page may
#: show other values.
TF_TUTORIAL_REFERENCE = (
    ("baseline", "bias_init", "val_average_precision", 0.79),
    ("class weights", "class_weight+bias_init", "val_average_precision", 0.66),
    ("oversampling", "oversample+bias_init", "val_average_precision", 0.74),
    ("baseline", "bias_init", "precision_at_0.5", 0.92),
    ("baseline", "bias_init", "recall_at_0.5", 0.76),
)


def level_name(fraction: float) -> str:
    """Return the record name of an imbalance level, e.g. ``"imbalanced_1pct"``."""
    if not 0.0 < fraction < 0.5:
        raise ValueError(f"fraction must be in (0, 0.5), got {fraction!r}")
    return f"imbalanced_{fraction * 100:g}pct"


def share_label(fraction: float) -> str:
    """Return an anomaly share as a short label, e.g. ``0.001`` -> ``"0.1 %"``."""
    return f"{fraction * 100:g} %"


def variant_name(remedy: str) -> str:
    """Return the record model name of an MLP variant, e.g. ``"mlp_oversample"``.

    Combined remedies join their names with underscores in the order of
    ``IMBALANCE_REMEDIES``, so ``"bias_init+oversample"`` gives
    ``"mlp_oversample_bias_init"``.
    """
    remedies = parse_imbalance(remedy)
    return "mlp_" + ("_".join(remedies) if remedies else "none")


def remedy_title(remedy: str) -> str:
    """Return the display name of a remedy or combination, e.g. ``"class weights"``."""
    remedies = parse_imbalance(remedy) or ("none",)
    return " + ".join(REMEDY_TITLES[name] for name in remedies)


def variant_title(remedy: str) -> str:
    """Return the display name of an MLP variant, e.g. ``"MLP, class weights"``."""
    return f"MLP, {remedy_title(remedy)}"


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def make_imbalanced_splits(
    levels: Mapping[str, float],
    n_samples: int,
    random_state: int = 0,
    *,
    val_size: float = 0.2,
    test_size: float = 0.2,
) -> dict[str, Splits]:
    """Draw one stratified, scaled split of a ``make_classification`` set per level.

    Each level gets its own draw of ``n_samples`` rows with the level's
    anomaly share (see :func:`anomaly_utils.data.make_imbalanced_dataset`),
    label noise of ``RELATIVE_LABEL_NOISE`` times that share, a stratified
    train/validation/test split and a standard scaler fitted on the
    training rows.

    Parameters
    ----------
    levels : mapping of name -> anomaly fraction
        For example :data:`IMBALANCE_LEVELS`.
    n_samples : int
        Rows per level, before the split. The rarest level needs at least 3
        anomalies in each part, for example 15,000 rows at 0.1 %.
    random_state : int, default=0
        Seed of the draws and splits; level ``i`` uses ``random_state + i``
        for the data and the split alike.
    val_size, test_size : float, default=0.2
        Shares of the rows in the validation and test parts.

    Returns
    -------
    dict of str -> Splits
        Scaled parts per level, with ``source_label`` naming the generator.
    """
    splits = {}
    for index, (name, fraction) in enumerate(levels.items()):
        seed = int(random_state) + index
        X, y = make_imbalanced_dataset(
            n_samples,
            fraction,
            flip_y=RELATIVE_LABEL_NOISE * fraction,
            random_state=seed,
        )
        X_train, y_train, X_val, y_val, X_test, y_test = stratified_split(
            X, y, val_size=val_size, test_size=test_size, random_state=seed
        )
        scaler = StandardScaler().fit(X_train)
        splits[name] = Splits(
            X_train=scaler.transform(X_train),
            y_train=y_train,
            X_val=scaler.transform(X_val),
            y_val=y_val,
            X_test=scaler.transform(X_test),
            y_test=y_test,
            feature_names=[f"x{i}" for i in range(X.shape[1])],
            scaler=scaler,
            source_label=f"synthetic (make_classification, {fraction:.1%} anomalies)",
        )
        logger.info(
            "%s: %d training rows with %d anomalies, %d test anomalies",
            name,
            y_train.size,
            int(y_train.sum()),
            int(y_test.sum()),
        )
    return splits


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


@dataclass
class RemedyResults:
    """Fitted MLP runs of a remedy experiment, keyed by dataset, remedy and seed.

    Attributes
    ----------
    runs : dict of (dataset, remedy, seed) -> FittedRun
        Fitted detector, test scores and test metrics of every run.
    y_test : dict of (dataset, seed) -> ndarray
        Test labels each run was scored against.
    seeds : list of int
        Seeds in run order; the first one is the representative run.
    remedies : list of str
        Remedies in run order.
    datasets : list of str
        Dataset names in run order.
    """

    runs: dict[tuple[str, str, int], FittedRun] = field(default_factory=dict)
    y_test: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)

    def run(self, dataset: str, remedy: str, seed: int | None = None) -> FittedRun:
        """Return one run; ``seed=None`` means the first seed."""
        seed = self.seeds[0] if seed is None else seed
        key = (dataset, remedy, seed)
        if key not in self.runs:
            raise KeyError(
                f"no run for dataset={dataset!r}, remedy={remedy!r}, seed={seed}; "
                f"datasets {self.datasets}, remedies {self.remedies}, seeds "
                f"{self.seeds}"
            )
        return self.runs[key]

    def labels(self, dataset: str, seed: int | None = None) -> np.ndarray:
        """Return the test labels of ``dataset`` for ``seed`` (first by default)."""
        seed = self.seeds[0] if seed is None else seed
        return self.y_test[(dataset, seed)]

    def scores(self, dataset: str, seed: int | None = None) -> dict[str, np.ndarray]:
        """Return ``{remedy: test scores}`` of one dataset and seed."""
        return {
            remedy: self.run(dataset, remedy, seed).scores for remedy in self.remedies
        }


def threshold_metrics(y_true, scores, threshold: float) -> dict[str, float]:
    """Return anomaly-class precision and recall at a fixed probability threshold.

    The keys carry the threshold, e.g. ``precision_at_0.5``, so that they sit
    beside the validation-threshold metrics in the same records.
    """
    y_pred = (np.asarray(scores) >= threshold).astype(np.int64)
    metrics = classification_metrics(y_true, y_pred)
    return {
        f"precision_at_{threshold:g}": metrics["precision"],
        f"recall_at_{threshold:g}": metrics["recall"],
    }


def run_remedy_experiment(
    make_splits: Callable[[int], Mapping[str, Splits]],
    remedies: Sequence[str],
    seeds: Sequence[int],
    mlp_params: Mapping,
    book: RecordBook,
    *,
    data_source: str = "synthetic",
    progress: bool = True,
) -> RemedyResults:
    """Fit one MLP per dataset, remedy and seed; record every test metric.

    For each seed, ``make_splits(seed)`` gives the datasets, so a generator
    can draw fresh data per seed while a fixed split is reused by returning
    the same object. Each MLP trains on the training part with its labels,
    stops early and sets its threshold on the validation part, and is
    scored on the test part.

    Parameters
    ----------
    make_splits : callable seed -> mapping of dataset name -> Splits
        Data for one seed.
    remedies : sequence of str
        Values of ``MLPDetector(imbalance=...)``, such as :data:`REMEDIES`.
    seeds : sequence of int
        Seeds of the detectors (and of ``make_splits``).
    mlp_params : mapping
        Other ``MLPDetector`` parameters shared by every run.
    book : RecordBook
        Receives the test metrics at the validation threshold, precision and
        recall at probability 0.5 and the best validation average precision,
        under model :func:`variant_name` and setting ``"supervised"``.
    data_source : {"real", "synthetic"}, default="synthetic"
        Data source written in the records.
    progress : bool, default=True
        Show a tqdm progress bar over the runs.

    Returns
    -------
    RemedyResults
        Every run with its test scores.
    """
    for name in ("imbalance", "random_state"):
        if name in mlp_params:
            raise ValueError(
                f"mlp_params must not set {name!r}; the experiment sets it per run"
            )
    for remedy in remedies:
        parse_imbalance(remedy)
    results = RemedyResults(seeds=list(seeds), remedies=list(remedies))
    bar = tqdm(total=None, desc="MLP runs", disable=not progress)
    try:
        for seed in seeds:
            splits_by_dataset = make_splits(seed)
            if not results.datasets:
                results.datasets = list(splits_by_dataset)
            for dataset, splits in splits_by_dataset.items():
                results.y_test[(dataset, seed)] = splits.y_test
                for remedy in remedies:
                    run = _fit_remedy(splits, remedy, seed, mlp_params)
                    results.runs[(dataset, remedy, seed)] = run
                    book.add(
                        dataset=dataset,
                        model=variant_name(remedy),
                        seed=seed,
                        metrics=run.metrics,
                        data_source=data_source,
                        setting="supervised",
                        fit_seconds=run.fit_seconds,
                        score_seconds=run.score_seconds,
                    )
                    bar.update()
    finally:
        bar.close()
    return results


def _fit_remedy(splits: Splits, remedy: str, seed: int, mlp_params) -> FittedRun:
    run = fit_and_score(
        "mlp",
        {**mlp_params, "imbalance": remedy, "random_state": seed},
        splits.X_train,
        splits.X_test,
        splits.y_test,
        y_train=splits.y_train,
        validation_data=(splits.X_val, splits.y_val),
    )
    run.metrics.update(threshold_metrics(splits.y_test, run.scores, TUTORIAL_THRESHOLD))
    run.metrics["val_average_precision"] = run.detector.best_val_average_precision_
    run.extras["remedy"] = remedy
    return run


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def report_table(results: RemedyResults, seed: int | None = None) -> pd.DataFrame:
    """Return the classification report of one seed's runs as a table.

    Rows are (dataset, remedy); columns are precision, recall and F1 of each
    class at the validation threshold, and macro F1.
    """
    rows = []
    for dataset in results.datasets:
        y_true = results.labels(dataset, seed)
        for remedy in results.remedies:
            run = results.run(dataset, remedy, seed)
            report = classification_report(
                y_true,
                run.predictions,
                labels=[0, 1],
                target_names=["normal", "anomaly"],
                output_dict=True,
                zero_division=0,
            )
            row = {"dataset": dataset, "remedy": remedy_title(remedy)}
            for name in ("normal", "anomaly"):
                for metric in ("precision", "recall", "f1-score"):
                    row[f"{name} {metric.removesuffix('-score')}"] = report[name][
                        metric
                    ]
                row[f"{name} support"] = int(report[name]["support"])
            row["macro F1"] = report["macro avg"]["f1-score"]
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dataset", "remedy"])


def tutorial_comparison(records: pd.DataFrame, dataset: str = "creditcard"):
    """Return TensorFlow's published figures next to this run's, per remedy.

    Parameters
    ----------
    records : pandas.DataFrame
        Result records holding the MLP variants on ``dataset``.
    dataset : str, default="creditcard"
        Dataset whose records are compared.

    Returns
    -------
    pandas.DataFrame
        One row per published figure: the tutorial's model, the matching
        variant here, the metric, the published value, and this run's mean,
        standard deviation and number of seeds (NaN and 0 when the records
        lack that variant).
        ``val_average_precision`` here is scikit-learn's average precision at
        the best epoch; the tutorial's PR-AUC is Keras' interpolated
        estimate of the same area.
    """
    chosen = records[records["dataset"] == dataset]
    stats = summarise(chosen, by=("model", "metric")).set_index(["model", "metric"])
    rows = []
    for tutorial_model, remedy, metric, published in TF_TUTORIAL_REFERENCE:
        key = (variant_name(remedy), metric)
        found = key in stats.index
        rows.append(
            {
                "TF tutorial model": tutorial_model,
                "variant here": variant_title(remedy),
                "metric": metric,
                "TF tutorial": published,
                "this run, mean": stats.loc[key, "mean"] if found else np.nan,
                "sd": stats.loc[key, "sd"] if found else np.nan,
                "seeds": int(stats.loc[key, "n"]) if found else 0,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def plot_metrics_by_level(
    records: pd.DataFrame,
    levels: Mapping[str, float],
    models: Mapping[str, str],
    *,
    metrics: Sequence[str] = ("macro_f1", "average_precision"),
    metric_titles: Mapping[str, str] | None = None,
    title: str | None = None,
):
    """Draw test metrics against the anomaly share, one line per model.

    Each point is the mean over seeds with a ±1 sd error bar. The x axis is
    the anomaly share on a log scale, rarest on the right.

    Parameters
    ----------
    records : pandas.DataFrame
        Result records with the datasets named in ``levels``.
    levels : mapping of dataset name -> anomaly fraction
        The imbalance levels, for example :data:`IMBALANCE_LEVELS`.
    models : mapping of model name -> legend label
        Record model names to draw.
    metrics : sequence of str, default=("macro_f1", "average_precision")
        One panel per metric.
    metric_titles : mapping, default=None
        Axis labels per metric.
    title : str, default=None
        Figure title.
    """
    metric_titles = metric_titles or {
        "macro_f1": "macro F1 (validation threshold)",
        "average_precision": "average precision",
    }
    chosen = records[records["dataset"].isin(list(levels))]
    stats = summarise(chosen, by=("dataset", "model", "metric"))
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(5.2 * len(metrics), 4.2), squeeze=False
    )
    offsets = np.linspace(-0.06, 0.06, max(len(models), 1))
    for ax, metric in zip(axes[0], metrics):
        for offset, (model, label) in zip(offsets, models.items()):
            rows = stats[(stats["model"] == model) & (stats["metric"] == metric)]
            rows = rows.assign(fraction=rows["dataset"].map(levels))
            rows = rows.sort_values("fraction")
            if rows.empty:
                continue
            # Small horizontal offsets keep overlapping error bars apart.
            ax.errorbar(
                rows["fraction"] * 10**offset,
                rows["mean"],
                yerr=rows["sd"],
                marker="o",
                capsize=3,
                label=label,
            )
        ax.set_xscale("log")
        fractions = sorted(levels.values())
        ax.set_xticks(fractions, [share_label(f) for f in fractions])
        ax.minorticks_off()
        ax.invert_xaxis()
        ax.set_xlabel("anomaly share (log scale)")
        ax.set_ylabel(metric_titles.get(metric, metric))
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8, frameon=False, loc="lower left")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_pr_curves_by_dataset(
    results: RemedyResults,
    *,
    dataset_titles: Mapping[str, str] | None = None,
    seed: int | None = None,
    title: str | None = None,
):
    """Draw one precision-recall panel per dataset, one curve per remedy.

    The legend gives each curve's average precision, computed from the same
    scores; the dotted line is the test prevalence (no skill).
    """
    from .evaluation import ranking_metrics

    dataset_titles = dataset_titles or {}
    n_panels = len(results.datasets)
    fig, axes = plt.subplots(1, n_panels, figsize=(4.6 * n_panels, 5.2), squeeze=False)
    for ax, dataset in zip(axes[0], results.datasets):
        y_true = results.labels(dataset, seed)
        for remedy, scores in results.scores(dataset, seed).items():
            precision, recall, _ = precision_recall_curve(y_true, scores)
            average_precision = ranking_metrics(y_true, scores)["average_precision"]
            ax.step(
                recall,
                precision,
                where="post",
                label=f"{remedy_title(remedy)} (AP {average_precision:.2f})",
            )
        ax.axhline(y_true.mean(), color="grey", ls=":", lw=1, label="no skill")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
        n_anomalies = int(y_true.sum())
        ax.set_title(
            f"{dataset_titles.get(dataset, dataset)}\n({n_anomalies} test anomalies)",
            fontsize=10,
        )
        # Below the panel, so the legend never hides a curve.
        ax.legend(
            fontsize=8,
            frameon=False,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.16),
            ncol=2,
        )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_validation_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    key: str = "val_average_precision",
    ylabel: str = "validation average precision",
    title: str | None = None,
):
    """Draw one early-stopping curve per run and mark the epoch that was kept.

    Parameters
    ----------
    histories : mapping of run label -> history dict
        ``MLPDetector.history_`` per run.
    key : str, default="val_average_precision"
        History entry to draw.
    ylabel : str, default="validation average precision"
        Y-axis label.
    title : str, default=None
        Figure title.
    """
    fig, ax = plt.subplots(figsize=(8.8, 4.4))
    for index, (label, history) in enumerate(histories.items()):
        values = np.asarray(history[key], dtype=float)
        epochs = np.arange(1, values.size + 1)
        color = f"C{index % 10}"
        ax.plot(epochs, values, color=color, label=label)
        best = int(np.argmax(values))
        ax.plot(epochs[best], values[best], "o", color=color, markersize=5)
    ax.plot([], [], "o", color="grey", label="kept epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_pr_curves(
    y_true,
    scores_by_model: Mapping[str, np.ndarray],
    *,
    title: str | None = None,
):
    """Draw the precision-recall curves of several models on one test set.

    The legend, right of the axes so that it hides no curve, gives each
    model's average precision computed from the same scores; the dotted line
    is the prevalence (no skill).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Test labels, 1 = anomaly.
    scores_by_model : mapping of label -> ndarray of shape (n_samples,)
        Anomaly scores per model, higher = more anomalous.
    title : str, default=None
        Figure title.
    """
    from .evaluation import check_binary_labels, ranking_metrics

    y_true = check_binary_labels(y_true)
    fig, ax = plt.subplots(figsize=(10.0, 5.0))
    for label, scores in scores_by_model.items():
        precision, recall, _ = precision_recall_curve(y_true, scores)
        average_precision = ranking_metrics(y_true, scores)["average_precision"]
        ax.step(
            recall,
            precision,
            where="post",
            label=f"{label} (AP {average_precision:.3f})",
        )
    ax.axhline(y_true.mean(), color="grey", ls=":", lw=1, label="no skill")
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
