"""Published reference table, the comparison helpers, and our gap to the source."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from anomaly_utils.benchmark_grid import REFERENCE_HYPERPARAMETERS, run_grid
from anomaly_utils.benchmark_report import (
    average_ranks,
    compare_with_reference,
    large_gaps,
    mean_over_seeds,
    plot_average_ranks,
    plot_metric_heatmaps,
    plot_reference_scatter,
    rank_table,
    reference_summary,
)
from anomaly_utils.reference import (
    REFERENCE_COLUMNS,
    REFERENCE_DETECTORS,
    REGISTRY_TO_REFERENCE,
    load_reference,
    published_for_registry,
    reference_source,
)

# Maximum median |ours - published| ROC-AUC of the faithful rerun.
MAX_MEDIAN_GAP = 0.02
# Seeds of the faithful rerun. The published means average seeds 0-4.
GAP_SEEDS = (0, 1)


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------


def test_reference_table_shape():
    table = load_reference()
    assert list(table.columns) == list(REFERENCE_COLUMNS)
    assert set(table["detector"]) == set(REFERENCE_DETECTORS)
    assert table["dataset"].nunique() == 57
    assert not table.duplicated(["dataset", "detector"]).any()
    assert table.groupby("dataset").size().eq(len(REFERENCE_DETECTORS)).all()


def test_reference_values_are_fractions():
    table = load_reference()
    assert table["roc_auc_mean"].between(0.0, 1.0).all()
    assert table["roc_auc_sd"].between(0.0, 0.5).all()


def test_reference_source_named():
    text = reference_source()
    assert "On Diffusion Modeling for Anomaly Detection" in text
    assert "vicliv/DTE" in text
    assert "semi-supervised" in text


def test_published_for_registry_maps_names():
    published = published_for_registry(["isolation_forest", "mlp"])
    assert set(published["model"]) == {"isolation_forest"}
    assert set(published["reference"]) == {"IForest"}
    cardio = published.loc[published["dataset"] == "cardio", "published"]
    table = load_reference()
    expected = table.loc[
        (table["dataset"] == "cardio") & (table["detector"] == "IForest"),
        "roc_auc_mean",
    ]
    assert cardio.tolist() == expected.tolist()


def test_registry_mapping_targets_table():
    assert set(REGISTRY_TO_REFERENCE.values()) <= set(REFERENCE_DETECTORS)


@pytest.mark.realdata
def test_reference_matches_published_file(shared_data_dir):
    source = shared_data_dir / "reference" / "dte_rocauc_semisupervised.csv"
    if not source.is_file():
        pytest.skip(f"{source} not found")
    original = pd.read_csv(source)
    original = original[original["detector"].isin(REFERENCE_DETECTORS)]
    ours = load_reference()
    merged = original.merge(ours, on=["dataset", "detector"], suffixes=("_src", ""))
    assert len(merged) == len(ours) == len(original)
    np.testing.assert_array_equal(merged["roc_auc_mean"], merged["roc_auc_mean_src"])
    np.testing.assert_array_equal(merged["roc_auc_sd"], merged["roc_auc_sd_src"])


# --------------------------------------------------------------------------
# Comparison helpers, on hand-made records
# --------------------------------------------------------------------------


def _records(values):
    """Return records from {(dataset, model): [ROC-AUC per seed]}; AP is half of it."""
    rows = []
    for (dataset, model), per_seed in values.items():
        for seed, value in enumerate(per_seed):
            for metric, scale in (("roc_auc", 1.0), ("average_precision", 0.5)):
                rows.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "seed": seed,
                        "metric": metric,
                        "value": value * scale,
                    }
                )
    return pd.DataFrame(rows)


def _published(dataset, detector):
    table = load_reference()
    chosen = table[(table["dataset"] == dataset) & (table["detector"] == detector)]
    return float(chosen["roc_auc_mean"].iloc[0])


HAND_MADE = {
    ("cardio", "isolation_forest"): [0.90, 0.92],
    ("cardio", "lof"): [0.80, 0.80],
    ("cardio", "dql"): [0.70, 0.70],
    ("glass", "isolation_forest"): [0.60, 0.60],
    ("glass", "lof"): [0.60, 0.60],
    ("glass", "dql"): [0.90, 0.90],
    ("not_published", "isolation_forest"): [0.5, 0.5],
    ("not_published", "lof"): [0.5, 0.5],
    ("not_published", "dql"): [0.5, 0.5],
}


def test_mean_over_seeds_table():
    table = mean_over_seeds(_records(HAND_MADE), "roc_auc")
    assert table.loc["cardio", "isolation_forest"] == pytest.approx(0.91)
    assert table.shape == (3, 3)


def test_mean_over_seeds_unknown_metric():
    with pytest.raises(ValueError, match="no records for metric 'f1'"):
        mean_over_seeds(_records(HAND_MADE), "f1")


def test_average_ranks_with_ties():
    ranks = average_ranks(_records(HAND_MADE), "roc_auc")
    # cardio: IF 1, LOF 2, DQL 3; glass: DQL 1, IF and LOF tie at 2.5;
    # not_published: all tie at 2.
    assert ranks["isolation_forest"] == pytest.approx((1 + 2.5 + 2) / 3)
    assert ranks["lof"] == pytest.approx((2 + 2.5 + 2) / 3)
    assert ranks["dql"] == pytest.approx((3 + 1 + 2) / 3)
    assert list(ranks.index) == ["isolation_forest", "dql", "lof"]


def test_rank_table_both_metrics():
    table = rank_table(_records(HAND_MADE))
    assert list(table.columns) == ["ROC-AUC", "Average precision"]
    assert table.loc["dql", "ROC-AUC"] == pytest.approx(2.0)


def test_compare_with_reference_pairs():
    comparison = compare_with_reference(_records(HAND_MADE))
    # DQL has no published counterpart, not_published no reference row.
    assert set(comparison["model"]) == {"isolation_forest", "lof"}
    assert set(comparison["dataset"]) == {"cardio", "glass"}
    row = comparison[
        (comparison["dataset"] == "cardio")
        & (comparison["model"] == "isolation_forest")
    ].iloc[0]
    assert row["ours"] == pytest.approx(0.91)
    assert row["n_seeds"] == 2
    assert row["published"] == _published("cardio", "IForest")
    assert row["gap"] == pytest.approx(0.91 - _published("cardio", "IForest"))


def test_reference_summary_and_large_gaps():
    comparison = compare_with_reference(_records(HAND_MADE))
    summary = reference_summary(comparison, threshold=0.05)
    expected_if = [0.91 - _published("cardio", "IForest")]
    expected_if.append(0.60 - _published("glass", "IForest"))
    assert summary.loc["isolation_forest", "n_datasets"] == 2
    assert summary.loc["isolation_forest", "median_abs_gap"] == pytest.approx(
        np.median(np.abs(expected_if))
    )
    gaps = large_gaps(comparison, threshold=0.05)
    assert (gaps["abs_gap"] > 0.05).all()
    assert summary["n_large_gaps"].sum() == len(gaps)


def test_figures_draw(tmp_path):
    records = _records(HAND_MADE)
    comparison = compare_with_reference(records)
    figures = [
        plot_metric_heatmaps(records, title="hand-made"),
        plot_average_ranks(rank_table(records), title="hand-made"),
        plot_reference_scatter(comparison),
    ]
    for figure in figures:
        assert figure.axes
        figure.savefig(tmp_path / "figure.png")
        plt.close(figure)


def test_scatter_without_pairs_rejected():
    comparison = compare_with_reference(_records({("cardio", "dql"): [0.5]}))
    with pytest.raises(ValueError, match="comparison is empty"):
        plot_reference_scatter(comparison)


# --------------------------------------------------------------------------
# Our rerun against the published numbers
# --------------------------------------------------------------------------


@pytest.mark.realdata
def test_faithful_rerun_gap(shared_data_dir, tmp_path):
    from anomaly_utils.data.benchmark import load_benchmark_folder

    folder = shared_data_dir / "adbench"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    datasets = load_benchmark_folder(folder)
    detectors = ["isolation_forest", "ocsvm"]
    result = run_grid(
        datasets,
        detectors,
        GAP_SEEDS,
        cells_dir=tmp_path,
        detector_params={name: REFERENCE_HYPERPARAMETERS[name] for name in detectors},
        n_jobs=2,
        progress=False,
    )
    summary = reference_summary(compare_with_reference(result.records))
    assert summary.loc["isolation_forest", "n_datasets"] == len(datasets)
    assert summary.loc["ocsvm", "n_datasets"] == len(datasets)
    assert summary.loc["isolation_forest", "median_abs_gap"] <= MAX_MEDIAN_GAP
    assert summary.loc["ocsvm", "median_abs_gap"] <= MAX_MEDIAN_GAP
