"""Tables and figures of the benchmark grid, and the comparison with published numbers.

The functions take the tidy records of
:func:`anomaly_utils.benchmark_grid.run_grid` (one row per dataset, model,
seed and metric). ROC-AUC and average precision are higher for better
detectors; ranks are 1 for the best detector of a dataset.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .models import display_name
from .reference import REFERENCE_SOURCE, published_for_registry

logger = logging.getLogger(__name__)

#: Absolute ROC-AUC gap to the published value above which a (dataset,
#: detector) pair is listed and discussed.
GAP_THRESHOLD = 0.05
#: Metric names of the records -> axis and title labels.
METRIC_LABELS = {"roc_auc": "ROC-AUC", "average_precision": "Average precision"}


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def mean_over_seeds(records: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Return a datasets x models table of one metric, averaged over seeds.

    Parameters
    ----------
    records : pandas.DataFrame
        Tidy records with columns ``dataset``, ``model``, ``metric`` and
        ``value``.
    metric : str
        ``"roc_auc"`` or ``"average_precision"``.
    """
    chosen = records[records["metric"] == metric]
    if chosen.empty:
        raise ValueError(
            f"no records for metric {metric!r}; available metrics: "
            f"{sorted(records['metric'].unique())}"
        )
    table = chosen.pivot_table(
        index="dataset", columns="model", values="value", aggfunc="mean"
    )
    table.columns.name = None
    table.index.name = "dataset"
    return table


def average_ranks(records: pd.DataFrame, metric: str = "roc_auc") -> pd.Series:
    """Return each model's rank averaged over datasets, best (lowest) first.

    On every dataset, the models are ranked by their mean ``metric`` over
    seeds: rank 1 is the highest value, and tied models share the average of
    their ranks. Only datasets on which every model ran are used.
    """
    table = mean_over_seeds(records, metric).dropna()
    ranks = table.rank(axis=1, ascending=False, method="average")
    return ranks.mean(axis=0).sort_values().rename(f"average rank ({metric})")


def rank_table(records: pd.DataFrame) -> pd.DataFrame:
    """Return the average ranks by ROC-AUC and by average precision, per model."""
    columns = {
        METRIC_LABELS[metric]: average_ranks(records, metric)
        for metric in ("roc_auc", "average_precision")
    }
    table = pd.DataFrame(columns).sort_values(METRIC_LABELS["roc_auc"])
    table.index.name = "model"
    return table


def compare_with_reference(records: pd.DataFrame) -> pd.DataFrame:
    """Pair our ROC-AUC with the published one for every (dataset, model).

    Only models with a published counterpart (see
    ``anomaly_utils.reference.REGISTRY_TO_REFERENCE``) and datasets present
    in both are kept.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``model``, ``reference`` (published detector),
        ``ours`` and ``ours_sd`` (mean and standard deviation over seeds),
        ``n_seeds``, ``published``, ``published_sd``, ``gap`` (ours minus
        published) and ``abs_gap``.
    """
    chosen = records[records["metric"] == "roc_auc"]
    ours = (
        chosen.groupby(["dataset", "model"])["value"]
        .agg(ours="mean", ours_sd="std", n_seeds="count")
        .reset_index()
    )
    ours["ours_sd"] = ours["ours_sd"].fillna(0.0)
    published = published_for_registry(ours["model"].unique())
    paired = ours.merge(published, on=["dataset", "model"], how="inner")
    paired["gap"] = paired["ours"] - paired["published"]
    paired["abs_gap"] = paired["gap"].abs()
    columns = [
        "dataset",
        "model",
        "reference",
        "ours",
        "ours_sd",
        "n_seeds",
        "published",
        "published_sd",
        "gap",
        "abs_gap",
    ]
    return paired.loc[:, columns].sort_values(["model", "dataset"], ignore_index=True)


