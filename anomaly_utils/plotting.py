"""Every figure of the suite, and the one helper that saves them.

Figures are drawn on the non-interactive Agg canvas when no display is set,
saved through :func:`save_figure` with a fixed dpi and no volatile PNG
metadata, so rerunning a notebook with the same seed rewrites the same file.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import precision_recall_curve, roc_curve

from .config import figures_dir
from .evaluation import _atomic_write, check_binary_labels, confusion

logger = logging.getLogger(__name__)

#: Resolution of every saved figure.
DPI = 110
#: Figure names are ``NN_slug``: two digits, an underscore, lower-case words.
FIGURE_NAME = re.compile(r"^\d{2}_[a-z0-9]+(?:_[a-z0-9]+)*$")

NORMAL_COLOR = "#4C72B0"
ANOMALY_COLOR = "#C44E52"


def save_figure(fig, name: str, output_dir=None, close: bool = True) -> Path:
    """Save ``fig`` as ``figures/<name>.png`` with fixed dpi and no timestamps.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to save. Its size is kept as drawn.
    name : str
        Stable file stem ``NN_slug``, for example ``"03_pr_roc_curves"``.
    output_dir : path-like, default=None
        Output root; see :func:`anomaly_utils.config.output_root`.
    close : bool, default=True
        Close the figure after saving, unless the notebook still shows it.

    Returns
    -------
    pathlib.Path
        The written file. It is written to a temporary file first and
        renamed, so a failed save never leaves a half-written PNG.
    """
    if not FIGURE_NAME.match(name):
        raise ValueError(
            f"figure name {name!r} must look like 'NN_slug' (two digits, an "
            "underscore, lower-case words joined by underscores), e.g. "
            "'03_pr_roc_curves'"
        )
    target = figures_dir(output_dir) / f"{name}.png"
    # PNG metadata: dropping "Software" keeps files identical across
    # matplotlib patch versions; PNGs carry no date by default.
    _atomic_write(
        target,
        lambda f: fig.savefig(f, format="png", dpi=DPI, metadata={"Software": None}),
        mode="wb",
    )
    if close:
        plt.close(fig)
    logger.info("Saved figure %s", target)
    return target


def _grid(n_panels: int, n_cols: int, panel_size=(3.2, 3.0)):
    n_rows = math.ceil(n_panels / n_cols)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        figsize=(panel_size[0] * n_cols, panel_size[1] * n_rows),
        squeeze=False,
    )
    return fig, axes


def plot_decision_grid(
    datasets: Mapping[str, tuple[np.ndarray, np.ndarray]],
    detectors: Mapping[str, Mapping[str, object]],
    scores: Mapping[tuple[str, str], float] | None = None,
    *,
    dataset_titles: Mapping[str, str] | None = None,
    model_titles: Mapping[str, str] | None = None,
    limits: tuple[float, float] = (-7.0, 7.0),
    resolution: int = 150,
    title: str | None = None,
):
    """Draw decision boundaries of fitted 2-D detectors, datasets × models.

    Rows are datasets and columns are models, so every panel of a column
    shares one model and every panel shares the same axes limits.

    Parameters
    ----------
    datasets : mapping of name -> (X, y)
        2-D data with labels (1 = anomaly), drawn as points.
    detectors : mapping of model name -> mapping of dataset name -> detector
        Fitted detectors. The filled region is ``predict == 1`` (anomaly)
        and the black line is the contour ``score_samples == threshold_``.
    scores : mapping of (model, dataset) -> float, default=None
        Macro F1 (or any score) written in the panel corner.
    dataset_titles, model_titles : mapping, default=None
        Display names for row and column labels.
    limits : (float, float), default=(-7, 7)
        Axis limits for both axes.
    resolution : int, default=150
        Grid points per axis for the boundary.
    title : str, default=None
        Figure title (for example the data source).
    """
    dataset_names = list(datasets)
    model_names = list(detectors)
    dataset_titles = dataset_titles or {}
    model_titles = model_titles or {}
    fig, axes = plt.subplots(
        len(dataset_names),
        len(model_names),
        figsize=(2.4 * len(model_names), 2.4 * len(dataset_names)),
        squeeze=False,
        sharex=True,
        sharey=True,
    )
    grid_axis = np.linspace(limits[0], limits[1], resolution)
    xx, yy = np.meshgrid(grid_axis, grid_axis)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    for col, model in enumerate(model_names):
        for row, dataset in enumerate(dataset_names):
            ax = axes[row, col]
            X, y = datasets[dataset]
            detector = detectors[model].get(dataset)
            if detector is not None:
                grid_scores = detector.score_samples(grid).reshape(xx.shape)
                anomalous = (grid_scores >= detector.threshold_).astype(float)
                ax.contourf(xx, yy, anomalous, levels=[0.5, 1.5], colors=["#f2d0d0"])
                if grid_scores.min() < detector.threshold_ < grid_scores.max():
                    ax.contour(
                        xx,
                        yy,
                        grid_scores,
                        levels=[detector.threshold_],
                        colors="black",
                        linewidths=1.2,
                        linestyles="solid",
                    )
            y = check_binary_labels(y)
            ax.scatter(*X[y == 0].T, s=6, c=NORMAL_COLOR, linewidths=0)
            ax.scatter(*X[y == 1].T, s=8, c=ANOMALY_COLOR, marker="x", linewidths=0.8)
            ax.set_xlim(limits)
            ax.set_ylim(limits)
            ax.set_xticks([])
            ax.set_yticks([])
            if scores is not None and (model, dataset) in scores:
                ax.text(
                    0.98,
                    0.02,
                    f"F1 {scores[(model, dataset)]:.2f}",
                    transform=ax.transAxes,
                    ha="right",
                    va="bottom",
                    fontsize=9,
                    bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0},
                )
            if row == 0:
                ax.set_title(model_titles.get(model, model), fontsize=10)
            if col == 0:
                ax.set_ylabel(dataset_titles.get(dataset, dataset), fontsize=10)
    legend_handles = [
        plt.Line2D([], [], marker="o", ls="", color=NORMAL_COLOR, label="normal"),
        plt.Line2D([], [], marker="x", ls="", color=ANOMALY_COLOR, label="anomaly"),
        plt.Rectangle((0, 0), 1, 1, color="#f2d0d0", label="predicted anomaly"),
        plt.Line2D([], [], color="black", label="threshold contour"),
    ]
    fig.legend(
        handles=legend_handles,
        loc="lower center",
        ncol=4 if len(model_names) > 2 else 2,
        frameon=False,
    )
    if title:
        fig.suptitle(title)
    bottom = 0.04 if len(model_names) > 2 else 0.08
    fig.tight_layout(rect=(0, bottom, 1, 0.97 if title else 1))
    return fig


def plot_score_histogram(
    scores,
    y_true,
    threshold: float | None = None,
    *,
    ax=None,
    bins: int = 60,
    xlabel: str = "anomaly score",
    title: str | None = None,
    log_x: bool = True,
):
    """Draw score histograms per class with the decision threshold marked.

    Counts are shown as densities, so the rare class stays visible, and the
    x axis is logarithmic by default (reconstruction errors span decades).
    """
    scores = np.asarray(scores, dtype=float)
    y_true = check_binary_labels(y_true)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    if log_x:
        positive = scores[scores > 0]
        if positive.size == 0:
            raise ValueError("log_x=True needs positive scores; pass log_x=False")
        low = max(positive.min(), 1e-12)
        edges = np.geomspace(low, scores.max() * 1.0001, bins + 1)
        scores = np.clip(scores, low, None)
        ax.set_xscale("log")
    else:
        edges = np.linspace(scores.min(), scores.max(), bins + 1)
    for label, name, color in (
        (0, "normal", NORMAL_COLOR),
        (1, "anomaly", ANOMALY_COLOR),
    ):
        chosen = scores[y_true == label]
        if chosen.size:
            ax.hist(
                chosen,
                bins=edges,
                density=True,
                alpha=0.55,
                color=color,
                label=f"{name} (n={chosen.size:,})",
            )
    if threshold is not None:
        ax.axvline(threshold, color="black", ls="--", lw=1.2, label="threshold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_pr_roc(
    y_true,
    scores_by_model: Mapping[str, np.ndarray],
    *,
    title: str | None = None,
    labels: Mapping[str, str] | None = None,
):
    """Draw precision-recall and ROC curves of several models side by side.

    The legend gives each model's average precision and ROC-AUC, computed
    here from the same scores. The PR panel shows the prevalence as the
    no-skill line.
    """
    from .evaluation import ranking_metrics

    y_true = check_binary_labels(y_true)
    labels = labels or {}
    fig, (ax_pr, ax_roc) = plt.subplots(1, 2, figsize=(11.0, 4.6))
    for model, scores in scores_by_model.items():
        metrics = ranking_metrics(y_true, scores)
        name = labels.get(model, model)
        precision, recall, _ = precision_recall_curve(y_true, scores)
        ax_pr.step(
            recall,
            precision,
            where="post",
            label=f"{name} (AP {metrics['average_precision']:.3f})",
        )
        fpr, tpr, _ = roc_curve(y_true, scores)
        ax_roc.plot(fpr, tpr, label=f"{name} (AUC {metrics['roc_auc']:.3f})")
    prevalence = y_true.mean()
    ax_pr.axhline(prevalence, color="grey", ls=":", lw=1, label="no skill")
    ax_roc.plot([0, 1], [0, 1], color="grey", ls=":", lw=1, label="no skill")
    ax_pr.set(xlabel="recall", ylabel="precision", xlim=(0, 1), ylim=(0, 1.02))
    ax_roc.set(
        xlabel="false positive rate",
        ylabel="true positive rate",
        xlim=(0, 1),
        ylim=(0, 1.02),
    )
    ax_pr.set_title("Precision-recall")
    ax_roc.set_title("ROC")
    ax_pr.legend(fontsize=8, frameon=False, loc="lower left")
    ax_roc.legend(fontsize=8, frameon=False, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion(
    y_true,
    y_pred,
    *,
    ax=None,
    title: str | None = None,
):
    """Draw a 2x2 confusion matrix with counts and row percentages."""
    matrix = confusion(y_true, y_pred)
    if ax is None:
        fig, ax = plt.subplots(figsize=(3.8, 3.4))
    else:
        fig = ax.figure
    row_share = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(row_share, cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            ax.text(
                j,
                i,
                f"{matrix[i, j]:,}\n({row_share[i, j]:.1%})",
                ha="center",
                va="center",
                color="white" if row_share[i, j] > 0.5 else "black",
                fontsize=9,
            )
    ax.set_xticks([0, 1], ["normal", "anomaly"])
    ax.set_yticks([0, 1], ["normal", "anomaly"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def plot_confusion_grid(
    y_true,
    predictions: Mapping[str, np.ndarray],
    *,
    n_cols: int = 4,
    title: str | None = None,
):
    """Draw one confusion matrix per model in a grid."""
    fig, axes = _grid(len(predictions), min(n_cols, len(predictions)), (3.4, 3.2))
    for ax, (name, y_pred) in zip(axes.ravel(), predictions.items()):
        plot_confusion(y_true, y_pred, ax=ax, title=name)
    for ax in axes.ravel()[len(predictions) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training_history(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    *,
    keys: Sequence[str] = ("loss", "val_loss"),
    ylabel: str = "loss",
    log_y: bool = False,
    title: str | None = None,
    ax=None,
):
    """Draw training curves (for example loss and validation loss per epoch).

    Parameters
    ----------
    histories : mapping of run name -> mapping of key -> values per epoch
        For example ``{"seed 0": detector.history_}``.
    keys : sequence of str, default=("loss", "val_loss")
        Which entries of each history to draw; missing keys are skipped.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
    else:
        fig = ax.figure
    styles = {key: style for key, style in zip(keys, ("-", "--", ":", "-."))}
    for index, (run, history) in enumerate(histories.items()):
        color = f"C{index % 10}"
        for key in keys:
            values = history.get(key)
            if values is None or len(values) == 0:
                continue
            epochs = np.arange(1, len(values) + 1)
            ax.plot(epochs, values, styles[key], color=color, label=f"{run} {key}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    if log_y:
        ax.set_yscale("log")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def source_title(text: str, source_label: str | None) -> str:
    """Append the data source to a title, for example "(SYNTHETIC stand-in)"."""
    if not source_label:
        return text
    return f"{text} — {source_label}"
