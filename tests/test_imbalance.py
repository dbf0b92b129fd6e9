"""Tests of the class-imbalance experiment helpers behind notebook 02."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from anomaly_utils.evaluation import RECORD_COLUMNS, RecordBook
from anomaly_utils.imbalance import (
    CREDITCARD_REMEDIES,
    IMBALANCE_LEVELS,
    TF_TUTORIAL_REFERENCE,
    level_name,
    make_imbalanced_splits,
    plot_metrics_by_level,
    plot_pr_curves,
    plot_pr_curves_by_dataset,
    plot_validation_curves,
    remedy_title,
    report_table,
    run_remedy_experiment,
    share_label,
    threshold_metrics,
    tutorial_comparison,
    variant_name,
    variant_title,
)

matplotlib.use("Agg")

FAST_MLP = {
    "hidden_units": (8,),
    "dropout": 0.1,
    "learning_rate": 1e-2,
    "batch_size": 128,
    "epochs": 4,
    "patience": 2,
}
SMALL_LEVELS = {"imbalanced_10pct": 0.10, "imbalanced_5pct": 0.05}


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [
        (0.1, "imbalanced_10pct"),
        (0.01, "imbalanced_1pct"),
        (0.001, "imbalanced_0.1pct"),
    ],
)
def test_level_name_matches_record_names(fraction, expected):
    assert level_name(fraction) == expected
    assert expected in IMBALANCE_LEVELS


@pytest.mark.parametrize("fraction", [0.0, 0.5, -0.1])
def test_level_name_rejects_fraction(fraction):
    with pytest.raises(ValueError, match="fraction must be in"):
        level_name(fraction)


def test_share_label():
    assert share_label(0.001) == "0.1 %"
    assert share_label(0.1) == "10 %"


@pytest.mark.parametrize(
    ("remedy", "name", "title"),
    [
        ("none", "mlp_none", "MLP, no remedy"),
        ("class_weight", "mlp_class_weight", "MLP, class weights"),
        (
            "bias_init+oversample",
            "mlp_oversample_bias_init",
            "MLP, oversampling + output bias init",
        ),
    ],
)
def test_variant_names_and_titles(remedy, name, title):
    assert variant_name(remedy) == name
    assert variant_title(remedy) == title
    assert title.endswith(remedy_title(remedy))


def test_variant_name_rejects_unknown_remedy():
    with pytest.raises(ValueError, match="unknown remedies"):
        variant_name("smote")


def test_tutorial_reference_uses_credit_card_variants():
    for _, remedy, _, value in TF_TUTORIAL_REFERENCE:
        assert remedy in CREDITCARD_REMEDIES
        assert 0.0 < value < 1.0


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def test_imbalanced_splits_shapes_and_shares():
    splits = make_imbalanced_splits(IMBALANCE_LEVELS, 15_000, 0)
    assert list(splits) == list(IMBALANCE_LEVELS)
    for name, fraction in IMBALANCE_LEVELS.items():
        part = splits[name]
        n_rows = part.y_train.size + part.y_val.size + part.y_test.size
        assert n_rows == 15_000
        share = np.concatenate([part.y_train, part.y_val, part.y_test]).mean()
        assert share == pytest.approx(fraction, rel=0.3)
        for labels in (part.y_train, part.y_val, part.y_test):
            assert 0 < labels.sum() < labels.size
        np.testing.assert_allclose(part.X_train.mean(axis=0), 0.0, atol=1e-9)
        assert "synthetic" in part.source_label


def test_imbalanced_splits_repeat_with_seed():
    first = make_imbalanced_splits(SMALL_LEVELS, 2000, 3)
    again = make_imbalanced_splits(SMALL_LEVELS, 2000, 3)
    other = make_imbalanced_splits(SMALL_LEVELS, 2000, 4)
    for name in SMALL_LEVELS:
        np.testing.assert_array_equal(first[name].X_test, again[name].X_test)
        assert not np.array_equal(first[name].X_test, other[name].X_test)


def test_imbalanced_splits_too_few_anomalies():
    with pytest.raises(ValueError, match="every part needs both classes"):
        make_imbalanced_splits({"imbalanced_0.1pct": 0.001}, 2000, 0)


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def experiment():
    book = RecordBook(notebook="02_imbalanced_mlp", profile="quick")
    results = run_remedy_experiment(
        lambda seed: make_imbalanced_splits(SMALL_LEVELS, 1500, seed),
        ["none", "oversample+bias_init"],
        [0, 1],
        FAST_MLP,
        book,
        progress=False,
    )
    return results, book.frame()


def test_experiment_records_every_run(experiment):
    _, records = experiment
    assert list(records.columns) == list(RECORD_COLUMNS)
    assert set(records["model"]) == {"mlp_none", "mlp_oversample_bias_init"}
    assert set(records["dataset"]) == set(SMALL_LEVELS)
    assert set(records["seed"]) == {0, 1}
    assert set(records["setting"]) == {"supervised"}
    assert set(records["data_source"]) == {"synthetic"}
    expected_metrics = {
        "average_precision",
        "roc_auc",
        "macro_f1",
        "precision",
        "recall",
        "f1",
        "precision_at_0.5",
        "recall_at_0.5",
        "val_average_precision",
    }
    assert set(records["metric"]) == expected_metrics
    runs_per_metric = records.groupby("metric").size()
    assert (runs_per_metric == 2 * 2 * 2).all()
    assert records["fit_seconds"].gt(0).all()


def test_experiment_results_hold_scores_and_labels(experiment):
    results, _ = experiment
    assert results.seeds == [0, 1]
    assert results.datasets == list(SMALL_LEVELS)
    for dataset in SMALL_LEVELS:
        for seed in (0, 1):
            labels = results.labels(dataset, seed)
            for remedy, scores in results.scores(dataset, seed).items():
                assert scores.shape == labels.shape
                run = results.run(dataset, remedy, seed)
                assert run.detector.get_params()["imbalance"] == remedy
                assert run.detector.random_state == seed
    # Each seed draws its own data.
    assert not np.array_equal(
        results.labels("imbalanced_10pct", 0), results.labels("imbalanced_10pct", 1)
    )


def test_experiment_learns_the_toy_task(experiment):
    _, records = experiment
    chosen = records[
        (records["metric"] == "average_precision")
        & (records["model"] == "mlp_oversample_bias_init")
    ]
    # A random ranking has AP near the prevalence (0.05 to 0.1).
    assert chosen["value"].mean() > 0.3


def test_missing_run_names_what_exists(experiment):
    results, _ = experiment
    with pytest.raises(
        KeyError, match="remedies \\['none', 'oversample\\+bias_init'\\]"
    ):
        results.run("imbalanced_10pct", "class_weight")


def test_experiment_rejects_fixed_remedy_in_params():
    book = RecordBook(notebook="02_imbalanced_mlp", profile="quick")
    with pytest.raises(ValueError, match="must not set 'imbalance'"):
        run_remedy_experiment(
            dict, ["none"], [0], {"imbalance": "oversample"}, book, progress=False
        )


def test_experiment_rejects_unknown_remedy_before_fitting():
    book = RecordBook(notebook="02_imbalanced_mlp", profile="quick")

    def no_data(seed):
        raise AssertionError("no data should be drawn for an invalid remedy")

    with pytest.raises(ValueError, match="unknown remedies \\['smote'\\]"):
        run_remedy_experiment(no_data, ["smote"], [0], {}, book, progress=False)


def test_threshold_metrics_at_fixed_threshold():
    y_true = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.6, 0.2, 0.7, 0.4])
    metrics = threshold_metrics(y_true, scores, 0.5)
    assert metrics == {"precision_at_0.5": 0.5, "recall_at_0.5": 0.5}


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------


def test_report_table_rows_and_columns(experiment):
    results, _ = experiment
    table = report_table(results)
    assert list(table.index) == [
        (dataset, remedy_title(remedy))
        for dataset in SMALL_LEVELS
        for remedy in ("none", "oversample+bias_init")
    ]
    assert "anomaly recall" in table.columns
    assert "macro F1" in table.columns
    supports = table["normal support"] + table["anomaly support"]
    assert (supports == results.labels("imbalanced_10pct").size).all()


def _records(rows):
    frame = pd.DataFrame(rows, columns=["model", "metric", "value", "seed"])
    frame["dataset"] = "creditcard"
    return frame


def test_tutorial_comparison_computes_mean_and_sd():
    records = _records(
        [
            ("mlp_bias_init", "val_average_precision", 0.70, 0),
            ("mlp_bias_init", "val_average_precision", 0.80, 1),
            ("mlp_bias_init", "precision_at_0.5", 0.90, 0),
        ]
    )
    table = tutorial_comparison(records)
    assert len(table) == len(TF_TUTORIAL_REFERENCE)
    baseline = table[
        (table["TF tutorial model"] == "baseline")
        & (table["metric"] == "val_average_precision")
    ].iloc[0]
    assert baseline["TF tutorial"] == 0.79
    assert baseline["this run, mean"] == pytest.approx(0.75)
    assert baseline["sd"] == pytest.approx(np.std([0.7, 0.8], ddof=1))
    assert baseline["seeds"] == 2


def test_tutorial_comparison_marks_missing_variants():
    records = _records([("mlp_bias_init", "val_average_precision", 0.7, 0)])
    table = tutorial_comparison(records)
    weighted = table[table["TF tutorial model"] == "class weights"].iloc[0]
    assert np.isnan(weighted["this run, mean"])
    assert weighted["seeds"] == 0


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def test_metrics_by_level_draws_one_line_per_model(experiment):
    _, records = experiment
    models = {"mlp_none": "no remedy", "mlp_oversample_bias_init": "combined"}
    fig = plot_metrics_by_level(records, SMALL_LEVELS, models, title="toy")
    assert len(fig.axes) == 2
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels == ["no remedy", "combined"]
    assert fig.axes[0].get_xscale() == "log"
    assert fig._suptitle.get_text() == "toy"


def test_pr_curves_by_dataset_report_average_precision(experiment):
    results, records = experiment
    fig = plot_pr_curves_by_dataset(results, title="curves")
    assert len(fig.axes) == len(SMALL_LEVELS)
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    expected = records[
        (records["metric"] == "average_precision")
        & (records["seed"] == 0)
        & (records["dataset"] == "imbalanced_10pct")
        & (records["model"] == "mlp_none")
    ]["value"].iloc[0]
    assert labels[0] == f"no remedy (AP {expected:.2f})"
    assert labels[-1] == "no skill"


def test_validation_curves_mark_kept_epoch():
    histories = {
        "run a": {"val_average_precision": [0.2, 0.6, 0.5]},
        "run b": {"val_average_precision": [0.1, 0.3, 0.4, 0.35]},
    }
    fig = plot_validation_curves(histories, title="curves")
    ax = fig.axes[0]
    markers = [line for line in ax.get_lines() if line.get_marker() == "o"]
    kept = [(line.get_xdata()[0], line.get_ydata()[0]) for line in markers[:2]]
    assert kept == [(2, 0.6), (3, 0.4)]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["run a", "run b", "kept epoch"]


def test_pr_curves_legend_reports_average_precision():
    y_true = np.array([0, 0, 0, 1, 1, 0])
    scores = {
        "perfect": np.array([0.1, 0.2, 0.3, 0.9, 0.8, 0.0]),
        "reversed": np.array([0.9, 0.8, 0.7, 0.1, 0.2, 1.0]),
    }
    fig = plot_pr_curves(y_true, scores, title="pr")
    labels = [text.get_text() for text in fig.axes[0].get_legend().get_texts()]
    assert labels[0] == "perfect (AP 1.000)"
    assert labels[1].startswith("reversed (AP 0.")
    assert labels[-1] == "no skill"
    assert fig.axes[0].get_title() == "pr"


def test_pr_curves_reject_non_binary_labels():
    with pytest.raises(ValueError, match="only 0 \\(normal\\) and 1"):
        plot_pr_curves(np.array([0, 2]), {"model": np.array([0.1, 0.2])})