def reference_summary(
    comparison: pd.DataFrame, threshold: float = GAP_THRESHOLD
) -> pd.DataFrame:
    """Return, per model, mean ROC-AUC ours vs published and the gap statistics.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Output of :func:`compare_with_reference`.
    threshold : float, default=0.05
        Gaps with an absolute value above it are counted in ``n_large_gaps``.

    Returns
    -------
    pandas.DataFrame
        Indexed by model, with columns ``reference``, ``n_datasets``,
        ``ours_mean``, ``published_mean``, ``median_abs_gap`` and
        ``n_large_gaps``.
    """
    grouped = comparison.groupby("model")
    summary = pd.DataFrame(
        {
            "reference": grouped["reference"].first(),
            "n_datasets": grouped["dataset"].count(),
            "ours_mean": grouped["ours"].mean(),
            "published_mean": grouped["published"].mean(),
            "median_abs_gap": grouped["abs_gap"].median(),
            "n_large_gaps": grouped["abs_gap"].agg(
                lambda gaps: int((gaps > threshold).sum())
            ),
        }
    )
    return summary


def large_gaps(
    comparison: pd.DataFrame, threshold: float = GAP_THRESHOLD
) -> pd.DataFrame:
    """Return the (dataset, model) pairs whose absolute gap exceeds ``threshold``.

    Rows are sorted by model, then by decreasing absolute gap.
    """
    chosen = comparison[comparison["abs_gap"] > threshold]
    return chosen.sort_values(
        ["model", "abs_gap"], ascending=[True, False], ignore_index=True
    )


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def plot_metric_heatmaps(
    records: pd.DataFrame,
    metrics: Sequence[str] = ("roc_auc", "average_precision"),
    title: str | None = None,
):
    """Draw one annotated datasets x detectors heatmap per metric.

    Cells show the mean over seeds with two decimals, on a shared colour
    scale from 0 to 1 (brighter = higher = better).

    Returns
    -------
    matplotlib.figure.Figure
    """
    tables = [mean_over_seeds(records, metric) for metric in metrics]
    n_rows, n_cols = tables[0].shape
    fig, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(max(4.0, 0.85 * n_cols + 2.2) * len(metrics), 0.36 * n_rows + 2.4),
        squeeze=False,
    )
    for ax, metric, table in zip(axes[0], metrics, tables):
        image = ax.imshow(
            table.to_numpy(), vmin=0.0, vmax=1.0, cmap="viridis", aspect="auto"
        )
        ax.set_xticks(range(table.shape[1]))
        ax.set_xticklabels(
            [display_name(name) for name in table.columns],
            rotation=35,
            ha="right",
            fontsize=8,
        )
        ax.set_yticks(range(table.shape[0]))
        ax.set_yticklabels(table.index, fontsize=8)
        values = table.to_numpy()
        for row in range(values.shape[0]):
            for col in range(values.shape[1]):
                value = values[row, col]
                if np.isnan(value):
                    continue
                ax.text(
                    col,
                    row,
                    f"{value:.2f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="black" if value > 0.6 else "white",
                )
        ax.set_title(METRIC_LABELS.get(metric, metric))
        ax.set_xlabel("detector")
        ax.set_ylabel("dataset")
        fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_average_ranks(rank_frame: pd.DataFrame, title: str | None = None):
    """Draw a horizontal bar per detector and metric of its average rank.

    Parameters
    ----------
    rank_frame : pandas.DataFrame
        Output of :func:`rank_table`: models as index, one column per metric.

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_models = rank_frame.shape[0]
    fig, ax = plt.subplots(figsize=(6.5, 0.55 * n_models + 1.6))
    positions = np.arange(n_models)
    height = 0.8 / rank_frame.shape[1]
    for offset, column in enumerate(rank_frame.columns):
        ax.barh(
            positions + (offset - (rank_frame.shape[1] - 1) / 2) * height,
            rank_frame[column].to_numpy(),
            height=height,
            label=column,
        )
    ax.set_yticks(positions)
    ax.set_yticklabels([display_name(name) for name in rank_frame.index])
    ax.invert_yaxis()
    ax.set_xlabel("average rank over datasets (1 = best)")
    ax.set_xlim(0, n_models + 0.5)
    # Rows are sorted best first, so the short bars leave the top right free.
    ax.legend(frameon=False, fontsize=8, loc="upper right")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_reference_scatter(
    comparison: pd.DataFrame,
    threshold: float = GAP_THRESHOLD,
    title: str | None = None,
):
    """Draw our ROC-AUC against the published one, one panel per detector.

    Each point is a dataset (mean over seeds). The diagonal is y = x, the
    shaded band is ``|gap| <= threshold``, and datasets outside the band are
    labelled.

    Parameters
    ----------
    comparison : pandas.DataFrame
        Output of :func:`compare_with_reference`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    models = list(dict.fromkeys(comparison["model"]))
    if not models:
        raise ValueError(
            "the comparison is empty: no detector of the records has a published "
            "counterpart on these datasets"
        )
    n_cols = min(2, len(models))
    n_rows = int(np.ceil(len(models) / n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(4.6 * n_cols, 4.4 * n_rows), squeeze=False
    )
    # One shared axis range for all panels, from a round value below the
    # lowest point up to 1.
    lowest = float(np.nanmin(comparison[["ours", "published"]].to_numpy()))
    low = max(0.0, np.floor(lowest * 10.0) / 10.0 - 0.05)
    line = np.array([0.0, 1.0])
    for ax, model in zip(axes.flat, models):
        rows = comparison[comparison["model"] == model]
        ax.fill_between(
            line,
            line - threshold,
            line + threshold,
            color="0.88",
            label=f"|gap| <= {threshold:g}",
        )
        ax.plot(line, line, color="0.35", linewidth=1, label="y = x")
        far = rows["abs_gap"] > threshold
        ax.scatter(
            rows.loc[~far, "published"],
            rows.loc[~far, "ours"],
            s=22,
            color="#4C72B0",
            label="dataset",
        )
        ax.scatter(
            rows.loc[far, "published"],
            rows.loc[far, "ours"],
            s=30,
            color="#C44E52",
            marker="D",
            label=f"dataset, |gap| > {threshold:g}",
        )
        _label_points(ax, rows[far])
        reference = rows["reference"].iloc[0]
        ax.set_title(f"{display_name(model)} vs published {reference}", fontsize=10)
        ax.set_xlabel(f"published ROC-AUC ({reference})")
        ax.set_ylabel("our ROC-AUC")
        ax.set_xlim(low, 1.02)
        ax.set_ylim(low, 1.02)
        ax.set_aspect("equal")
    for ax in axes.flat[len(models) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False, fontsize=8)
    fig.suptitle(title or f"Ours vs published: {REFERENCE_SOURCE}", fontsize=9)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _label_points(ax, rows: pd.DataFrame) -> None:
    """Label points by dataset, moving a label down when a neighbour is close."""
    placed: list[tuple[float, float, int]] = []
    for _, row in rows.sort_values("ours", ascending=False).iterrows():
        x, y = row["published"], row["ours"]
        # Slot k puts the label k lines below its point; take the first slot
        # that no nearby label uses.
        used = {
            slot
            for other_x, other_y, slot in placed
            if abs(other_x - x) < 0.12 and abs(other_y - y) < 0.05
        }
        slot = next(k for k in range(len(placed) + 1) if k not in used)
        placed.append((x, y, slot))
        arrow = {"arrowstyle": "-", "color": "0.5", "linewidth": 0.5}
        ax.annotate(
            row["dataset"],
            (x, y),
            xytext=(5, -3 - 9 * slot),
            textcoords="offset points",
            fontsize=7,
            arrowprops=arrow if slot else None,
        )
