"""Assemble the final comparison from the result records of notebooks 01-04.

Nothing here trains a credit-card model or types a number: every table and
figure is computed from ``results/NN_slug.csv`` files, after checking that
each notebook the comparison needs has written records for the current
profile.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .config import results_dir
from .evaluation import _atomic_write, read_records, summarise
from .models import display_name

logger = logging.getLogger(__name__)

#: Notebooks whose records the comparison needs, with what each contributes.
REQUIRED_NOTEBOOKS = {
    "01_synthetic_autoencoder": "autoencoder and classical detectors on the toy sets",
    "02_imbalanced_mlp": "the supervised MLP on imbalanced and credit-card data",
    "03_creditcard_autoencoder": "autoencoder and classical detectors on credit card",
    "04_deep_q_learning": "the Deep Q-Learning detector",
}

#: Headline metric per kind of dataset: macro F1 on balanced-ish toy sets,
#: average precision where anomalies are rare.
HEADLINE_METRIC = {"toy": "macro_f1", "imbalanced": "average_precision"}

SETTING_COLORS = {
    "supervised": "#55A868",
    "weakly-supervised": "#DD8452",
    "semi-supervised": "#4C72B0",
    "unsupervised": "#8172B3",
}


class MissingResultsError(RuntimeError):
    """A notebook's result records are missing, stale or inconsistent."""


def _rerun_hint(notebook: str, profile: str) -> str:
    number = notebook[:2]
    return (
        f"run notebook {notebook}.ipynb with profile={profile!r} first, e.g. "
        f"`python -m anomaly_utils run {number} --profile {profile}` "
        f"or `make figures PROFILE={profile}`"
    )


def load_suite_records(
    profile: str,
    output_dir=None,
    required: Mapping[str, str] = REQUIRED_NOTEBOOKS,
) -> pd.DataFrame:
    """Read every record file and check the ones the comparison needs.

    Parameters
    ----------
    profile : {"quick", "full"}
        Profile of the current run; records from another profile are stale.
    output_dir : path-like, default=None
        Output root holding ``results/``.
    required : mapping of notebook stem -> description
        Notebooks that must have written records.

    Returns
    -------
    pandas.DataFrame
        All records of ``results/*.csv`` (the summary excluded), in the
        record schema.

    Raises
    ------
    MissingResultsError
        If a required file is missing, empty, written by another profile or
        notebook, or if the credit-card records of different notebooks come
        from different data sources (real and synthetic).
    """
    folder = results_dir(output_dir)
    paths = sorted(folder.glob("[0-9][0-9]_*.csv"))
    present = {path.stem: path for path in paths}
    for notebook, description in required.items():
        if notebook not in present:
            raise MissingResultsError(
                f"results/{notebook}.csv not found in {folder}: it contains "
                f"{description}; {_rerun_hint(notebook, profile)}"
            )
    records = read_records(paths)
    for notebook in required:
        own = records[records["notebook"] == notebook]
        if own.empty:
            raise MissingResultsError(
                f"results/{notebook}.csv has no records of notebook {notebook}; "
                f"{_rerun_hint(notebook, profile)}"
            )
        profiles = sorted(own["profile"].unique())
        if profiles != [profile]:
            raise MissingResultsError(
                f"results/{notebook}.csv is stale: it was written by profile "
                f"{profiles} but this comparison runs profile {profile!r}; "
                f"{_rerun_hint(notebook, profile)}"
            )
    # Only the notebooks of the comparison count (05 adds its own toy-set
    # MLP); notebook 06's benchmark datasets have a figure of their own.
    wanted = set(required) | {"05_final_comparison"}
    records = records[records["notebook"].isin(wanted)]
    records = records[records["profile"] == profile]
    _check_creditcard_sources(records, profile)
    return records.reset_index(drop=True)


def _check_creditcard_sources(records: pd.DataFrame, profile: str) -> None:
    credit = records[records["dataset"] == "creditcard"]
    sources = credit.groupby("notebook")["data_source"].unique()
    distinct = {source for values in sources for source in values}
    if len(distinct) > 1:
        detail = ", ".join(
            f"{notebook}: {'/'.join(values)}" for notebook, values in sources.items()
        )
        raise MissingResultsError(
            "credit-card records mix real and synthetic data "
            f"({detail}); rerun all notebooks with the same data, e.g. "
            f"`make figures PROFILE={profile} CREDITCARD=path/to/creditcard.csv`"
        )


def deduplicate(records: pd.DataFrame) -> pd.DataFrame:
    """Keep each (dataset, model) pair from the lowest-numbered notebook only.

    Notebooks 02 and 04 rerun the autoencoder and Isolation Forest next to
    their own models on the same split; counting those runs twice would
    shrink the standard deviations.
    """
    owner = records.groupby(["dataset", "model"])["notebook"].transform("min")
    return records[records["notebook"] == owner].reset_index(drop=True)


def dataset_kind(dataset: str) -> str:
    """Return ``"toy"``, ``"imbalanced"`` or ``"creditcard"`` for a dataset name."""
    if dataset == "creditcard":
        return "creditcard"
    if dataset.startswith("imbalanced"):
        return "imbalanced"
    return "toy"


def headline_metric(dataset: str) -> str:
    """Return the metric that ranks models on ``dataset``."""
    return HEADLINE_METRIC.get(dataset_kind(dataset), "average_precision")


def ordered_datasets(datasets: Sequence[str]) -> list[str]:
    """Order datasets as toy sets, imbalanced sets, then credit card."""
    from .data import TOY_DATASETS

    order = {"toy": 0, "imbalanced": 1, "creditcard": 2}

    def key(name: str):
        position = TOY_DATASETS.index(name) if name in TOY_DATASETS else 99
        return (order[dataset_kind(name)], position, name)

    return sorted(set(datasets), key=key)


def metric_matrix(
    records: pd.DataFrame, metric: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return mean and standard deviation of ``metric``, models × datasets."""
    chosen = records[records["metric"] == metric]
    if chosen.empty:
        raise ValueError(f"no records for metric {metric!r}")
    stats = summarise(chosen, by=("model", "dataset"))
    mean = stats.pivot(index="model", columns="dataset", values="mean")
    sd = stats.pivot(index="model", columns="dataset", values="sd")
    columns = ordered_datasets(mean.columns)
    return mean[columns], sd[columns]


def plot_metric_heatmap(
    records: pd.DataFrame,
    metric: str = "macro_f1",
    *,
    title: str | None = None,
    dataset_titles: Mapping[str, str] | None = None,
):
    """Draw a models × datasets heatmap of ``metric`` as "mean ± sd" cells."""
    import seaborn as sns

    mean, sd = metric_matrix(records, metric)
    dataset_titles = dataset_titles or {}
    annotations = mean.copy().astype(object)
    for model in mean.index:
        for dataset in mean.columns:
            value = mean.loc[model, dataset]
            annotations.loc[model, dataset] = (
                "" if np.isnan(value) else f"{value:.2f}\n±{sd.loc[model, dataset]:.2f}"
            )
    fig, ax = plt.subplots(
        figsize=(1.25 * mean.shape[1] + 3.0, 0.62 * mean.shape[0] + 1.8)
    )
    sns.heatmap(
        mean,
        annot=annotations.to_numpy(),
        fmt="",
        cmap="viridis",
        vmin=0,
        vmax=1,
        cbar_kws={"label": metric.replace("_", " ")},
        annot_kws={"fontsize": 8},
        ax=ax,
    )
    ax.set_yticklabels([display_name(m) for m in mean.index], rotation=0)
    ax.set_xticklabels(
        [dataset_titles.get(d, d) for d in mean.columns], rotation=35, ha="right"
    )
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_creditcard_metrics(
    records: pd.DataFrame,
    metrics: Sequence[str] = ("average_precision", "roc_auc"),
    *,
    title: str | None = None,
):
    """Draw credit-card test metrics per model with sd error bars over seeds.

    Bars are coloured by how much supervision each model received.
    """
    credit = records[records["dataset"] == "creditcard"]
    if credit.empty:
        raise ValueError("no credit-card records to plot")
    stats = summarise(credit, by=("model", "setting", "metric"))
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.0 * len(metrics), 4.8))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics):
        rows = stats[stats["metric"] == metric].sort_values("mean")
        positions = np.arange(len(rows))
        colors = [SETTING_COLORS.get(s, "grey") for s in rows["setting"]]
        ax.barh(positions, rows["mean"], xerr=rows["sd"], color=colors, capsize=3)
        ax.set_yticks(positions, [display_name(m) for m in rows["model"]])
        ax.set_xlim(0, 1)
        ax.set_xlabel(metric.replace("_", " "))
        # Labels sit inside the bars, left-aligned, so they never collide
        # with the error bars at the bar ends.
        for y, (value, sd, n) in enumerate(zip(rows["mean"], rows["sd"], rows["n"])):
            ax.text(
                0.01,
                y,
                f"{value:.3f} ± {sd:.3f} (n={n})",
                va="center",
                fontsize=8,
                color="white",
            )
    handles = [
        plt.Rectangle((0, 0), 1, 1, color=color, label=setting)
        for setting, color in SETTING_COLORS.items()
        if setting in set(stats["setting"])
    ]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def plot_quality_vs_time(
    records: pd.DataFrame, dataset: str = "creditcard", metric: str | None = None
):
    """Draw mean quality against mean fit seconds per model (log time axis).

    Fit times vary from run to run, so notebooks show this figure without
    saving it.
    """
    metric = metric or headline_metric(dataset)
    chosen = records[(records["dataset"] == dataset) & (records["metric"] == metric)]
    if chosen.empty:
        raise ValueError(f"no {metric} records for dataset {dataset!r}")
    stats = chosen.groupby(["model", "setting"]).agg(
        value=("value", "mean"), seconds=("fit_seconds", "mean")
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for (model, setting), row in stats.iterrows():
        ax.scatter(row["seconds"], row["value"], color=SETTING_COLORS.get(setting))
        ax.annotate(
            display_name(model),
            (row["seconds"], row["value"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    ax.set_xscale("log")
    ax.set_xlabel("mean fit time (s, log scale)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"{dataset}: quality against fit time")
    return fig


def summary_markdown(
    records: pd.DataFrame,
    metrics: Sequence[str] = ("macro_f1", "average_precision", "roc_auc"),
    dataset_titles: Mapping[str, str] | None = None,
    source_labels: Mapping[str, str] | None = None,
) -> str:
    """Return a Markdown summary: per dataset, the best model and every model.

    The best model is the one with the highest mean of the dataset's headline
    metric (macro F1 on toy sets, average precision elsewhere). Cells are
    "mean ± sd (n seeds)".
    """
    dataset_titles = dataset_titles or {}
    source_labels = source_labels or {}
    profiles = sorted(records["profile"].unique())
    lines = [
        "# Summary of the suite's results",
        "",
        "Written by notebook `05_final_comparison` from `results/*.csv` "
        f"(profile: {', '.join(profiles)}). Cells are mean ± sd over seeds; "
        "the best model per dataset has the highest mean of the headline "
        "metric. Do not edit by hand: rerun the notebooks.",
        "",
    ]
    for dataset in ordered_datasets(records["dataset"].unique()):
        subset = records[records["dataset"] == dataset]
        headline = headline_metric(dataset)
        stats = summarise(subset, by=("model", "setting", "metric"))
        if headline not in set(stats["metric"]):
            headline = sorted(stats["metric"].unique())[0]
        best = (
            stats[stats["metric"] == headline]
            .sort_values(["mean", "model"], ascending=[False, True])
            .iloc[0]
        )
        title = dataset_titles.get(dataset, dataset)
        source = source_labels.get(dataset) or "/".join(
            sorted(subset["data_source"].unique())
        )
        lines += [
            f"## {title}",
            "",
            f"Data: {source}. Best by {headline.replace('_', ' ')}: "
            f"**{display_name(best['model'])}** ({best['mean']:.3f} ± "
            f"{best['sd']:.3f}).",
            "",
            "| model | setting | "
            + " | ".join(m.replace("_", " ") for m in metrics)
            + " |",
            "|---|---|" + "---|" * len(metrics),
        ]
        models = (
            stats[stats["metric"] == headline]
            .sort_values(["mean", "model"], ascending=[False, True])[
                ["model", "setting"]
            ]
            .itertuples(index=False)
        )
        for model, setting in models:
            cells = []
            for metric in metrics:
                row = stats[(stats["model"] == model) & (stats["metric"] == metric)]
                cells.append(
                    "–"
                    if row.empty
                    else f"{row['mean'].iloc[0]:.3f} ± {row['sd'].iloc[0]:.3f} "
                    f"({int(row['n'].iloc[0])})"
                )
            lines.append(
                f"| {display_name(model)} | {setting} | " + " | ".join(cells) + " |"
            )
        lines.append("")
    return "\n".join(lines)


def write_summary(text: str, output_dir=None) -> Path:
    """Write ``results/SUMMARY.md`` atomically and return its path."""
    target = results_dir(output_dir) / "SUMMARY.md"
    _atomic_write(target, lambda f: f.write(text))
    logger.info("Wrote %s", target)
    return target


def fit_grand_grid(
    train_sets,
    validation_sets,
    test_sets,
    model_params: Mapping[str, Mapping],
    seed: int,
    book,
) -> tuple[dict, dict]:
    """Fit every model on every toy set once, for the final boundary grid.

    Label-free models are fitted on the training draw without labels; models
    that learn from labels (the MLP) get the training labels and a separate
    validation draw for early stopping and their threshold. Macro F1 is
    measured on the test draw and recorded in ``book``.

    Returns
    -------
    fitted : dict
        ``{model: {dataset: detector}}``.
    panel_f1 : dict
        ``{(model, dataset): macro F1}`` for the panels.
    """
    from .experiments import fit_and_score
    from .models import detector_class

    fitted: dict[str, dict[str, object]] = {model: {} for model in model_params}
    panel_f1: dict[tuple[str, str], float] = {}
    for model, params in model_params.items():
        uses_labels = detector_class(model).uses_labels
        setting = "supervised" if uses_labels else "unsupervised"
        for dataset, (X_train, y_train) in train_sets.items():
            X_test, y_test = test_sets[dataset]
            run = fit_and_score(
                model,
                {**params, "random_state": seed},
                X_train,
                X_test,
                y_test,
                y_train=y_train if uses_labels else None,
                validation_data=validation_sets[dataset] if uses_labels else None,
            )
            fitted[model][dataset] = run.detector
            panel_f1[(model, dataset)] = run.metrics["macro_f1"]
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
    return fitted, panel_f1
